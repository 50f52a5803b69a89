"""The digest's "Stage changes" and "Consultations closing" sections and a stage-change alert,
as received by a real SMTP server, rendered in headless Chromium: drawn (badges in their
colours, also without <head> styles) and inert (a hostile instrument title runs nothing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from regwatch.instruments.vocabulary import Stage
from regwatch.nlp import Flagger
from regwatch.store.models import utcnow
from tests.alerts.conftest import SmtpServer, due_after, outbox, seed, subscription
from tests.alerts.test_browser import EVIL, _as_outlook_shows, _pixels_near, browser
from tests.instrument_seed import link, stage

__all__ = ["browser"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_digest_sections_and_stage_alert_are_drawn_and_inert(
    engine: Engine, flagger: Flagger, smtp: SmtpServer, browser: Any
) -> None:
    seeded = seed(engine, flagger)
    today = utcnow().date()
    link(
        engine,
        seeded.doc_ids["kz"],
        title=EVIL + " закон об ИИ",
        stages=(stage(Stage.PUBLIC_DISCUSSION, today),),
        consultation_end=today + timedelta(days=2),
    )
    at, now = due_after(seeded.started)
    sub = subscription(digest_time=at, immediate_alerts=False, reminder_days=0)
    box = outbox(engine, smtp.config(), sub)
    report = box.dispatch(now)
    assert report.sent == 2, report.errors  # the stage alert and the digest
    parts = {
        m.message["Subject"]: m.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        for m in smtp.inbox.messages
    }
    digest = next(h for s, h in parts.items() if "1 stage change, 1 consultation closing" in s)
    alert = next(h for s, h in parts.items() if s.startswith("[regwatch] Public discussion: "))
    page = browser.new_page(viewport={"width": 800, "height": 1200})
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.route("**/*", lambda route: route.abort())
    for html in (digest, _as_outlook_shows(digest)):
        page.set_content(html, wait_until="load")
        assert page.evaluate("window.__pwned") is None and dialogs == []
        assert page.evaluate("document.scripts.length") == 0
        stages = page.locator("section.stages")
        assert stages.locator("h2").inner_text() == "Stage changes (1)"
        title = stages.locator(".title").inner_text()
        assert "<script>" in title and "{{7*7}}" in title  # shown as text
        assert _pixels_near(stages.locator(".stage").screenshot(), (0x0B, 0x4A, 0x8B)) > 50
        closing = page.locator("section.closing")
        assert closing.locator("h2").inner_text() == (
            "Consultations closing in the next 7 days (1)"
        )
        left = (today + timedelta(days=2) - (seeded.started + timedelta(hours=6)).date()).days
        assert f"{left} day{'s' if left != 1 else ''} left" in closing.inner_text()
        badge = closing.locator(".deadline")
        assert _pixels_near(badge.screenshot(), (0xA3, 0x32, 0x1A)) > 50
        assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.set_content(_as_outlook_shows(alert), wait_until="load")
    assert page.evaluate("window.__pwned") is None and dialogs == []
    assert page.locator(".stage").inner_text() == "Public discussion"
    assert _pixels_near(page.locator(".stage").screenshot(), (0x0B, 0x4A, 0x8B)) > 50
    assert "<script>" in page.locator(".title").first.inner_text()
    page.close()
