"""A loopback HTTP server for the bundled sample sites; ``__BASE__`` in files becomes its URL."""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["content_type", "serve"]

_TYPES = {
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def content_type(path: Path) -> str:
    return _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"


class _Handler(SimpleHTTPRequestHandler):
    base: str = ""

    def __init__(self, *args: Any, base: str, **kwargs: Any) -> None:
        self.base = base
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            self.send_error(HTTPStatus.NOT_FOUND, "not found")
            return
        body = path.read_bytes().replace(b"__BASE__", self.base.encode())
        ctype = content_type(path)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


@contextmanager
def serve(root: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``root`` on a free port of ``host``; yield the base URL; stop on exit."""
    holder: dict[str, str] = {}

    def handler(*args: Any, **kwargs: Any) -> _Handler:
        return _Handler(*args, base=holder["base"], directory=str(root), **kwargs)

    server = ThreadingHTTPServer((host, 0), partial(handler))
    server.daemon_threads = True
    holder["base"] = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="demo-http", daemon=True)
    thread.start()
    try:
        yield holder["base"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
