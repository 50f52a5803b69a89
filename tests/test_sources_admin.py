"""`regwatch sources add|check|enable|disable|remove` against a loopback site and a real
config file: discovery, preview, edits that keep comments, and bad input leaving it untouched."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from regwatch import config
from regwatch.cli import main
from tests.conftest import LocalSite

CONFIG = """# regwatch settings — a comment that must survive
[database]
url = "sqlite:///r.db"  # beside this file

[fetch]
allow_networks = ["127.0.0.0/8"]
per_host_delay = 0.0

[[sources]]
# the existing feed, with its own comment
name = "old"
url = "https://old.example/rss"
country = "kz"
"""
FEED = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Минцифры</title>
<item><title>Законопроект об искусственном интеллекте</title><link>__BASE__/n/1</link>
<description>Министерство цифрового развития внесло в Мажилис законопроект об искусственном
интеллекте и цифровой безопасности.</description></item>
<item><title>Погода</title><link>__BASE__/n/2</link><description>Солнечно.</description></item>
</channel></rss>"""
PAGE = """<html lang="ru"><head><title>Минцифры</title>
<link rel="alternate" type="application/rss+xml" title="Новости" href="/rss.xml">
<link rel="alternate" type="application/atom+xml" href="/atom.xml"></head><body>x</body></html>"""


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def run(cfg: Path, *args: str) -> int:
    return main(["--config", str(cfg), "sources", *args])


def test_add_discovers_the_feed_previews_and_keeps_the_file(
    cfg: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site.add("/", PAGE)
    site.add("/rss.xml", FEED, content_type="application/rss+xml")
    before = cfg.read_text(encoding="utf-8")
    assert (
        run(cfg, "add", site.base + "/", "--name", "kz-mdai", "--country", "kz", "--dry-run") == 0
    )
    out = capsys.readouterr().out
    assert f"rss at {site.base}/rss.xml" in out and "1 more" in out
    assert "items: 2 (languages: ru 2)" in out and "Законопроект об искусственном" in out
    assert "draft_instrument" in out
    assert cfg.read_text(encoding="utf-8") == before  # --dry-run changes nothing
    assert (
        run(
            cfg,
            "add",
            site.base + "/",
            "--name",
            "kz-mdai",
            "--country",
            "kz",
            "--tier",
            "official",
        )
        == 0
    )
    after = cfg.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip())  # comments and layout kept
    [old, new] = tomllib.loads(after)["sources"]
    assert old["name"] == "old" and "# the existing feed" in after
    assert new == {
        "name": "kz-mdai",
        "url": f"{site.base}/rss.xml",
        "type": "rss",
        "country": "kz",
        "languages": ["ru"],
        "tier": "official",
    }
    assert config.load(cfg).source("kz-mdai").tier == "official"


def test_add_a_sitemap(cfg: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]) -> None:
    site.add(
        "/sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>__BASE__/a/1</loc></url></urlset>",
        content_type="application/xml",
    )
    body = "Министерство цифрового развития опубликовало проект закона об ИИ. " * 4
    site.add("/a/1", f"<html><body><article><h1>Проект</h1><p>{body}</p></article></body></html>")
    assert (
        run(
            cfg,
            "add",
            site.base + "/sitemap.xml",
            "--name",
            "sm",
            "--lang",
            "ru",
            "--interval",
            "120",
        )
        == 0
    )
    assert "items: 1" in capsys.readouterr().out
    sm = config.load(cfg).source("sm")
    assert (sm.type, sm.interval_minutes, sm.languages) == ("sitemap", 120, ("ru",))


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--lang", "fr"], 2, "--lang 'fr'"),
        (["--country", "ru"], 2, "--country must be one of"),
        (["--name", "old"], 2, "a source named 'old' exists"),
        (["--name", "Bad Name!"], 2, "name must be lowercase"),
    ],
)
def test_bad_options_leave_the_config_untouched(
    cfg: Path,
    site: LocalSite,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    site.add("/rss.xml", FEED, content_type="application/rss+xml")
    before = cfg.read_text(encoding="utf-8")
    assert run(cfg, "add", site.base + "/rss.xml", *args) == code
    assert message in capsys.readouterr().err
    assert cfg.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/plain", "HTML page without a readable feed"),
        ("/missing", "HTTP 404"),
        ("/broken-link", "none readable"),
    ],
)
def test_bad_urls_leave_the_config_untouched(
    cfg: Path, site: LocalSite, capsys: pytest.CaptureFixture[str], path: str, message: str
) -> None:
    site.add("/plain", "<html><body><p>no feed here</p></body></html>")
    site.add("/broken-link", PAGE.replace("/atom.xml", "/gone.xml"))
    before = cfg.read_text(encoding="utf-8")
    assert run(cfg, "add", site.base + path, "--name", "x") == 1
    assert message in capsys.readouterr().err
    assert cfg.read_text(encoding="utf-8") == before


