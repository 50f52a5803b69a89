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
        ("[fetch]\nallow_private_networks = 1\n", r"must be true or false"),
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
