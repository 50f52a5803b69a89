"""One `regwatch run` per database, on SQLite and PostgreSQL; a killed holder frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from regwatch.errors import LockHeld
from regwatch.store.lock import InstanceLock
from tests.conftest import spawn_python

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from regwatch.store import db
from regwatch.store.lock import InstanceLock
engine = db.make_engine(sys.argv[1])
with InstanceLock(engine):
    print("locked", flush=True)
    sys.stdin.read()
"""


def _wait_for_line(proc: subprocess.Popen[str], expected: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == expected:
            return
        if proc.poll() is not None:
            raise AssertionError(f"holder exited: {proc.stderr.read() if proc.stderr else ''}")
    raise AssertionError(f"no {expected!r} within {timeout} s")


def _acquire_within(engine: Engine, timeout: float = 10) -> InstanceLock:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return InstanceLock(engine).__enter__()
        except LockHeld:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # polling a lock the OS frees asynchronously


def test_second_instance_refused_until_the_first_dies(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    proc = spawn_python(HOLDER, url)
    try:
        _wait_for_line(proc, "locked")
        with pytest.raises(LockHeld, match=rf"another regwatch run .*{proc.pid}"):
            InstanceLock(engine).__enter__()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        lock = _acquire_within(engine)
        lock.release()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_released_lock_can_be_taken_again(engine: Engine) -> None:
    with InstanceLock(engine):
        pass
    with InstanceLock(engine):
        pass
