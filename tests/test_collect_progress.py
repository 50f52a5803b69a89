"""`regwatch collect` on a terminal shows live progress (sources done, items per source); into
a pipe it is quiet; -v logs regwatch's progress, not every HTTP request. Real processes, a real
pseudo-terminal, real feeds on 127.0.0.1."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import LocalSite

FEED = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Законопроект об искусственном интеллекте</title><link>__BASE__/n/1</link>
<description>Министерство цифрового развития внесло законопроект об ИИ.</description></item>
<item><title>Второй</title><link>__BASE__/n/2</link><description>Текст.</description></item>
</channel></rss>"""


def _config(tmp_path: Path, site: LocalSite) -> Path:
    a = site.add("/a.xml", FEED, content_type="application/rss+xml")
    b = site.add("/b.xml", FEED.replace("/n/", "/m/"), content_type="application/rss+xml")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "p.db"}"\n[fetch]\n'
        f'allow_networks = ["127.0.0.0/8"]\nper_host_delay = 0.0\n'
        f'[[sources]]\nname = "feed-a"\nurl = "{a}"\n[[sources]]\nname = "feed-b"\nurl = "{b}"\n',
        encoding="utf-8",
    )
    return cfg


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    return env | {"COLUMNS": "100", "TERM": "xterm"}


def test_collect_on_a_terminal_shows_progress(tmp_path: Path, site: LocalSite) -> None:
    cfg = _config(tmp_path, site)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), "collect"],
        stdout=subprocess.PIPE, stderr=follower, env=_env(),
    )  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    shown = seen.decode("utf-8", "replace")
    assert "[1/2] feed-a: 2 items, 2 new" in shown and "[2/2] feed-b: 2 items, 2 new" in shown
    assert "collecting" in shown and "sources" in shown  # the live bar
    assert proc.stdout is not None
    with proc.stdout:
        assert "sources: 2 ok, 0 failed" in proc.stdout.read().decode()


def test_collect_into_a_pipe_is_quiet_and_verbose_has_no_request_lines(
    tmp_path: Path, site: LocalSite
) -> None:
    cfg = _config(tmp_path, site)
    argv = [sys.executable, "-m", "regwatch.cli", "--config", str(cfg)]
    quiet = subprocess.run([*argv, "collect"], capture_output=True, text=True, timeout=120,
                           env=_env(), check=False)  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert "sources: 2 ok, 0 failed" in quiet.stdout
    loud = subprocess.run([*argv, "-v", "collect", "--force"], capture_output=True, text=True,
                          timeout=120, env=_env(), check=False)  # fmt: skip
    assert loud.returncode == 0 and "[1/2] feed-a:" in loud.stderr
    assert "HTTP Request:" not in loud.stderr and "\x1b[" not in loud.stderr
