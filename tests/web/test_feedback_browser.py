"""Feedback, the UI's one write, in headless Chromium against a real uvicorn on 127.0.0.1: a
click on "not relevant" is counted on /feedback; a forged POST from another origin (a second
real server) is refused; without the form's token, with a foreign Origin or without the
access token (when one is set) nothing is written. Then the feedback given in the UI goes
through ``regwatch train`` to a temporary model file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from regwatch.cli import main
from regwatch.nlp.evaluate import DEFAULT_SET, load_examples
from regwatch.nlp.learned import Model
from regwatch.nlp.train import REAL
from regwatch.store import db
from regwatch.store.feedback import training_texts
from regwatch.store.models import Feedback
from regwatch.web import WebOptions, create_app
from tests.alerts.test_browser import browser
from tests.web.conftest import LiveServer, Seeded

__all__ = ["browser"]
pytestmark = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)
TOKEN = "a-long-enough-test-token-123456"


@pytest.fixture(scope="module")
def writable(seeded: Seeded) -> Iterator[LiveServer]:
    reader, writer = db.make_engine(seeded.url, readonly=True), db.make_engine(seeded.url)
    server = LiveServer(create_app(reader, None, writer))
    yield server
    server.close()
    reader.dispose()
    writer.dispose()


@pytest.fixture(scope="module")
def attacker(writable: LiveServer) -> Iterator[LiveServer]:
    """Another origin (another port of 127.0.0.1) serving a forged feedback form."""
    app = FastAPI()
    form = (
        f'<form method="post" action="{writable.base}/feedback">'
        '<input type="hidden" name="csrf" value="guessed">'
        '<input type="hidden" name="signal_id" value="1">'
        '<button type="submit" name="verdict" value="not_relevant">win a prize</button></form>'
    )

    @app.get("/")
    def page() -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><html><body>{form}</body></html>")

    server = LiveServer(app)
    yield server
    server.close()


def _count(url: str) -> int:
    engine = db.make_engine(url, readonly=True)
    with db.session_scope(engine) as s:
        n = s.scalar(select(func.count()).select_from(Feedback)) or 0
    engine.dispose()
    return n


def _cell(page: Any, by: str, key: str, cls: str) -> int:
    return int(page.locator(f"table[data-by={by}] tr[data-key='{key}'] td.{cls}").inner_text())


def test_not_relevant_click_is_counted_and_a_forged_post_refused(
    browser: Any, writable: LiveServer, attacker: LiveServer, seeded: Seeded
) -> None:
    page = browser.new_page()
    doc = seeded.doc_ids["kz-gov"]
    page.goto(f"{writable.base}/documents/{doc}")
    form = page.locator("form.feedback").first
    rule = page.locator("li.signal .rule").first.inner_text()
    category = page.locator("li.signal").first.get_attribute("data-category")
    form.locator("button[value=not_relevant]").click()
    page.wait_for_url(f"**/documents/{doc}#feedback")
    page.goto(f"{writable.base}/feedback")
    assert _cell(page, "rule", rule, "not-relevant") == 1
    assert _cell(page, "category", str(category), "not-relevant") == 1
    assert _cell(page, "rule", rule, "relevant") == 0
    assert page.locator(f"table[data-by=rule] tr[data-key='{rule}'] td.precision").inner_text() == (
        "0.00"
    )
    before = _count(seeded.url)

    page.goto(attacker.base + "/")
    with page.expect_response(f"{writable.base}/feedback") as sent:
        page.click("button")
    assert sent.value.status == 403
    assert "refused" in page.content()
    assert _count(seeded.url) == before
    page.close()


def test_post_without_token_or_from_elsewhere_writes_nothing(
    writable: LiveServer, seeded: Seeded
) -> None:
    before = _count(seeded.url)
    with httpx.Client(base_url=writable.base, timeout=30) as c:
        page = c.get(f"/documents/{seeded.doc_ids['kz-gov']}")
        assert "samesite=strict" in page.headers["set-cookie"].lower()
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        sig = page.text.split('name="signal_id" value="', 1)[1].split('"', 1)[0]
        data = {"csrf": token, "signal_id": sig, "verdict": "relevant"}
        assert c.post("/feedback", data={**data, "csrf": "x"}).status_code == 403
        foreign = {"origin": "http://evil.example"}
        assert c.post("/feedback", data=data, headers=foreign).status_code == 403
        site = {"sec-fetch-site": "cross-site"}
        assert c.post("/feedback", data=data, headers=site).status_code == 403
        assert _count(seeded.url) == before
        ok = c.post("/feedback", data=data, headers={"origin": writable.base})
        assert ok.status_code == 303
        assert _count(seeded.url) == before + 1
        missed = {"csrf": token, "document_id": str(seeded.doc_ids["asia"]),
                  "missed": "regional_cooperation"}  # fmt: skip
        assert c.post("/feedback", data=missed).status_code == 303
        bad = {**missed, "missed": "nonsense"}
        assert c.post("/feedback", data=bad).status_code == 400
    assert _count(seeded.url) == before + 2


def test_feedback_needs_the_access_token_when_one_is_set(seeded: Seeded) -> None:
    reader, writer = db.make_engine(seeded.url, readonly=True), db.make_engine(seeded.url)
    server = LiveServer(create_app(reader, WebOptions(token=TOKEN), writer))
    try:
        before = _count(seeded.url)
        with httpx.Client(base_url=server.base, timeout=30) as c:
            r = c.post("/feedback", data={"signal_id": "1", "verdict": "relevant"})
            assert r.status_code == 401
            authed = c.get(f"/documents/{seeded.doc_ids['kz-gov']}", auth=("x", TOKEN))
            assert authed.status_code == 200 and 'name="csrf"' in authed.text
        assert _count(seeded.url) == before
    finally:
        server.close()
        reader.dispose()
        writer.dispose()


def test_feedback_from_the_ui_goes_into_regwatch_train(
    writable: LiveServer, seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--out`` holds a model that raises nothing (threshold 1.0): dev with it scores the
    rules' own F1, which the threshold dev picks for the new model never falls below — so the
    new model is written, with the feedback among its training texts."""
    assert _count(seeded.url) >= 1  # given in the UI by the tests above
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "{seeded.url}"\n', encoding="utf-8")
    out = tmp_path / "model.json"
    from regwatch.nlp.learned import DEFAULT_MODEL

    silent = Model.load(DEFAULT_MODEL)
    Model(silent.categories, silent.vocab, silent.idf, silent.weights, silent.bias, 1.0).save(out)
    old = out.read_bytes()
    assert main(["--config", str(cfg), "train", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    assert "dev before" in printed and "dev after" in printed
    assert out.read_bytes() != old
    engine = db.make_engine(seeded.url, readonly=True)
    with db.session_scope(engine) as s:
        taught = training_texts(s)
    engine.dispose()
    assert any(not t.labels for t in taught)  # the "not relevant" click: a negative
    assert f"and {len(taught)} from feedback" in printed
    real = [ex for ex in load_examples([REAL]) if ex.split == "train"]
    team = load_examples([DEFAULT_SET])
    meta = json.loads(out.read_text(encoding="utf-8"))["meta"]
    assert meta["trained_on"] == f"{len(real) + len(team) + len(taught)} texts"
