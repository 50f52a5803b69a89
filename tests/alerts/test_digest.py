from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from regwatch.alerts import build_digest, render_html, render_text, safe_url
from regwatch.store.queries import SignalRow, SourceHealth

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def row(i: int, **kw: object) -> SignalRow:
    base = dict(
        signal_id=i,
        document_id=i,
        category="draft_instrument",
        rule="draft_instrument.draft",
        text="законопроект",
        sentence="Депутаты одобрили законопроект об ИИ.",
        score=0.9,
        reason="'законопроект' with ai in the sentence",
        lang="ru",
        detected_at=NOW - timedelta(hours=1),
        title=f"Title {i}",
        url=f"https://x.kz/{i}",
        published_at=NOW - timedelta(days=1),
        content_hash=f"h{i}",
        source="kz-maidd",
        tier="official",
        country="kz",
    )
    base.update(kw)
    return SignalRow(**base)  # type: ignore[arg-type]


def test_sections_ranked_and_items_best_first() -> None:
    rows = [
        row(1, score=0.6),
        row(2, score=0.9),
        row(
            3,
            category="dushanbe_ai_center",
            score=0.95,
            text="AI Center",
            sentence="A regional AI Center in Dushanbe.",
        ),
    ]
    d = build_digest(rows, NOW - timedelta(days=1), NOW)
    assert [s.key for s in d.sections] == ["dushanbe_ai_center", "draft_instrument"]
    assert [i.title for i in d.sections[1].items] == ["Title 2", "Title 1"]
    assert d.subject == "regwatch digest 2026-11-26: 3 items in 2 categories"


def test_one_story_one_item_listing_all_sources() -> None:
    rows = [
        row(1, content_hash="same", source="kz-maidd"),
        row(2, content_hash="same", source="timesca", score=0.7),
    ]
    [section] = build_digest(rows, NOW - timedelta(days=1), NOW).sections
    [item] = section.items
    assert item.sources == ("kz-maidd", "timesca") and item.signals == 2


def test_per_section_cap() -> None:
    d = build_digest([row(i) for i in range(5)], NOW - timedelta(days=1), NOW, max_items=2)
    assert len(d.sections[0].items) == 2 and d.sections[0].hidden == 3
    assert "and 3 more" in render_text(d)


def test_hostile_content_is_inert_in_html() -> None:
    evil = row(
        1,
        title="<script>alert(1)</script>{{7*7}}",
        url="javascript:alert(1)",
        sentence="<img src=x onerror=alert(1)> законопроект {% raw %}",
        text="законопроект",
    )
    html = render_html(build_digest([evil], NOW - timedelta(days=1), NOW))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "{{7*7}}" in html and "49" not in html
    assert "javascript:" not in html
    assert re.search(r"<mark style=\"[^\"]*\">законопроект</mark>", html)


def test_match_highlighted_in_text_and_link_kept() -> None:
    txt = render_text(build_digest([row(1)], NOW - timedelta(days=1), NOW))
    assert '"Депутаты одобрили [законопроект] об ИИ."' in txt
    assert "https://x.kz/1" in txt


def test_quiet_day_and_failing_sources() -> None:
    health = [
        SourceHealth("kg-cabinet", "https://x", None, "HTTP 404", 3, 0),
        SourceHealth("ok", "https://y", NOW, None, 0, 5),
    ]
    d = build_digest([], NOW - timedelta(days=1), NOW, health)
    assert d.subject == "regwatch digest 2026-11-26: no new signals"
    html, txt = render_html(d), render_text(d)
    assert "No new signals" in html and "No new signals" in txt
    assert "kg-cabinet" in txt and "3 failed polls" in txt and "ok:" not in txt


def test_safe_url() -> None:
    assert safe_url("https://gov.kz/a") == "https://gov.kz/a"
    assert safe_url("javascript:alert(1)") == ""
    assert safe_url("data:text/html,x") == ""
    assert safe_url("//evil.example/x") == ""


def test_same_title_on_the_same_day_is_one_story_listing_both_sources() -> None:
    rows = [
        row(1, title="Парламент одобрил законопроект об ИИ", source="kz-maidd"),
        row(2, title="Парламент одобрил законопроект об ИИ!", source="timesca", score=0.8),
        row(3, title="News", source="a"),  # short titles never merge stories
        row(4, title="News", source="b"),
    ]
    [section] = build_digest(rows, NOW - timedelta(days=1), NOW).sections
    assert sorted(i.sources for i in section.items) == [("a",), ("b",), ("kz-maidd", "timesca")]


