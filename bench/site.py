"""A loopback site for the collection benchmarks, run in its own process (``python -m
bench.site``) so it does not share the measured process's GIL. It prints its port, then serves:

- ``/list`` — a listing with links to ``/a/0`` … ``/a/{ARTICLES-1}``;
- ``/a/N`` — an article page (~6 KB: navigation, h1, time, body paragraphs, footer);
- ``/feed/N.xml`` — an RSS feed with ETag ``"vN"``; a request carrying that ETag in
  If-None-Match gets ``304 Not Modified`` and no body.

A minimal asyncio HTTP/1.1 server with keep-alive (the standard library's threading server
was the bottleneck at ~170 pages/s); pages are generated once, at start-up.
"""

from __future__ import annotations

import asyncio
import sys

ARTICLES = 2000
FEEDS = 500
PARA = (
    "Министерство цифрового развития опубликовало для публичного обсуждения проект закона о "
    "платформах и искусственном интеллекте; обсуждение продлится до конца месяца. "
)


def _article(i: int) -> bytes:
    nav = "".join(f"<li><a href='/s/{k}'>Раздел {k}</a></li>" for k in range(20))
    body = "".join(f"<p>{PARA * 3} ({i}.{k})</p>" for k in range(8))
    return (
        f"<!DOCTYPE html><html lang='ru'><head><meta charset='utf-8'><title>Новость {i}</title>"
        f"</head><body><nav><ul>{nav}</ul></nav><h1>Новость номер {i}</h1>"
        f"<time datetime='2026-11-{1 + i % 28:02d}T09:00:00+05:00'>{1 + i % 28}.11.2026</time>"
        f"<div class='body'>{body}</div><footer>© 2026 Министерство</footer></body></html>"
    ).encode()


def _feed(i: int) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F{i}</title>'
        f"<item><title>Item {i}</title><link>https://feeds.example/{i}/1</link>"
        f"<description>{PARA}</description></item></channel></rss>"
    ).encode()


PAGES: dict[str, bytes] = {f"/a/{i}": _article(i) for i in range(ARTICLES)}
PAGES["/list"] = (
    "<html><body><ul>"
    + "".join(f"<li><a class='item' href='/a/{i}'>{i}</a></li>" for i in range(ARTICLES))
    + "</ul></body></html>"
).encode()
FEED_BODIES = {f"/feed/{i}.xml": _feed(i) for i in range(FEEDS)}


def respond(path: str, headers: dict[str, str]) -> bytes:
    """The whole HTTP/1.1 response for a GET of ``path``."""
    extra = ""
    if path in FEED_BODIES:
        etag = f'"v{path.split("/")[-1].split(".")[0]}"'
        if headers.get("if-none-match") == etag:
            return (
                f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n".encode()
            )
        status, body, ctype, extra = "200 OK", FEED_BODIES[path], "application/rss+xml", etag
        extra = f"ETag: {etag}\r\n"
    elif path in PAGES:
        status, body, ctype = "200 OK", PAGES[path], "text/html; charset=utf-8"
    else:
        status, body, ctype = "404 Not Found", b"not found", "text/plain"
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


async def _client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Keep-alive: answer GET requests on the connection until the client closes it."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            writer.write(respond(path, headers))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


async def serve() -> None:
    server = await asyncio.start_server(_client, "127.0.0.1", 0, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    sys.stdout.close()
    async with server:
        await server.serve_forever()


def main() -> None:
    asyncio.run(serve())


if __name__ == "__main__":
    main()
