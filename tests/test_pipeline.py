from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine, func, select

from regwatch.config import SourceConfig
from regwatch.crawlers import Document, Fetcher, FetchPolicy
from regwatch.nlp import Flagger
from regwatch.nlp.rules import BUNDLED_RULES
from regwatch.pipeline import Outcome, backtest, collect_sources
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.sources import SourceSpec, sync_sources
from tests.conftest import LocalSite, ingest_one

TEXT = (
    "Министерство опубликовало законопроект об искусственном интеллекте. "
    "Документ вводит понятие цифровой безопасности для регулирования ИИ."
)


def _source_id(engine: Engine, name: str = "kz-maidd") -> int:
    with db.session_scope(engine) as s:
        return sync_sources(
            s, [SourceSpec(name, "https://x/rss", "rss", "kz", ("ru",), "official")]
        )[name]


def _count(engine: Engine, model: type[m.Base]) -> int:
    with db.session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_ingest_new_then_unchanged(engine: Engine, flagger: Flagger) -> None:
    _source_id(engine)
    doc = Document(
        url="https://gov.kz/news/1?utm_source=x",
        title="Законопроект об ИИ",
        text=TEXT,
        source="kz-maidd",
    )
    first = ingest_one(engine, flagger, doc)
    assert first.outcome is Outcome.NEW and first.signals_new >= 2
    again = ingest_one(
        engine,
        flagger,
        Document(url="https://gov.kz/news/1", title=doc.title, text=doc.text, source="kz-maidd"),
    )
    assert again.outcome is Outcome.UNCHANGED and again.document_id == first.document_id
    assert _count(engine, m.Document) == 1
    assert _count(engine, m.Signal) == first.signals_new
    with db.session_scope(engine) as s:
        cats = set(s.scalars(select(m.Signal.category)))
        row = s.get_one(m.Document, first.document_id)
        assert row.lang == "ru" and row.canonical_url == "https://gov.kz/news/1"
    assert {"draft_instrument", "digital_security"} <= cats


def test_changed_page_becomes_a_new_version(engine: Engine, flagger: Flagger) -> None:
    _source_id(engine)
    v1 = Document(
        url="https://gov.kz/news/2", title="Новости", text="Погода в Астане.", source="kz-maidd"
    )
    assert ingest_one(engine, flagger, v1).signals_new == 0
    v2 = Document(url=v1.url, title="Новости", text=TEXT, source="kz-maidd")
    result = ingest_one(engine, flagger, v2)
    assert result.outcome is Outcome.UPDATED and result.signals_new >= 2
    with db.session_scope(engine) as s:
        row = s.get_one(m.Document, result.document_id)
        assert row.version == 2
        assert [v.text for v in row.versions] == ["Погода в Астане.", TEXT]
        assert {sig.version_id for sig in row.signals} == {row.versions[1].id}


def test_same_story_under_another_url_is_a_duplicate(engine: Engine, flagger: Flagger) -> None:
    _source_id(engine)
    long_text = TEXT + " Обсуждение продлится до конца месяца на портале открытых НПА." * 3
    a = Document(url="https://a.kz/1", title="Законопроект", text=long_text, source="kz-maidd")
    b = Document(
        url="https://b.kz/other", title="законопроект", text=long_text + "  ", source="kz-maidd"
    )
    assert ingest_one(engine, flagger, a).outcome is Outcome.NEW
    assert ingest_one(engine, flagger, b).outcome is Outcome.DUPLICATE
    assert _count(engine, m.Document) == 1


RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Законопроект об ИИ</title><link>__BASE__/n/1</link><description>{text}</description></item>
<item><title>Погода</title><link>__BASE__/n/2</link><description>Солнечно.</description></item>
</channel></rss>"""


def test_collect_records_health_and_a_bad_source_does_not_stop_others(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    good = site.add("/rss.xml", RSS.format(text=TEXT), content_type="application/rss+xml")
    broken = site.add("/broken.xml", "<html><body>Maintenance</body></html>")
    sources = [
        SourceConfig(name="broken", url=broken, country="kz"),
        SourceConfig(name="missing", url=site.base + "/gone.xml", country="kz"),
        SourceConfig(name="good", url=good, country="kz"),
        SourceConfig(name="off", url=good, enabled=False),
    ]
    policy = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
    with Fetcher(policy) as fetcher:
        summary = collect_sources(engine, flagger, fetcher, sources)
        assert (summary.sources_ok, summary.sources_failed) == (1, 2)
        assert summary.outcomes["new"] == 2 and summary.signals_new >= 2
        assert "HTML, not a feed" in summary.errors["broken"]
        assert "HTTP 404" in summary.errors["missing"]
        again = collect_sources(engine, flagger, fetcher, sources)
    assert again.outcomes["unchanged"] == 2 and not again.stored_anything
    with db.session_scope(engine) as s:
        rows = {r.name: r for r in s.scalars(select(m.Source))}
        assert set(rows) == {"broken", "missing", "good"}
        assert rows["good"].consecutive_failures == 0 and rows["good"].items_last_run == 2
        assert rows["good"].last_success_at is not None
        assert rows["missing"].consecutive_failures == 2 and rows["missing"].last_success_at is None
        assert "404" in (rows["missing"].last_error or "")
        runs = s.scalars(select(m.Run).order_by(m.Run.id)).all()
        assert [(r.status, r.documents_new) for r in runs] == [("partial", 2), ("partial", 0)]


def test_title_only_items_are_not_merged_by_content(engine: Engine, flagger: Flagger) -> None:
    _source_id(engine)
    title = "Проект постановления Правительства о цифровых платформах"
    outcomes = [
        ingest_one(
            engine,
            flagger,
            Document(url=f"https://adilet.kz/{i}", title=title, text="", source="kz-maidd"),
        ).outcome
        for i in range(3)
    ]
    assert outcomes == [Outcome.NEW] * 3


def test_page_changed_back_points_at_the_earlier_version(engine: Engine, flagger: Flagger) -> None:
    _source_id(engine)
    a = Document(url="https://gov.kz/news/9", title="Новости", text=TEXT, source="kz-maidd")
    b = Document(url=a.url, title="Новости", text="Погода в Астане.", source="kz-maidd")
    outcomes = [ingest_one(engine, flagger, d).outcome for d in (a, b, a, a, b)]
    assert outcomes == [
        Outcome.NEW,
        Outcome.UPDATED,
        Outcome.UPDATED,
        Outcome.UNCHANGED,
        Outcome.UPDATED,
    ]
    with db.session_scope(engine) as s:
        row = s.scalars(select(m.Document)).one()
        assert (row.version, row.content_hash) == (2, b.content_hash)
        assert len(row.versions) == 2
    # Current signals are b's (none); a's findings are history (each time they went: twice),
    # never counted.
    assert _count(engine, m.Signal) == len(flagger.flag(b.title, b.text)) == 0
    assert _count(engine, m.SignalHistory) == 2 * len(flagger.flag(a.title, a.text)) > 0


def test_a_crashing_item_or_source_never_stops_the_run(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    bad_link = RSS.format(text=TEXT).replace("__BASE__/n/2", "http://example.com:99999/n/2")
    good = site.add("/rss.xml", bad_link, content_type="application/rss+xml")
    sources = [
        SourceConfig(
            name="weird", url=site.base + "/x", type="html", link_selector="a[[", country="kz"
        ),
        SourceConfig(name="good", url=good, country="kz"),
    ]
    site.add("/x", "<a href='/y'>y</a>")
    with Fetcher(
        FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
    ) as fetcher:
        summary = collect_sources(engine, flagger, fetcher, sources)
    assert summary.sources_ok == 1 and "bad link_selector" in summary.errors["weird"]
    assert summary.outcomes["new"] == 1
    assert any("99999" in s for s in summary.skipped)
    with db.session_scope(engine) as s:
        [run] = s.scalars(select(m.Run)).all()
        assert run.status == "partial" and run.finished_at is not None


def test_backtest_reports_what_a_rule_change_would_do(
    engine: Engine, flagger: Flagger, tmp_path: Path
) -> None:
    _source_id(engine)
    ingest_one(
        engine,
        flagger,
        Document(url="https://gov.kz/n/1", title="Новости", text=TEXT, source="kz-maidd"),
    )
    same = backtest(engine, flagger)
    assert (same.documents, same.added, same.removed) == (1, [], [])
    assert same.unchanged == _count(engine, m.Signal) > 0
    rules = tmp_path / "rules"
    shutil.copytree(BUNDLED_RULES, rules)
    (rules / "digital_security.toml").unlink()
    (rules / "procurement.toml").write_text(
        'category = "procurement"\n[[rules]]\nid = "procurement.ministry"\n'
        'phrases = ["министерство"]\nscore = 0.7\n',
        encoding="utf-8",
    )
    report = backtest(engine, Flagger.from_folder(rules, min_score=0.3))
    assert [k[0] for _d, k, _t in report.added] == ["procurement"]
    assert {k[0] for _d, k, _t in report.removed} == {"digital_security"}
    assert "procurement: +1 -0 ~0" in "\n".join(report.lines())
    assert backtest(engine, flagger).removed == []  # nothing was written


def test_backtest_reports_rescored_signals(
    engine: Engine, flagger: Flagger, tmp_path: Path
) -> None:
    _source_id(engine)
    ingest_one(
        engine,
        flagger,
        Document(url="https://gov.kz/n/2", title="Новости", text=TEXT, source="kz-maidd"),
    )
    rules = tmp_path / "rules"
    shutil.copytree(BUNDLED_RULES, rules)
    path = rules / "draft_instrument.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("sentence_score = 0.9", "sentence_score = 0.4"),
        encoding="utf-8",
    )
    report = backtest(engine, Flagger.from_folder(rules, min_score=0.3))
    assert report.rescored and all(new == 0.4 for _d, _k, _old, new in report.rescored)
    assert not report.added and not report.removed