def test_near_identical_titles_are_one_story() -> None:
    rows = [
        row(1, title="Парламент Казахстана одобрил законопроект об искусственном интеллекте"),
        row(
            2,
            title="Парламент Казахстана одобрил законопроект об искусственном интеллекте РК",
            source="timesca",
            score=0.8,
        ),
        row(3, title="Сенат Казахстана отклонил законопроект о платформах и рекламе", source="b"),
    ]
    [section] = build_digest(rows, NOW - timedelta(days=1), NOW).sections
    assert sorted(i.sources for i in section.items) == [("b",), ("kz-maidd", "timesca")]


def test_grouped_by_country() -> None:
    rows = [row(1, country="kz"), row(2, country="uz", score=0.95), row(3, country="kz")]
    d = build_digest(rows, NOW - timedelta(days=1), NOW, group_by="country")
    assert [(s.key, s.title, len(s.items)) for s in d.sections] == [
        ("uz", "Uzbekistan", 1),
        ("kz", "Kazakhstan", 2),
    ]
    assert d.subject == "regwatch digest 2026-11-26: 3 items in 2 countries"


def test_glance_counts_per_local_day() -> None:
    from zoneinfo import ZoneInfo

    from regwatch.alerts.digest import glance

    dushanbe = ZoneInfo("Asia/Dushanbe")  # UTC+5
    undated = {"published_at": None}  # counted on their detection date
    rows = [
        row(1, detected_at=NOW - timedelta(hours=1), **undated),  # 07:00 local on the 26th
        row(2, detected_at=NOW - timedelta(hours=4), **undated),  # 04:00 local on the 26th
        row(3, detected_at=NOW - timedelta(hours=6), **undated),  # 02:00 local on the 26th
        row(4, detected_at=NOW - timedelta(hours=9), **undated),  # 23:00 local on the 25th
        row(5, category="content_control", detected_at=NOW - timedelta(days=6, hours=1), **undated),
        row(6, detected_at=NOW - timedelta(days=8), **undated),  # outside the 7 days
    ]
    g = glance(rows, NOW, dushanbe)
    assert [d.day for d in g.days] == [20, 21, 22, 23, 24, 25, 26]
    assert g.rows == (
        ("Draft laws, decrees and concepts", (0, 0, 0, 0, 0, 1, 3)),
        ("Disinformation, fakes and content controls", (1, 0, 0, 0, 0, 0, 0)),
    )
    assert g.peak == 3
    txt = render_text(build_digest(rows[:1], NOW - timedelta(days=1), NOW, glance=g))
    assert "Last 7 days" in txt and " 0  1  3" in txt


def test_quiet_sources_are_listed() -> None:
    health = [
        SourceHealth("silent", "https://s", NOW, None, 0, 0, NOW - timedelta(days=30), None),
        SourceHealth(
            "stale", "https://t", NOW, None, 0, 3, NOW - timedelta(days=30), NOW - timedelta(days=9)
        ),
        SourceHealth("fresh", "https://f", NOW, None, 0, 3, NOW - timedelta(days=1), None),
        SourceHealth("busy", "https://b", NOW, None, 0, 3, NOW - timedelta(days=30), NOW),
    ]
    d = build_digest([], NOW - timedelta(days=1), NOW, health, quiet_days=7)
    assert [h.name for h, _ in d.quiet_sources] == ["silent", "stale"]
    txt = render_text(d)
    assert "stale: quiet — nothing new since 2026-11-17" in txt and "fresh" not in txt


def test_glance_counts_by_published_date_and_says_so() -> None:
    """Ten days of articles collected in one go spread over their published days; a date
    unknown or after the detection falls back to the detection date."""
    from regwatch.alerts.digest import glance

    collected = NOW - timedelta(hours=1)
    rows = [row(i, detected_at=collected, published_at=NOW - timedelta(days=i)) for i in range(10)]
    rows.append(row(20, detected_at=collected, published_at=None))
    rows.append(row(21, detected_at=collected, published_at=NOW + timedelta(days=3)))
    g = glance(rows, NOW, UTC)
    assert g.rows == (("Draft laws, decrees and concepts", (1, 1, 1, 1, 1, 1, 3)),)
    assert g.basis == "published date (detection date where unknown)"
    d = build_digest(rows, NOW - timedelta(days=1), NOW, glance=g)
    assert "signals by published date (detection date where unknown)" in render_text(d)
    assert "signals by published date (detection date where unknown)" in render_html(d)


