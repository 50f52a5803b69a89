from __future__ import annotations

import re
from pathlib import Path

import pytest

from regwatch import config
from regwatch.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(body, encoding="utf-8")
    return p


def test_bundled_config_loads() -> None:
    s = config.load(ROOT / "config.toml", env={})
    assert s.sources, "the default config ships real sources"
    assert s.database.url.startswith("sqlite:////")  # resolved against the file's folder
    assert all(src.url.startswith("https://") for src in s.sources)


def test_every_setting_is_documented_in_config_toml() -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for key, (_default, help_text) in config.documented_keys().items():
        section, name = key.split(".")
        assert help_text
        if section in ("sources", "subscriptions"):
            assert re.search(rf"^#\s+{name}\b", text, re.M), f"{key} not described in the header"
            continue
        start = lines.index(f"[{section}]")
        idx = next(i for i in range(start, len(lines)) if lines[i].startswith(f"{name} ="))
        assert lines[idx - 1].startswith("#"), f"{key} has no comment above it"


def test_defaults_in_config_toml_match_the_code(tmp_path: Path) -> None:
    s = config.load(ROOT / "config.toml", env={})
    empty = config.load(write(tmp_path, ""), env={})
    for section in ("fetch", "nlp", "digest", "smtp", "delivery", "service", "web"):
        assert getattr(s, section) == getattr(empty, section)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[fetch]\ntimout = 3\n", r"unknown key 'fetch\.timout'; did you mean 'timeout'"),
        ('[fetch]\ntimeout = "soon"\n', r"fetch\.timeout must be a number"),
        ("[fetch]\nallow_private_networks = true\n", r"replaced by fetch\.allow_networks"),
        ('[fetch]\nallow_networks = ["localhost"]\n', r"fetch\.allow_networks: 'localhost' is not"),
        ('[fetch]\nallow_networks = ["10.0.0.1/8"]\n', r"CIDR form"),
        ('[[sources]]\nname = "a"\n', r"sources\[0\]\.url is missing"),
        ('[[sources]]\nname = "a"\nurl = "ftp://x"\n', r"must start with http"),
        ('[[sources]]\nname = "a"\nurl = "https://x"\ntier = "gossip"\n', r"tier must be one of"),
        ('[[sources]]\nname = "a"\nurl = "https://x"\ntype = "html"\n', r"no link_selector"),
        (
            '[[sources]]\nname = "a"\nurl = "https://x"\n[[sources]]\nname = "a"\n'
            'url = "https://y"\n',
            r"used twice",
        ),
        ('[database]\nurl = "postgresql+psycopg://u:secret@h/db"\n', r"carries a password"),
        ('[database]\npassword_env = "NOT_SET_ANYWHERE"\n', r"NOT_SET_ANYWHERE, which is not set"),
        ("nonsense = [\n", r"not valid TOML"),
        ('[[sources]]\nname = "a"\nurl = "https://[x/"\n', r"is not a valid URL"),
        (
            '[[sources]]\nname = "a"\nurl = "http://127.0.0.1:8888\\\\@example.org/"\n',
            r"url contains '\\\\' .* parsers read differently",
        ),
        ('[[sources]]\nname = "a"\nurl = "https://x/a b"\n', r"url contains ' '"),
        ('[[sources]]\nname = "a"\nurl = "https://x/\\u0007"\n', r"url contains '\\x07'"),
        (
            f'[[sources]]\nname = "a"\nurl = "https://x/{"a" * 2040}"\n',
            r"url is 2050 characters long, over the 2048",
        ),
        (
            '[[sources]]\nname = "a"\nurl = "https://x/"\ntype = "html"\nlink_selector = "a[[["\n',
            r"link_selector 'a\[\[\[' is not a valid CSS selector",
        ),
        (
            '[[sources]]\nname = "a"\nurl = "https://x/"\ntype = "html"\nlink_selector = "a"\n'
            'next_selector = "li >> a"\n',
            r"next_selector .* is not a valid CSS selector",
        ),
        ('[[sources]]\nname = "a"\nurl = "https://x/"\ndeny = ["(oops"]\n', r"not a valid regex"),
        ('[[sources]]\nname = "a"\nurl = "https://x/"\nauth_env = "secret"\n', r"auth_env must be"),
        (
            '[[sources]]\nname = "a"\nurl = "https://x/"\nheaders_env = "REGWATCH_NO_HDR"\n',
            r"headers_env names REGWATCH_NO_HDR, which is not set",
        ),
        ('[[sources]]\nname = "a\\n"\nurl = "https://x"\n', r"name must be lowercase"),
        ('[[subscriptions]]\nname = "gr"\n', r"subscriptions\[0\] \(gr\) has nowhere to deliver"),
        (
            '[[subscriptions]]\nname = "gr"\nrecipients = ["a@b.org"]\n',
            r"has recipients but smtp\.host is empty",
        ),
        (
            '[smtp]\nhost = "m"\n[[subscriptions]]\nname = "gr"\nrecipients = ["a@b.org\\r\\nBcc: x@y"]\n',
            r"recipients: .* is not one ASCII email address",
        ),
        (
            '[smtp]\nhost = "m"\n[[subscriptions]]\nname = "gr"\nrecipients = ["a@b.org"]\n'
            'categories = ["digital_securty"]\n',
            r"no rules define 'digital_securty'; did you mean 'digital_security'",
        ),
        (
            '[smtp]\nhost = "m"\n[[subscriptions]]\nname = "gr"\nrecipients = ["a@b.org"]\n'
            'timezone = "Asia/Dushambe"\n',
            r"not an IANA time zone",
        ),
        (
            '[smtp]\nhost = "m"\n[[subscriptions]]\nname = "gr"\nrecipients = ["a@b.org"]\n'
            'digest_time = "8am"\n',
            r"digest_time must be HH:MM",
        ),
        (
            '[smtp]\nhost = "m"\n[[subscriptions]]\nname = "gr"\nrecipients = ["a@b.org"]\n'
            'countries = ["ru"]\n',
            r"countries: 'ru' is not one of",
        ),
        (
            '[[subscriptions]]\nname = "gr"\nwebhook_env = ["REGWATCH_NO_SUCH_HOOK"]\n',
            r"REGWATCH_NO_SUCH_HOOK, which is not set",
        ),
        ('[smtp]\nsecurity = "tls"\n', r"smtp\.security must be one of"),
        ("[smtp]\ntimeout = inf\n", r"smtp\.timeout must be more than 0 and at most 600"),
        ("[smtp]\ntimeout = nan\n", r"smtp\.timeout must be more than 0 and at most 600"),
        ("[delivery]\nretry_seconds = 100000000000000\n", r"retry_seconds must be 1\.\.86400"),
        ("[delivery]\nmax_attempts = 1000\n", r"max_attempts must be 1\.\.100"),
        ('[smtp]\nsender = "r@exa\\u0000mple.org"\n', r"smtp\.sender must be one ASCII"),
        ('[smtp]\nsender = "аналитик@пример.рф"\n', r"xn-- form"),
        (
            '[[subscriptions]]\nname = "gr"\nwebhooks = ["json://[oops/x"]\n',
            r"webhooks: .* is not a valid URL",
        ),
        (
            '[[subscriptions]]\nname = "gr"\nwebhooks = ["ftp://files.example/x"]\n',
            r"scheme 'ftp' is not a supported webhook",
        ),
        (
            '[smtp]\nsender = "Regwatch <r@x.org>"\n',
            r"smtp\.sender must be one ASCII email address",
        ),
    ],
)
def test_bad_config_names_file_key_and_fix(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError, match=expected) as info:
        config.load(path, env={})
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2


