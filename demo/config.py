"""``DIR/config.toml``: the demo's sources and subscriptions as a user would write them, the
database beside it — so every next step (``regwatch --config DIR/config.toml serve``, query,
digest, status) reads the demo and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_config"]

HEADER = """\
# Written by 'regwatch demo' — the settings the demo ran with, as you would write them
# (every key is described in the config.toml that 'regwatch config init' writes).
# Try:   regwatch --config {path} serve          (or: make serve)
#        regwatch --config {path} query --category draft_instrument
#        regwatch --config {path} digest --preview
#        regwatch --config {path} status
# The sample sites were served on {base} only while the demo ran, so the sources are
# disabled here: 'make demo' collects them again. Add a real one with
# 'regwatch --config {path} sources add URL' (that one fetches from the internet).
"""


def write_config(out: Path, sources_file: Path, base: str, smtp_port: int, at: str) -> Path:
    """Write ``out/config.toml`` from the demo's ``sources_file`` (its sources at ``base``,
    its subscriptions' digests at ``at``, HH:MM UTC, mail to the loopback inbox on
    ``smtp_port``) and return its path."""
    import tomlkit

    demo = tomlkit.parse(sources_file.read_text(encoding="utf-8"))
    path = out / "config.toml"
    doc = tomlkit.document()
    for line in HEADER.format(path=path, base=base).splitlines():
        doc.add(tomlkit.comment(line.removeprefix("# ").removeprefix("#")))
    doc.add(tomlkit.nl())
    doc["database"] = {"url": "sqlite:///regwatch.db"}  # beside this file
    doc["fetch"] = {
        "user_agent": "regwatch-demo/0.1 (https://github.com/regwatch; demo@demo.invalid)",
        "timeout": 10.0,
        "allow_networks": ["127.0.0.0/8"],  # the sample sites are on 127.0.0.1
        "per_host_delay": 0.0,
    }
    doc["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                   "sender": "regwatch@demo.invalid"}  # fmt: skip
    sources: list[dict[str, Any]] = []
    for block in demo.get("sources", []):
        item = dict(block.unwrap())
        item["url"] = base + item["url"]
        item["enabled"] = False
        sources.append(item)
    doc["sources"] = sources
    doc["subscriptions"] = [
        dict(block.unwrap(), digest_time=at) for block in demo.get("subscriptions", [])
    ]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path
