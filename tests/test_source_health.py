"""Polls that respect the server and record health: conditional GET through the pipeline,
freshness (max-age, feed TTL), Retry-After, back-off, quiet sources, clean stored text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import Engine, select

from regwatch.cli import main
from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy
from regwatch.nlp import Flagger
from regwatch.pipeline import collect_sources
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.queries import source_health
from tests.conftest import LocalSite, Route

POLICY = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Минцифры</title>{extra}
<item><title>Законопроект об ИИ</title><link>__BASE__/n/1</link>
<description>Министерство опубликовало законопроект об искусственном интеллекте.</description></item>
</channel></rss>"""


def _row(engine: Engine, name: str) -> m.Source:
    with db.session_scope(engine) as s:
        row = s.scalars(select(m.Source).where(m.Source.name == name)).one()
        s.expunge(row)
        return row


def test_conditional_get_304_parses_nothing_and_keeps_validators(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    body = FEED.format(extra="").replace("__BASE__", site.base).encode()

    def route(headers: dict[str, str]) -> Route:
        if headers.get("if-none-match") == '"abc"':
            return 304, {}, b""  # a 304 need not repeat the validators
        return 200, {"Content-Type": "application/rss+xml", "ETag": '"abc"'}, body

    site.routes["/rss"] = route
    src = SourceConfig(name="feed", url=site.base + "/rss", country="kz")
    lines: list[str] = []
    with Fetcher(POLICY) as f:
        first = collect_sources(engine, flagger, f, [src], progress=lines.append)
        second = collect_sources(engine, flagger, f, [src], progress=lines.append)
    assert lines == ["[1/1] feed: 1 items, 1 new", "[1/1] feed: not modified (304)"]
    assert first.outcomes["new"] == 1 and first.not_modified == []
    assert second.not_modified == ["feed"] and second.items_seen == 0
    assert "if-none-match" not in site.requests[0][1]
    assert site.requests[1][1]["if-none-match"] == '"abc"'
    row = _row(engine, "feed")
    assert (row.etag, row.consecutive_failures, row.items_last_run) == ('"abc"', 0, 0)
    assert row.last_success_at is not None


def test_max_age_and_feed_ttl_postpone_the_next_poll(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    site.add(
        "/a",
        FEED.format(extra=""),
        content_type="application/rss+xml",
        headers={"Cache-Control": "max-age=600"},
    )
    site.add("/b", FEED.format(extra="<ttl>90</ttl>"), content_type="application/rss+xml")
    site.add("/c", FEED.format(extra="<ttl>999999</ttl>"), content_type="application/rss+xml")
    sources = [SourceConfig(name=n, url=f"{site.base}/{n}", country="kz") for n in ("a", "b", "c")]
    with Fetcher(POLICY) as f:
        collect_sources(engine, flagger, f, sources, max_wait=7200)
        hits = len(site.hits)
        later = collect_sources(engine, flagger, f, sources, max_wait=7200)
        assert len(site.hits) == hits and set(later.not_due) == {"a", "b", "c"}
        forced = collect_sources(engine, flagger, f, sources[:1], force=True)
    assert len(site.hits) == hits + 1 and forced.sources_ok == 1
    rows = {n: _row(engine, n) for n in ("a", "b", "c")}
    for name, seconds in (("a", 600), ("b", 5400), ("c", 7200)):  # c: capped by max_wait
        fresh, success = rows[name].fresh_until, rows[name].last_success_at
        assert fresh is not None and success is not None
        left = (fresh - success).total_seconds()
        assert seconds - 5 <= left <= seconds + 1, (name, left)


def test_retry_after_and_exponential_backoff(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    site.add("/busy", "later", status=429, headers={"Retry-After": "3600"})
    busy = SourceConfig(name="busy", url=site.base + "/busy", interval_minutes=10)
    down = SourceConfig(name="down", url=site.base + "/gone", interval_minutes=10)
    lines: list[str] = []
    with Fetcher(POLICY) as f:
        run = collect_sources(engine, flagger, f, [busy, down], progress=lines.append)
        assert lines[0].startswith("[1/2] busy: failed: fetch:") and "HTTP 429" in lines[0]
        assert lines[1].startswith("[2/2] down: failed") and len(lines) == 2
        assert "retry after 3600s" in run.errors["busy"]
        assert _row(engine, "down").next_retry_at is None  # one failure: normal schedule
        again = collect_sources(engine, flagger, f, [busy, down], progress=lines.append)
        assert lines[2].startswith("[1/2] busy: not due until ")
        assert list(again.not_due) == ["busy"] and again.sources_failed == 1
        waits = []
        for _ in range(2):
            collect_sources(engine, flagger, f, [down], force=True)
            row = _row(engine, "down")
            assert row.next_retry_at is not None and row.last_attempt_at is not None
            waits.append(round((row.next_retry_at - row.last_attempt_at).total_seconds() / 60))
    assert waits == [40, 80]  # failures 3 and 4: 4 and 8 intervals
    row = _row(engine, "busy")
    assert row.next_retry_at is not None and row.last_attempt_at is not None
    assert row.next_retry_at - row.last_attempt_at >= timedelta(seconds=3595)
    with db.session_scope(engine) as s:
        [health] = source_health(s, {"busy"})
        assert health.next_retry_at == row.next_retry_at
        assert health.quiet_since(row.next_retry_at, 1) is None  # failing is not quiet


def test_control_characters_are_never_stored(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>c</title>'
        b"<item><title>A\x01B\x1fC&#1;&#x7f;D</title><link>__BASE__/n/9</link>"
        b"<description>one\x00two\x0bthree &#0; four\xe2\x80\x8b</description></item></channel></rss>"
    )
    site.add("/c", body, content_type="application/rss+xml")
    with Fetcher(POLICY) as f:
        summary = collect_sources(
            engine, flagger, f, [SourceConfig(name="c", url=site.base + "/c")]
        )
    assert summary.outcomes["new"] == 1, summary
    with db.session_scope(engine) as s:
        version = s.scalars(select(m.DocumentVersion)).one()
        stored = version.title + version.text
    assert not any(ord(ch) < 32 and ch != "\n" for ch in stored), repr(stored)
    assert "\x7f" not in stored and "ABC" in version.title.replace("\ufffd", "")


def test_sources_list_marks_quiet_and_failing_sources(
    tmp_path: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site.add("/rss", FEED.format(extra=""), content_type="application/rss+xml")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[database]\nurl = "sqlite:///r.db"\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'
        "per_host_delay = 0.0\n[digest]\nquiet_days = 3\n"
        f'[[sources]]\nname = "calm"\nurl = "{site.base}/rss"\n'
        f'[[sources]]\nname = "broken"\nurl = "{site.base}/nope"\n'
        f'[[sources]]\nname = "fresh"\nurl = "{site.base}/rss?x=1"\n'
    )
    assert main(["--config", str(cfg), "collect", "--source", "calm"]) == 0
    assert main(["--config", str(cfg), "collect", "--source", "broken"]) == 3
    engine = db.make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    with db.session_scope(engine) as s:  # calm's only document arrived four days ago
        for d in s.scalars(select(m.Document)):
            d.first_seen_at -= timedelta(days=4)
        s.scalars(select(m.Source).where(m.Source.name == "calm")).one().created_at -= timedelta(
            days=10
        )
    engine.dispose()
    capsys.readouterr()
    assert main(["--config", str(cfg), "sources", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "quiet" in lines["calm"].split()
    assert "failing" in lines["broken"].split() and "HTTP 404" in lines["broken"]
    assert "new" in lines["fresh"].split()


def test_an_unchanged_listing_page_is_not_crawled_again(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    def listing(headers: dict[str, str]) -> Route:
        if headers.get("if-none-match") == '"l1"':
            return 304, {"ETag": '"l1"'}, b""
        return (
            200,
            {"Content-Type": "text/html", "ETag": '"l1"', "Cache-Control": "max-age=60"},
            b"<a class='n' href='/n/1'>1</a>",
        )

    site.routes["/list"] = listing
    body = "Министерство цифрового развития внесло законопроект об искусственном интеллекте. " * 2
    site.add("/n/1", f"<html><body><article><h1>Проект</h1><p>{body}</p></article></body></html>")
    src = SourceConfig(name="portal", url=site.base + "/list", type="html", link_selector="a.n")
    with Fetcher(POLICY) as f:
        first = collect_sources(engine, flagger, f, [src])
        assert list(collect_sources(engine, flagger, f, [src]).not_due) == ["portal"]  # max-age
        second = collect_sources(engine, flagger, f, [src], force=True)
    assert first.outcomes["new"] == 1 and second.not_modified == ["portal"]
    assert site.hits.count("/n/1") == 1 and site.hits.count("/list") == 2
    assert _row(engine, "portal").etag == '"l1"'


def test_stored_articles_are_revisited_only_when_due_or_changed(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    now = datetime.now(UTC)
    stamps = {"a": now - timedelta(days=30), "b": now - timedelta(days=30)}

    def sitemap(_headers: dict[str, str]) -> Route:
        entries = "".join(
            f"<url><loc>{site.base}/p/{k}</loc><lastmod>{v.isoformat()}</lastmod></url>"
            for k, v in stamps.items()
        )
        body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
        return 200, {"Content-Type": "application/xml"}, body.encode()

    site.routes["/sm.xml"] = sitemap
    text = "Министерство цифрового развития внесло законопроект об искусственном интеллекте. "
    for k in stamps:
        site.add(f"/p/{k}", f"<html><body><article><h1>{k}</h1><p>{text * 3}</p></article>")
    src = SourceConfig(name="sm", url=site.base + "/sm.xml", type="sitemap", recent_days=60)
    with Fetcher(POLICY) as f:
        assert collect_sources(engine, flagger, f, [src]).outcomes["new"] == 2
        assert collect_sources(engine, flagger, f, [src]).items_seen == 0  # both spared
        stamps["b"] = datetime.now(UTC) + timedelta(minutes=1)  # b edited after our visit
        again = collect_sources(engine, flagger, f, [src])
        assert again.items_seen == 1 and site.hits.count("/p/b") == 2
        every = SourceConfig(
            name="sm", url=site.base + "/sm.xml", type="sitemap", recent_days=60, revisit_days=0
        )
        always = collect_sources(engine, flagger, f, [every])
    assert always.items_seen == 2 and site.hits.count("/p/a") == 2


def test_skipped_items_are_counted_on_the_source_row(
    engine: Engine, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    """Refused or failed articles of a poll are counted on the row (and shown by `sources
    list`); the next clean poll, or a failed one, resets the count."""
    body = "Министерство цифрового развития внесло законопроект об искусственном интеллекте. " * 2
    links = "".join(f"<a class='n' href='/n/{i}'>{i}</a>" for i in range(4))
    site.add("/list", links)
    site.add("/n/0", f"<html><body><article><h1>Проект</h1><p>{body}</p></article></body></html>")
    site.add("/n/1", "gone", status=404)
    site.add("/n/2", "oops", status=500)
    site.add("/n/3", "<html><body><article><h1>Пусто</h1></article></body></html>")  # no text
    src = SourceConfig(
        name="portal",
        url=site.base + "/list",
        type="html",
        link_selector="a.n",
        title_selector="h1",
        text_selector="article p",
        date_selector="time",
        revisit_days=0,
    )
    with Fetcher(POLICY) as f:
        first = collect_sources(engine, flagger, f, [src])
        assert len(first.skipped) == 3, first.skipped
        row = _row(engine, "portal")
        assert (row.items_last_run, row.skipped_last_run) == (1, 3)
        with db.session_scope(engine) as s:
            assert source_health(s, ["portal"])[0].skipped_last_run == 3
        site.add("/list", links.split("<a class='n' href='/n/1'>")[0])  # only the good one
        collect_sources(engine, flagger, f, [src])
        assert _row(engine, "portal").skipped_last_run == 0
        site.add("/list", links)
        collect_sources(engine, flagger, f, [src])
        assert _row(engine, "portal").skipped_last_run == 3
        site.add("/list", "down", status=500)
        collect_sources(engine, flagger, f, [src])
        row = _row(engine, "portal")
        assert (row.consecutive_failures, row.skipped_last_run) == (1, 0)


def test_sources_list_shows_the_skipped_count(
    tmp_path: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site.add("/list", "<a class='n' href='/n/1'>1</a><a class='n' href='/n/2'>2</a>")
    body = "Министерство цифрового развития внесло законопроект об искусственном интеллекте."
    site.add("/n/1", f"<html><body><article><h1>Проект</h1><p>{body}</p></article></body></html>")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[database]\nurl = "sqlite:///r.db"\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'
        "per_host_delay = 0.0\n"
        f'[[sources]]\nname = "portal"\nurl = "{site.base}/list"\ntype = "html"\n'
        'link_selector = "a.n"\ntext_selector = "article p"\nrobots = false\n'
    )
    assert main(["--config", str(cfg), "collect"]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), "sources", "list"]) == 0
    head, line = capsys.readouterr().out.splitlines()[:2]
    assert dict(zip(head.split()[5:8], line.split()[5:8], strict=True)) == {
        "items": "1",
        "skip": "1",
        "state": "ok",
    }, (head, line)


def test_a_busy_start_page_reaches_the_row_as_the_fetcher_raised_it(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    """A crawled source's 503 with Retry-After is recorded as the Fetcher's own error: its
    message (naming the URL it answered at, after a redirect) and its retry time — not an
    error rebuilt from a Scrapy response."""
    site.add("/old", "", status=302, headers={"Location": "/list"})
    site.add("/list", "busy", status=503, headers={"Retry-After": "1800"})
    src = SourceConfig(name="portal", url=site.base + "/old", type="html", link_selector="a.n")
    with Fetcher(POLICY) as f:
        run = collect_sources(engine, flagger, f, [src])
    message = f"fetch: {site.base}/list answered HTTP 503; server asks to retry after 1800s"
    assert run.errors == {"portal": message} and run.sources_failed == 1
    row = _row(engine, "portal")
    assert (row.last_error, row.consecutive_failures) == (message, 1)
    assert row.next_retry_at is not None and row.last_attempt_at is not None
    assert timedelta(seconds=1795) <= row.next_retry_at - row.last_attempt_at
    assert site.hits.count("/list") == 1  # robots.txt, /old, /list: nothing after the failure


def test_an_unchanged_sitemap_counts_as_not_modified(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    """A 304 to the sitemap's Last-Modified: a success with nothing parsed, nothing skipped,
    the validators kept for the next poll."""
    stamp = "Wed, 18 Nov 2026 09:00:00 GMT"
    text = "Министерство цифрового развития внесло законопроект об искусственном интеллекте. "

    def sitemap(headers: dict[str, str]) -> Route:
        if headers.get("if-modified-since") == stamp:
            return 304, {}, b""
        body = (
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{site.base}/p/1</loc></url></urlset>"
        )
        return 200, {"Content-Type": "application/xml", "Last-Modified": stamp}, body.encode()

    site.routes["/sm.xml"] = sitemap
    site.add("/p/1", f"<html><body><article><h1>Проект</h1><p>{text * 3}</p></article>")
    src = SourceConfig(name="sm", url=site.base + "/sm.xml", type="sitemap")
    lines: list[str] = []
    with Fetcher(POLICY) as f:
        first = collect_sources(engine, flagger, f, [src], progress=lines.append)
        second = collect_sources(engine, flagger, f, [src], force=True, progress=lines.append)
    assert first.outcomes["new"] == 1 and first.not_modified == []
    assert lines[1] == "[1/1] sm: not modified (304)"
    assert second.not_modified == ["sm"] and second.sources_ok == 1
    assert (second.items_seen, second.skipped, second.errors) == (0, [], {})
    assert site.hits.count("/p/1") == 1
    row = _row(engine, "sm")
    assert (row.last_modified, row.consecutive_failures, row.last_error) == (stamp, 0, None)


def test_a_polls_warning_shows_wherever_health_is_shown(
    tmp_path: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bytes replaced while decoding a feed are a warning on the source: `sources list` (text
    and JSON), the web UI's Sources page and API, and the digest's source health all say so."""
    import json

    import httpx

    from regwatch.alerts.digest import build_digest
    from regwatch.alerts.render import render_html, render_text
    from tests.web.conftest import serve

    stray = (
        (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            "<item><guid>g1</guid><title>Новость</title><link>https://gov.example/n/1</link>"
            "<description>Caf\x00 и проект закона</description></item></channel></rss>"
        )
        .encode()
        .replace(b"\x00", b"\xe9")
    )
    site.add("/rss", stray, content_type="application/rss+xml; charset=utf-8")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[database]\nurl = "sqlite:///r.db"\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'
        f'per_host_delay = 0.0\n[[sources]]\nname = "minfeed"\nurl = "{site.base}/rss"\n'
    )
    assert main(["--config", str(cfg), "collect"]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), "sources", "list"]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith("minfeed")]
    assert "warning: " in line and "not valid utf-8" in line
    assert main(["--config", str(cfg), "sources", "list", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert "1 bytes were not valid utf-8" in row["last_warning"]

    url = f"sqlite:///{tmp_path / 'r.db'}"
    with serve(url) as live, httpx.Client(base_url=live.base, timeout=30) as http:
        page = http.get("/sources")
        assert page.status_code == 200 and "warning: " in page.text
        assert "not valid utf-8" in page.text
        [api] = http.get("/api/sources").json()
        assert "not valid utf-8" in api["last_warning"]
    engine = db.make_engine(url, readonly=True)
    with db.session_scope(engine) as s:
        health = source_health(s)
    now = datetime.now(UTC)
    digest = build_digest([], now - timedelta(days=1), now, health)
    assert "minfeed: warning — " in render_text(digest)
    assert "not valid utf-8" in render_html(digest)
    engine.dispose()


@pytest.mark.parametrize(("kind", "path"), [("html", "/news"), ("sitemap", "/sm.xml")])
def test_an_empty_start_page_is_the_sources_error_for_every_spider(
    engine: Engine, flagger: Flagger, site: LocalSite, kind: Literal["html", "sitemap"], path: str
) -> None:
    """A listing page or sitemap answering 200 with nothing in it is a failure named as such,
    not a success with 0 items, and leaves no validators that would make it look unchanged."""
    site.routes[path] = lambda headers: (
        200,
        {"Content-Type": "text/html", "ETag": '"e1"'},
        b"  \n",
    )
    src = SourceConfig(name="empty", url=site.base + path, type=kind, link_selector="a.item")
    with Fetcher(POLICY) as f:
        summary = collect_sources(engine, flagger, f, [src])
    assert (summary.sources_ok, summary.sources_failed) == (0, 1)
    with db.session_scope(engine) as s:
        [health] = source_health(s)
        row = s.scalars(select(m.Source)).one()
        assert not row.etag
    assert "empty body" in (health.last_error or "") and health.consecutive_failures == 1