def test_a_site_spider_finds_its_own_links(tmp_path: Path) -> None:
    body = '[[sources]]\nname = "a"\nurl = "https://x/"\ntype = "html"\nspider = "uz-lex"\n'
    assert config.load(write(tmp_path, body), env={}).sources[0].link_selector == ""


def test_the_portal_sources_ship_disabled_and_say_why() -> None:
    s = config.load(ROOT / "config.toml", env={})
    spiders = ("kz-legalacts", "uz-regulation", "kg-koomtalkuu", "uz-lex", "kz-adilet")
    portals = [src for src in s.sources if src.spider in spiders]
    assert sorted(src.spider for src in portals) == sorted(spiders)
    assert not any(src.enabled for src in portals)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    for src in portals:
        block = text[: text.index(f'name = "{src.name}"')].rsplit("[[sources]]", 1)[1]
        comment = " ".join(block.replace("#", " ").split()).lower()
        assert "unverified against the live site" in comment, src.name


def test_secret_comes_from_named_env_var(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[database]\nurl = "postgresql+psycopg://rw@db.example/rw"\npassword_env = "RW_DB_PW"\n',
    )
    s = config.load(path, env={"RW_DB_PW": "s3cr:t"})
    assert "s3cr%3At@" in s.database.url


def test_env_overrides_database_url(tmp_path: Path) -> None:
    s = config.load(write(tmp_path, ""), env={"REGWATCH_DATABASE_URL": "sqlite:////tmp/x.db"})
    assert s.database.url == "sqlite:////tmp/x.db"


def test_config_path_from_env() -> None:
    assert config.default_config_path({"REGWATCH_CONFIG": "/etc/rw.toml"}) == Path("/etc/rw.toml")
    assert config.default_config_path({}) == Path("config.toml")


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = config.load(write(tmp_path, ""), env={})
    with pytest.raises(AttributeError):
        s.fetch.timeout = 1.0  # type: ignore[misc]


