"""`regwatch digest --preview` right after a collection: the period in progress, named as such,
with the signals just collected (not the last completed period, which says "no new
signals")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from regwatch.cli import main
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.models import utcnow
from tests.alerts.conftest import seed
from tests.test_cli import _alerts_config


def test_preview_after_a_collection_shows_the_period_in_progress(
    tmp_path: Path, flagger: Flagger, capsys: pytest.CaptureFixture[str]
) -> None:
    db_file = tmp_path / "rw.db"
    engine = db.make_engine(f"sqlite:///{db_file}")
    db.upgrade(engine)
    seed(engine, flagger)  # just collected
    engine.dispose()
    due = utcnow() + timedelta(hours=3)
    cfg = str(_alerts_config(tmp_path, 2525, db_file, due.strftime("%H:%M")))  # nothing is sent
    assert main(["--config", cfg, "digest", "--preview"]) == 0
    out = capsys.readouterr().out
    first, second = out.splitlines()[:2]
    assert first.startswith(f"regwatch · gr-tj {due.date().isoformat()} (in progress): ")
    assert first.endswith(": 1 item in 2 categories"), first  # the tj story (Dushanbe + regional)
    assert second.startswith("Period in progress (preview; the digest goes out at its end): ")
    assert f"{due:%Y-%m-%d %H:%M} UTC" in second
    assert "Dushanbe" in out
    # the completed period, asked for by its day, is not called in progress
    yesterday = (due - timedelta(days=1)).date().isoformat()
    assert main(["--config", cfg, "digest", "--preview", "--date", yesterday]) == 0
    assert "in progress" not in capsys.readouterr().out.splitlines()[0]
