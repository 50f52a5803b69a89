"""The digest email's HTML part, as received by a real SMTP server, rendered in headless
Chromium: drawn (glance bars, highlighted match), and inert (hostile crawled text runs nothing)."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine

from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.models import Document
from tests.alerts.conftest import (
    SmtpServer,
    due_after,
    outbox,
    seed,
    subscription,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("needs Debian's chromium (apt-get install -y chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _pixels_near(png: bytes, rgb: tuple[int, int, int], tolerance: int = 24) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    count = 0
    for px in image.get_flattened_data():
        assert isinstance(px, tuple)
        if all(abs(int(a) - b) <= tolerance for a, b in zip(px, rgb, strict=True)):
            count += 1
    return count


EVIL = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>{{7*7}}'


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_digest_html_part_is_drawn_and_inert(
    engine: Engine, flagger: Flagger, smtp: SmtpServer, browser: Any, tmp_path: Path
) -> None:
    seeded = seed(engine, flagger)
    with db.session_scope(engine) as s:
        doc = s.get_one(Document, seeded.doc_ids["tj"])
        doc.title = EVIL + " Dushanbe"
        doc.url = "javascript:window.__pwned=3"
    at, now = due_after(seeded.started)
    sub = subscription(digest_time=at, immediate_alerts=False)
    box = outbox(engine, smtp.config(), sub)
    assert box.dispatch(now).sent == 1
    [received] = smtp.inbox.messages
    html = received.message.get_body(("html",)).get_content()  # type: ignore[union-attr]

    page = browser.new_page(viewport={"width": 800, "height": 1200})
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.route("**/*", lambda route: route.abort())  # the digest needs nothing from outside
    page.set_content(html, wait_until="load")
    shot = page.screenshot(full_page=True)
    (tmp_path / "digest.png").write_bytes(shot)

    assert page.evaluate("window.__pwned") is None and dialogs == []
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("a[href^='javascript']").count() == 0
    title = page.locator(".item .title", has_text="Dushanbe").inner_text()
    assert "{{7*7}}" in title and "<script>" in title  # shown as text, not run
    # the 7-day glance is drawn: bars in their blue, one column per day
    glance = page.locator("table.glance")
    assert glance.locator("tr").first.locator("th").count() == 8
    assert _pixels_near(glance.screenshot(), (0x2F, 0x7B, 0xD1)) > 200
    # the match is highlighted in its sentence
    mark = page.locator("blockquote mark").first
    assert mark.inner_text() and _pixels_near(mark.screenshot(), (0xFF, 0xE5, 0x8A)) > 50
    # a wide page: nothing overflows the 760 px column
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.close()


def test_glance_shows_each_day(browser: Any) -> None:
    from datetime import UTC, datetime

    from regwatch.alerts import build_digest, render_html
    from regwatch.alerts.digest import glance
    from tests.alerts.test_digest import row

    end = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    rows = [  # undated: each counted on its detection day
        row(i, detected_at=end - timedelta(days=i % 7, hours=1), published_at=None)
        for i in range(14)
    ]
    d = build_digest(rows, end - timedelta(days=1), end, glance=glance(rows, end, UTC))
    page = browser.new_page()
    page.set_content(render_html(d))
    heights = page.eval_on_selector_all(".bar", "bars => bars.map(b => b.offsetHeight)")
    assert len(heights) == 7 and min(heights) > 0
    page.close()


def _as_outlook_shows(html: str) -> str:
    """The HTML part as a client that drops ``<head>`` styles sees it: every <style> gone."""
    import re

    return re.sub(r"<style\b.*?</style>", "", html, flags=re.S | re.I)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_email_html_keeps_its_looks_without_head_styles(
    engine: Engine, flagger: Flagger, smtp: SmtpServer, browser: Any
) -> None:
    """The digest and an alert as received, their <style> blocks removed: the title is a
    blue, underlined link, the glance bars are drawn, the match is highlighted."""
    seeded = seed(engine, flagger)
    at, now = due_after(seeded.started)
    sub = subscription(digest_time=at, alert_threshold=0.0)
    box = outbox(engine, smtp.config(), sub)
    assert box.dispatch(now).sent >= 2
    parts = {
        m.message["Subject"]: m.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        for m in smtp.inbox.messages
    }
    digest = next(html for subject, html in parts.items() if "items in" in subject)
    alert = next(html for subject, html in parts.items() if subject.startswith("[regwatch]"))
    page = browser.new_page(viewport={"width": 800, "height": 1200})
    page.route("**/*", lambda route: route.abort())
    for html in (digest, alert):
        page.set_content(_as_outlook_shows(html), wait_until="load")
        assert page.evaluate("document.querySelectorAll('style').length") == 0
        link = page.locator("a.title").first
        style = link.evaluate(
            "a => { const s = getComputedStyle(a);"
            " return [s.color, s.textDecorationLine, s.fontWeight]; }"
        )
        assert style == ["rgb(11, 87, 208)", "underline", "600"]
        mark = page.locator("blockquote mark").first
        assert _pixels_near(mark.screenshot(), (0xFF, 0xE5, 0x8A)) > 50
    page.set_content(_as_outlook_shows(digest), wait_until="load")
    glance = page.locator("table.glance")
    assert _pixels_near(glance.screenshot(), (0x2F, 0x7B, 0xD1)) > 200
    page.close()