def test_disable_enable_remove_and_check(
    cfg: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site.add("/rss.xml", FEED, content_type="application/rss+xml")
    with cfg.open("a", encoding="utf-8") as f:
        f.write(f'\n[[sources]]\n# second\nname = "new"\nurl = "{site.base}/rss.xml"\n')
    assert run(cfg, "disable", "new") == 0
    assert config.load(cfg).source("new").enabled is False
    assert run(cfg, "enable", "new") == 0
    assert config.load(cfg).source("new").enabled is True
    assert run(cfg, "check", "new") == 0
    assert "items: 2" in capsys.readouterr().out
    assert run(cfg, "remove", "old") == 0
    text = cfg.read_text(encoding="utf-8")
    assert [s.name for s in config.load(cfg).sources] == ["new"]
    assert "a comment that must survive" in text and "# second" in text
    assert "the existing feed" not in text
    assert run(cfg, "remove", "nope") == 2
    assert "no source named 'nope'" in capsys.readouterr().err
    assert cfg.read_text(encoding="utf-8") == text


def test_config_check_names_an_unknown_site_spider(
    cfg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with cfg.open("a", encoding="utf-8") as f:
        f.write(
            '\n[[sources]]\nname = "portal"\nurl = "https://p.example/list"\ntype = "html"\n'
            'link_selector = "a"\nspider = "no-such-site"\n'
        )
    assert main(["--config", str(cfg), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert "'portal'" in err and "no spider named 'no-such-site'" in err


def test_add_a_page_without_feed_finds_the_sitemap_in_robots_txt(
    cfg: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site.add("/home", "<html lang='ru'><body><p>Портал</p></body></html>")
    site.add("/robots.txt", "User-agent: *\nSitemap: __BASE__/sm.xml\n", content_type="text/plain")
    site.add(
        "/sm.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>__BASE__/a/1</loc></url></urlset>",
        content_type="application/xml",
    )
    body = "Министерство цифрового развития опубликовало проект закона об ИИ. " * 4
    site.add("/a/1", f"<html><body><article><h1>Проект</h1><p>{body}</p></article></body></html>")
    assert run(cfg, "add", site.base + "/home", "--name", "portal") == 0
    assert f"sitemap at {site.base}/sm.xml" in capsys.readouterr().out
    assert config.load(cfg).source("portal").type == "sitemap"


def test_edits_keep_the_file_mode_and_write_through_a_symlink(cfg: Path, tmp_path: Path) -> None:
    cfg.chmod(0o600)
    link = tmp_path / "linked.toml"
    link.symlink_to(cfg)
    with cfg.open("a", encoding="utf-8") as f:
        f.write('\n[[sources]]\nname = "new"\nurl = "https://example.org/rss"\n')
    assert run(link, "disable", "new") == 0
    assert link.is_symlink() and config.load(cfg).source("new").enabled is False
    assert cfg.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("url", "name", "expected"),
    [
        ("http://reader:s3cr3t@127.0.0.1:1/feed", "x", "carries credentials"),
        ("http://127.0.0.1:8888\\@example.org/", "x", "parsers read differently"),
        ("__BASE__/rss.xml", "Bad Name", "--name must be lowercase"),
    ],
)
def test_add_refuses_before_fetching_anything(
    cfg: Path,
    site: LocalSite,
    capsys: pytest.CaptureFixture[str],
    url: str,
    name: str,
    expected: str,
) -> None:
    before = cfg.read_text(encoding="utf-8")
    url = url.replace("__BASE__", site.base)
    assert run(cfg, "add", url, "--name", name, "--dry-run") == 2
    err = capsys.readouterr().err
    assert expected in err and "s3cr3t" not in err
    assert site.hits == [] and cfg.read_text(encoding="utf-8") == before


def test_dry_run_applies_the_checks_of_the_real_add(
    cfg: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    """A page announcing its feed at a URL with a space: the URL found would be written as is;
    the dry run refuses it as the real add does."""
    site.add("/", PAGE.replace('href="/rss.xml"', 'href="/rss feed.xml"'))
    site.add("/rss%20feed.xml", FEED, content_type="application/rss+xml")
    before = cfg.read_text(encoding="utf-8")
    for dry in (["--dry-run"], []):
        assert run(cfg, "add", site.base + "/", "--name", "spaced", *dry) != 0
        err = capsys.readouterr().err
        assert "parsers read differently" in err and "nothing was changed" in err
    assert cfg.read_text(encoding="utf-8") == before


def test_a_source_behind_basic_auth_is_collected_and_its_secret_never_shown(
    cfg: Path,
    site: LocalSite,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import base64

    expected = "Basic " + base64.b64encode(b"reader:s3cr3t-pw").decode()
    data = FEED.replace("__BASE__", site.base).encode()

    def feed(headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if headers.get("authorization") != expected:
            return 401, {"WWW-Authenticate": 'Basic realm="feed"'}, b"who are you?"
        return 200, {"Content-Type": "application/rss+xml"}, data

    site.routes["/private.xml"] = feed
    cfg.write_text(
        CONFIG.split("[[sources]]")[0]
        + f'[[sources]]\nname = "priv"\nurl = "{site.base}/private.xml"\ncountry = "kz"\n'
        'auth_env = "PRIV_FEED_AUTH"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PRIV_FEED_AUTH", "reader:s3cr3t-pw")
    assert main(["--config", str(cfg), "-v", "collect"]) == 0
    out = capsys.readouterr()
    assert "2 new" in out.out
    shown = out.out + out.err + caplog.text
    assert "s3cr3t" not in shown and base64.b64encode(b"reader:s3cr3t-pw").decode() not in shown
    monkeypatch.delenv("PRIV_FEED_AUTH")
    assert main(["--config", str(cfg), "collect"]) != 0  # named but unset: a ConfigError
    assert "PRIV_FEED_AUTH, which is not set" in capsys.readouterr().err