def test_counted_at_sql_matches_the_python_rule() -> None:
    """The SQL form the web UI's timeline can group by gives the same date as the Python one."""
    from sqlalchemy import Column, DateTime, MetaData, Table, create_engine, insert, select

    from regwatch.alerts.dates import counted_at, counted_at_sql

    day = datetime(2026, 11, 20, 12, 0)
    cases = [(None, day), (day - timedelta(days=2), day), (day + timedelta(days=5), day)]
    table = Table("t", MetaData(), Column("p", DateTime), Column("d", DateTime))
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"p": p, "d": d} for p, d in cases])
        got = conn.execute(select(counted_at_sql(table.c.p, table.c.d))).scalars().all()
    assert got == [counted_at(p, d) for p, d in cases] == [day, day - timedelta(days=2), day]


def test_every_category_with_signals_gets_its_section_count_and_stories() -> None:
    """Stories whose strongest signal is always Dushanbe or digital security still show in
    the draft-law section: counted there, referenced to their one full listing."""
    rows = []
    for i in range(4):  # each story: a strong Dushanbe signal and a weaker draft-law one
        rows.append(row(10 * i, document_id=i, category="dushanbe_ai_center", score=0.97))
        rows.append(row(10 * i + 1, document_id=i, content_hash=f"h{10 * i}", score=0.8 - i / 10))
    rows.append(row(99, document_id=99, category="digital_security", score=0.96))
    d = build_digest(rows, NOW - timedelta(days=1), NOW, max_items=3)
    by_key = {s.key: s for s in d.sections}
    assert set(by_key) == {"dushanbe_ai_center", "draft_instrument", "digital_security"}
    dushanbe, draft = by_key["dushanbe_ai_center"], by_key["draft_instrument"]
    assert (dushanbe.count, len(dushanbe.items), dushanbe.hidden) == (4, 3, 1)
    assert draft.count == 4 and draft.hidden == 1
    # the three listed in full under Dushanbe are referenced from the draft-law section
    assert [r.listed_in for r in draft.refs] == [
        "Dushanbe AI Center and Tajikistan's AI corporation"
    ] * 3
    assert {r.anchor for r in draft.refs} == set(dushanbe.anchors)
    assert d.item_count == 5  # stories, each once
    # a story hidden by the cap at home is listed in full where it shows
    assert [i.title for i in draft.items] == []
    text = render_text(d)
    assert "== Draft laws, decrees and concepts (4) ==" in text
    assert text.count("→ listed under Dushanbe AI Center") == 3
    html = render_html(d)
    for anchor in dushanbe.anchors:
        assert f'id="{anchor}"' in html and f'href="#{anchor}"' in html


def test_a_story_hidden_at_home_is_listed_in_full_where_it_shows() -> None:
    rows = [row(i, document_id=i, category="dushanbe_ai_center", score=0.99) for i in range(3)]
    rows.append(row(50, document_id=50, category="dushanbe_ai_center", score=0.9))
    rows.append(row(51, document_id=50, content_hash="h50", score=0.85))  # its draft-law signal
    d = build_digest(rows, NOW - timedelta(days=1), NOW, max_items=3)
    draft = next(s for s in d.sections if s.key == "draft_instrument")
    assert [i.title for i in draft.items] == ["Title 50"] and draft.refs == ()
    assert "Dushanbe AI Center and Tajikistan's AI corporation" in draft.items[0].also


def test_items_with_a_capture_link_to_the_archived_copy_when_the_ui_has_an_address() -> None:
    rows = [
        row(1, captured=True),
        row(2, title="Other story", content_hash="h2", url="https://x.kz/2"),
    ]
    plain = build_digest(rows, NOW - timedelta(days=1), NOW)
    assert all(item.archive == "" for s in plain.sections for item in s.items)
    assert "archived copy" not in render_html(plain) + render_text(plain)
    d = build_digest(rows, NOW - timedelta(days=1), NOW, ui_url="https://rw.example.org/")
    [section] = d.sections
    archives = {item.title: item.archive for item in section.items}
    assert archives == {
        "Title 1": "https://rw.example.org/documents/1/capture.warc.gz",
        "Other story": "",
    }
    html = render_html(d)
    assert html.count('class="archived"') == 1
    assert 'href="https://rw.example.org/documents/1/capture.warc.gz"' in html
    assert "archived copy: https://rw.example.org/documents/1/capture.warc.gz" in render_text(d)
