"""The demo's inbox: a real SMTP server (aiosmtpd) on 127.0.0.1 that files each message it
receives as an .eml file, so the demo's digests and alerts can be opened in a mail client."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["Mailbox", "mailbox"]


class Mailbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.received: list[Path] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        n = len(list(self.folder.glob("*.eml"))) + 1
        path = self.folder / f"{n:04d}.eml"
        path.write_bytes(envelope.content)
        self.received.append(path)
        return "250 Message accepted"


@contextmanager
def mailbox(folder: Path) -> Iterator[Mailbox]:
    folder.mkdir(parents=True, exist_ok=True)
    box = Mailbox(folder)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        box.port = int(s.getsockname()[1])
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