def _bounded() -> list[tuple[str, str, type, config.Bounds, object]]:
    """(section, key, type, bounds, default) of every setting that declares bounds."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(config.Settings)
    classes: list[tuple[str, type]] = [
        (name, hints[name])
        for name in ("database", "fetch", "nlp", "digest", "smtp", "delivery", "service", "web")
    ]
    classes += [("sources", config.SourceConfig), ("subscriptions", config.SubscriptionConfig)]
    out = []
    for section, cls in classes:
        types_ = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if "bounds" in f.metadata:
                out.append((section, f.name, types_[f.name], f.metadata["bounds"], f.default))
    return out


BOUNDED = _bounded()
CONTEXT = {  # the least a list entry needs to be valid but for the key under test
    "sources": '[[sources]]\nname = "a"\nurl = "https://x.example/feed"\n',
    "subscriptions": '[[subscriptions]]\nname = "gr"\nwebhooks = ["json://h.example/x"]\n',
}


def _outside(tp: type, bounds: config.Bounds) -> list[str]:
    """TOML values just outside each end of ``bounds``."""
    values: list[float] = []
    if bounds.low is not None:
        values.append(bounds.low if bounds.low_open else bounds.low - (1 if tp is int else 0.5))
    if bounds.high is not None:
        values.append(bounds.high + (1 if tp is int else 0.5))
    return [str(int(v)) if tp is int else repr(float(v)) for v in values]


def test_settings_with_bounds_are_the_ones_expected() -> None:
    assert len(BOUNDED) == 33 and {s for s, *_ in BOUNDED} == {
        "fetch",
        "nlp",
        "digest",
        "smtp",
        "delivery",
        "service",
        "web",
        "sources",
        "subscriptions",
    }


@pytest.mark.parametrize(
    ("section", "name", "tp", "bounds", "default"),
    BOUNDED,
    ids=[f"{s}.{n}" for s, n, *_ in BOUNDED],
)
def test_every_declared_bound_is_enforced(
    tmp_path: Path, section: str, name: str, tp: type, bounds: config.Bounds, default: object
) -> None:
    assert isinstance(default, int | float) and bounds.admits(default), "the default is in range"
    values = _outside(tp, bounds)
    assert values, f"{section}.{name} declares bounds without an end"
    for value in values:
        if section in CONTEXT:
            body, key = f"{CONTEXT[section]}{name} = {value}\n", rf"{section}\[0\] \(\w+\)\.{name}"
        else:
            body, key = f"[{section}]\n{name} = {value}\n", rf"{section}\.{name}"
        path = write(tmp_path, body)
        with pytest.raises(ConfigError, match=rf"{key} must be {re.escape(bounds.describe())}"):
            config.load(path, env={})
        ok = write(tmp_path, body.replace(f"{name} = {value}", f"{name} = {default}"))
        config.load(ok, env={})  # the same file with the default loads


def test_nan_is_out_of_every_float_range(tmp_path: Path) -> None:
    for section, name, tp, _bounds, _default in BOUNDED:
        if tp is float and section not in CONTEXT:
            with pytest.raises(ConfigError, match=rf"{section}\.{name} must be"):
                config.load(write(tmp_path, f"[{section}]\n{name} = nan\n"), env={})


def test_the_fetch_policy_defaults_are_the_settings() -> None:
    from regwatch.commands.common import fetch_policy
    from regwatch.crawlers import FetchPolicy

    assert fetch_policy(config.FetchConfig()) == FetchPolicy()
    assert FetchPolicy().per_host_delay == config.FetchConfig().per_host_delay == 1.0


def test_credentials_in_a_source_url_are_refused_and_never_repeated(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "a"\nurl = "http://user:s3cr3t@example.org/feed"\n')
    with pytest.raises(
        ConfigError, match=r"carries credentials .* auth_env .* headers_env"
    ) as info:
        config.load(path, env={})
    assert "s3cr3t" not in str(info.value)


def test_source_credentials_come_from_the_named_variables(tmp_path: Path) -> None:
    from regwatch.config.checks import source_headers

    body = (
        '[[sources]]\nname = "a"\nurl = "https://x/"\nauth_env = "A_AUTH"\nheaders_env = "A_HDR"\n'
    )
    env = {"A_AUTH": "reader:pw", "A_HDR": "X-Api-Key: k123"}
    [src] = config.load(write(tmp_path, body), env=env).sources
    assert source_headers(src, env) == {"Authorization": "Basic cmVhZGVyOnB3", "X-Api-Key": "k123"}
    with pytest.raises(ConfigError, match="not of the form user:password") as info:
        config.load(write(tmp_path, body), env={**env, "A_AUTH": "justapassword"})
    assert "justapassword" not in str(info.value)
