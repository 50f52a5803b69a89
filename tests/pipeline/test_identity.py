"""Identity, decided once: source + guid, else canonical link, else content. Items that share
one URL never flip-flop a document's versions, two feeds of one site are duplicates, items
with neither guid nor link are kept — and an unchanged re-poll reports 0 updated."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from regwatch.config import SourceConfig, load_sources
from regwatch.crawlers import Document, Fetcher, FetchPolicy
from regwatch.crawlers.feeds import parse_feed
from regwatch.demo.run import SITE, SOURCES
from regwatch.demo.server import serve
from regwatch.nlp import Flagger
from regwatch.pipeline import Outcome, RunSummary, collect_sources
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.sources import SourceSpec, sync_sources
from tests.conftest import LocalSite, ingest_one

BODY = (
    "Министерство цифрового развития опубликовало проект закона об искусственном интеллекте. "
    "Документ вводит требования цифровой безопасности для систем высокого риска, правила "
    "маркировки синтетического контента и порядок трансграничной передачи данных. "
)


def _posts(n: int) -> list[tuple[str, str, str]]:
    return [(f"Пост {i}", f"__BASE__/blog/{i}", f"{BODY}Часть {i}.") for i in range(1, n + 1)]


# One blog, two feeds: RSS with a short summary and its own guids, Atom with the full text and
# tag: ids — the same links.
BLOG_RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Блог</title>'
    + "".join(
        f"<item><guid isPermaLink='false'>rss-{i}</guid><title>{t}</title><link>{u}</link>"
        f"<description>{b[:120]}</description></item>"
        for i, (t, u, b) in enumerate(_posts(3))
    )
    + "</channel></rss>"
)
BLOG_ATOM = (
    '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    "<title>Блог</title>"
    + "".join(
        f'<entry><id>tag:blog,2026:{i}</id><title>{t}</title><link href="{u}"/>'
        f'<content type="html">{b}</content></entry>'
        for i, (t, u, b) in enumerate(_posts(3))
    )
    + "</feed>"
)
# A portal whose distinct announcements all link to one page.
PORTAL = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Портал</title>'
    + "".join(
        f"<item><guid isPermaLink='false'>ann-{i}</guid><title>Объявление {i}</title>"
        f"<link>__BASE__/announcements</link><description>{BODY}Номер {i}.</description></item>"
        for i in range(1, 4)
    )
    + "</channel></rss>"
)
# A bulletin with neither guids nor links.
BULLETIN = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Бюллетень</title>'
    + "".join(
        f"<item><title>Сообщение {i}</title><description>{BODY}Выпуск {i}.</description></item>"
        for i in range(1, 3)
    )
    + "</channel></rss>"
)


# A CMS that gives every item guid "1" and one link; a site whose guid-less items share a link.
CMS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>CMS</title>'
    + "".join(
        f"<item><guid>1</guid><title>Запись {i}</title><link>__BASE__/cms</link>"
        f"<description>{BODY}Запись {i}.</description></item>"
        for i in range(1, 3)
    )
    + "</channel></rss>"
)
SHARED = CMS.replace("<guid>1</guid>", "").replace("/cms", "/home").replace("Запись", "Заметка")


def _feeds(site: LocalSite) -> list[SourceConfig]:
    paths = {
        "blog-rss": BLOG_RSS,
        "blog-atom": BLOG_ATOM,
        "portal": PORTAL,
        "bulletin": BULLETIN,
        "cms": CMS,
        "shared": SHARED,
    }
    return [
        SourceConfig(name=name, url=site.add(f"/{name}.xml", body, content_type="text/xml"))
        for name, body in paths.items()
    ]


def _collect(engine: Engine, flagger: Flagger, sources: list[SourceConfig]) -> RunSummary:
    policy = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
    with Fetcher(policy) as fetcher:
        return collect_sources(engine, flagger, fetcher, sources, force=True)


def _documents(engine: Engine) -> int:
    with db.session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(m.Document)) or 0)


def test_an_unchanged_repoll_of_feeds_sharing_urls_reports_nothing_updated(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    sources = _feeds(site)
    first = _collect(engine, flagger, sources)
    # 3 blog posts (the Atom feed's are duplicates), 3 announcements, 2 bulletin items, 2 CMS
    # records, 2 items of the shared link.
    assert (first.outcomes["new"], first.outcomes["duplicate"]) == (12, 3)
    assert first.outcomes["updated"] == 0 and first.skipped == []
    for _ in range(2):
        again = _collect(engine, flagger, sources)
        assert again.outcomes["updated"] == 0 and again.outcomes["new"] == 0
        assert again.outcomes["unchanged"] + again.outcomes["duplicate"] == 15
    assert _documents(engine) == 12
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.max(m.Document.version))) == 1
        portal = s.scalars(select(m.Document).where(m.Document.guid.like("ann-%"))).all()
        assert {d.url for d in portal} == {site.base + "/announcements"}
        assert len({d.canonical_url for d in portal}) == 3


def test_collect_on_the_demo_sources_twice_reports_nothing_updated(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    """The demo's sources plus demo-like feeds that share URLs, collected twice."""
    with serve(SITE) as base:
        sources = [*load_sources(SOURCES, base), *_feeds(site)]
        first = _collect(engine, flagger, sources)
        assert first.outcomes["new"] > 40
        second = _collect(engine, flagger, sources)
    assert second.outcomes["updated"] == 0 and second.outcomes["new"] == 0
    assert second.signals_new == 0


def test_a_document_stored_before_guids_takes_its_guid_and_a_second_guid_is_its_own(
    engine: Engine, flagger: Flagger
) -> None:
    with db.session_scope(engine) as s:
        sync_sources(s, [SourceSpec("s", "https://gov.example/rss", "rss", "kz", ("ru",), "news")])
    url = "https://gov.example/page"
    old = ingest_one(engine, flagger, Document(url, "Старое", BODY, "s"))  # no guid: as before
    same = ingest_one(engine, flagger, Document(url, "Старое", BODY, "s", guid="g-1"))
    assert (same.outcome, same.document_id) == (Outcome.UNCHANGED, old.document_id)
    other = ingest_one(engine, flagger, Document(url, "Другое", BODY + "Иное.", "s", guid="g-2"))
    assert other.outcome is Outcome.NEW
    edited = ingest_one(engine, flagger, Document(url, "Старое", BODY + "Правка.", "s", guid="g-1"))
    assert (edited.outcome, edited.document_id) == (Outcome.UPDATED, old.document_id)
    with db.session_scope(engine) as s:
        guids = dict(s.execute(select(m.Document.id, m.Document.guid)).all())
    assert guids == {old.document_id: "g-1", other.document_id: "g-2"}


def test_items_with_neither_guid_nor_link_are_kept_by_their_content() -> None:
    result = parse_feed(BULLETIN.encode(), "https://gov.example/bulletin.xml", "b")
    assert result.skipped == [] and len(result.documents) == 2
    assert all(
        not d.linked and d.url == "https://gov.example/bulletin.xml" for d in result.documents
    )
