"""Who may read: a token (HTTP Basic password or Bearer) when one is set; without one, only
loopback Host names (no DNS rebinding); `regwatch serve` refuses to bind beyond loopback
without a token — and the real command serves with one."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from regwatch.cli import main
from regwatch.web import WebOptions
from tests.web.conftest import Seeded, serve

TOKEN = "s3cret-token-for-tests-0123456789"
pytestmark = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)


def test_a_set_token_is_needed_on_every_request(seeded: Seeded) -> None:
    with (
        serve(seeded.url, WebOptions(token=TOKEN)) as server,
        httpx.Client(base_url=server.base, timeout=30) as http,
    ):
        for path in ("/", "/api/signals", "/openapi.json", "/static/style.css", "/export.csv"):
            r = http.get(path)
            assert r.status_code == 401, path
            assert r.headers["www-authenticate"].startswith("Basic")
            assert r.headers["x-content-type-options"] == "nosniff"
        for bad in ("Bearer wrong", f"Bearer {TOKEN}x", "Basic !!!", f"Token {TOKEN}"):
            assert http.get("/api/sources", headers={"Authorization": bad}).status_code == 401
        assert http.get("/api/sources", auth=("analyst", "wrong")).status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert http.get("/api/sources", headers=bearer).status_code == 200
        assert http.get("/", auth=("analyst", TOKEN)).status_code == 200
        # with a token, any Host name is fine (it may sit behind a name or a proxy)
        assert http.get("/", headers={**bearer, "Host": "regwatch.example"}).status_code == 200


def test_without_a_token_only_loopback_host_names(seeded: Seeded) -> None:
    with serve(seeded.url) as server, httpx.Client(base_url=server.base, timeout=30) as http:
        assert http.get("/api/sources").status_code == 200
        port = server.base.rsplit(":", 1)[1]
        assert http.get("/", headers={"Host": f"localhost:{port}"}).status_code == 200
        rebound = http.get("/api/sources", headers={"Host": f"attacker.example:{port}"})
        assert rebound.status_code == 421


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "web.toml"
    cfg.write_text(f'[database]\nurl = "{url}"\n[web]\ntoken_env = "RW_TEST_TOKEN"\n')
    return cfg


def test_serve_refuses_to_bind_beyond_loopback_without_a_token(
    seeded: Seeded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = str(_config(tmp_path, seeded.url))
    monkeypatch.delenv("RW_TEST_TOKEN", raising=False)
    monkeypatch.delenv("REGWATCH_DATABASE_URL", raising=False)
    assert main(["--config", cfg, "serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "0.0.0.0" in err and "RW_TEST_TOKEN" in err
    monkeypatch.setenv("RW_TEST_TOKEN", "short")
    assert main(["--config", cfg, "serve", "--host", "0.0.0.0"]) == 2
    assert "shorter than 16" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_regwatch_serve_serves_with_its_token(seeded: Seeded, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "RW_TEST_TOKEN": TOKEN}
    env.pop("REGWATCH_DATABASE_URL", None)
    cmd = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())",
           "--config", str(_config(tmp_path, seeded.url)), "serve", "--port", str(port)]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as err, subprocess.Popen(cmd, env=env, stderr=err) as proc:
        try:
            _check_serving(proc, port, log)
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def _check_serving(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll until the real command answers (a deadline, no sleep); then check the token."""
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            first = httpx.get(base + "/api/sources", timeout=2)
            break
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"regwatch serve did not start: {log.read_text()}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)  # a wait on the process, not a sleep
    assert first.status_code == 401
    ok = httpx.get(base + "/api/sources", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and len(ok.json()) == 4
