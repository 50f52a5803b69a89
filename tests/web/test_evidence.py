"""The document page links to its archived copy, served as a .warc.gz download behind the UI's
token: real uvicorn, real SQLite and PostgreSQL, captures fetched from a loopback feed."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import select

from regwatch.config import SourceConfig
from regwatch.crawlers.fetch import Fetcher, FetchPolicy
from regwatch.nlp import Flagger
from regwatch.pipeline import collect_sources
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.evidence import EvidenceStore
from regwatch.store.warc import iter_records
from regwatch.web import WebOptions
from tests.conftest import LocalSite
from tests.web.conftest import serve

TOKEN = "evidence-token-for-tests-0123456789"
TEXT = (
    "Министерство опубликовало законопроект об искусственном интеллекте. "
    "Документ вводит понятие цифровой безопасности для регулирования ИИ."
)
RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Законопроект об ИИ</title><link>__BASE__/n/1</link><description>{text}</description></item>
<item><title>Погода</title><link>__BASE__/n/2</link><description>Солнечно.</description></item>
</channel></rss>"""


def test_the_archived_copy_is_linked_and_downloads_behind_the_token(
    db_url: str, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    url = site.add("/rss.xml", RSS.format(text=TEXT), content_type="application/rss+xml")
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    store = EvidenceStore(tmp_path / "evidence")
    policy = FetchPolicy(
        timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0, record=True
    )
    with Fetcher(policy) as fetcher:
        collect_sources(
            engine, flagger, fetcher, [SourceConfig(name="feed", url=url)], evidence=store
        )
    with db.session_scope(engine) as s:
        ids = {u.rsplit("/", 1)[-1]: i for u, i in s.execute(select(m.Document.url, m.Document.id))}
        [sha] = s.scalars(select(m.Capture.sha256)).all()
    engine.dispose()
    options = WebOptions(token=TOKEN, evidence_dir=str(store.folder))
    with serve(db_url, options) as server, httpx.Client(base_url=server.base, timeout=30) as http:
        flagged = f"/documents/{ids['1']}/capture.warc.gz"
        assert http.get(flagged).status_code == 401  # the same token as every page
        auth = {"Authorization": f"Bearer {TOKEN}"}
        page = http.get(f"/documents/{ids['1']}", headers=auth).text
        [href] = re.findall(r'<a class="archived" href="([^"]+)"', page)
        assert href == flagged and sha[:12] in page
        r = http.get(href, headers=auth)
        assert r.status_code == 200
        assert (
            r.headers["content-disposition"]
            == f'attachment; filename="document-{ids["1"]}.warc.gz"'
        )
        assert r.headers["content-type"] == "application/warc"
        assert r.content == store.path(sha).read_bytes()
        targets = [rec.rec_headers.get_header("WARC-Target-URI") for rec in iter_records(r.content)]
        assert targets[1:] == [url, url]
        # no signal, no capture: no link and a 404
        plain = http.get(f"/documents/{ids['2']}", headers=auth).text
        assert 'class="archived"' not in plain
        assert http.get(f"/documents/{ids['2']}/capture.warc.gz", headers=auth).status_code == 404
        # a changed file is never served as if it were the capture
        store.path(sha).write_bytes(b"tampered")
        broken = http.get(href, headers=auth)
        assert broken.status_code == 500 and "does not match its SHA-256" in broken.text
        assert http.post(href, headers=auth).status_code in (403, 405)  # read-only
