"""`regwatch config init` (the documented settings template) and `regwatch alerts test`
(one message through each of a subscription's channels): what a new user runs first."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from email.utils import make_msgid
from pathlib import Path

from regwatch.commands.common import load_settings, make_channels
from regwatch.config import default_config_path
from regwatch.errors import RegwatchError, UsageError

TEMPLATE = Path(__file__).resolve().parent.parent / "config.toml"  # shipped in the wheel


def cmd_config_init(args: argparse.Namespace) -> int:
    target = Path(args.path) if args.path else default_config_path()
    if target.exists() and not args.force:
        raise UsageError(
            f"config init: {target} exists; pick another PATH, or --force to replace it"
        )
    try:
        target.write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"config init: cannot write {target} ({exc.strerror})") from None
    print(
        f"wrote {target}: every setting with its default and a comment. Next: edit its "
        f"[[sources]] and [[subscriptions]], then 'regwatch --config {target} config check' "
        "and 'regwatch collect'"
    )
    return 0


def cmd_alerts_test(args: argparse.Namespace) -> int:
    from regwatch.alerts.channels import Content

    s = load_settings(args)
    sub = s.subscription(args.subscription)
    channels = make_channels(s)
    found = {c.name: c for kind in ("digest", "alert") for c in channels.of(sub, kind)}
    problems = channels.problems(sub)
    if not found and not problems:
        raise UsageError(
            f"alerts test: subscription {sub.name!r} has no channel; give it recipients "
            "(email) or webhooks in config.toml"
        )
    now = datetime.now(UTC)
    content = Content(
        subject=f"regwatch test message for {sub.name}",
        text=f"This is a test from 'regwatch alerts test {sub.name}' at {now:%Y-%m-%d %H:%M} "
        "UTC. Digests and alerts for this subscription will arrive the same way.\n",
        html=f"<p>This is a test from <code>regwatch alerts test {sub.name}</code> at "
        f"{now:%Y-%m-%d %H:%M} UTC. Digests and alerts for this subscription will arrive "
        "the same way.</p>",
    )
    failed = len(problems)
    for problem in problems:
        print(f"  not sent: {problem}", file=sys.stderr)
    for channel in found.values():
        target = channel.target(sub)
        try:
            payload = channel.render(sub, content, make_msgid(domain=channels.message_domain), now)
            note = channel.send(target, payload)
        except RegwatchError as exc:
            failed += 1
            print(f"{channel.name} → {target}: failed: {exc}")
            continue
        print(f"{channel.name} → {target}: sent" + (f" ({note})" if note else ""))
    return 3 if failed else 0
