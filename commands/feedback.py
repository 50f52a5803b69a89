"""`regwatch feedback`, `eval --feedback` and `train`: analysts teach the flagger."""

from __future__ import annotations

import argparse
from pathlib import Path

from regwatch.commands.common import load_settings, open_engine, open_reader
from regwatch.errors import UsageError

__all__ = ["add_feedback_commands", "cmd_eval", "cmd_feedback", "cmd_train"]


def cmd_feedback(args: argparse.Namespace) -> int:
    from regwatch.nlp.rules import load_rules
    from regwatch.store import db
    from regwatch.store.feedback import judge_signal, mark_missed

    document: int | None = args.document
    missed: str | None = args.missed
    signal_id: int | None = args.signal_id
    relevant: bool | None = args.relevant
    note: str = args.note
    if document is not None:
        if missed is None or signal_id is not None or relevant is not None:
            raise UsageError(
                "feedback --document DOC_ID needs --missed CATEGORY (and no SIGNAL_ID)"
            )
    elif signal_id is None or relevant is None or missed is not None:
        raise UsageError(
            "feedback: give SIGNAL_ID with --relevant or --not-relevant, "
            "or --document DOC_ID --missed CATEGORY"
        )
    engine = open_engine(load_settings(args), read=True)
    with db.session_scope(engine) as s:
        if document is not None and missed is not None:
            row = mark_missed(s, document, missed, load_rules().categories, note)
        elif signal_id is not None and relevant is not None:
            row = judge_signal(s, signal_id, relevant, note)
        else:  # pragma: no cover - refused above
            raise UsageError("feedback: nothing to record")
        print(f"feedback {row.id}: document {row.document_id} {row.category} {row.verdict}")
    engine.dispose()
    return 0


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def cmd_eval(args: argparse.Namespace) -> int:
    from regwatch.store import db
    from regwatch.store.feedback import precision

    if not args.feedback:
        raise UsageError("eval: only 'regwatch eval --feedback' here; 'make eval' for the sets")
    engine = open_reader(load_settings(args))
    with db.session_scope(engine) as s:
        rules, categories = precision(s)
    engine.dispose()
    for title, rows in (("rule", rules), ("category", categories)):
        print(f"{title:<40} {'precision':>9} {'relevant':>8} {'not':>5} {'missed':>6}")
        for r in rows:
            print(
                f"{r.key:<40} {_ratio(r.precision):>9} {r.relevant:>8} {r.not_relevant:>5} "
                f"{r.missed if title == 'category' else '':>6}"
            )
        if not rows:
            print("(no feedback yet)")
        print()
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from regwatch.nlp.evaluate import Example
    from regwatch.nlp.learned import DEFAULT_MODEL
    from regwatch.nlp.train import retrain
    from regwatch.store import db
    from regwatch.store.feedback import training_texts

    engine = open_reader(load_settings(args))
    with db.session_scope(engine) as s:
        texts = training_texts(s)
    engine.dispose()
    extra = [Example(t.key, "", t.title, t.text, t.labels, "feedback") for t in texts]
    out: Path = args.out or DEFAULT_MODEL
    done = retrain(extra, out, current=DEFAULT_MODEL if out != DEFAULT_MODEL else None)
    print("\n".join(done.lines))
    return 0 if done.replaced else 1


def add_feedback_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fb = sub.add_parser("feedback", help="mark a signal relevant or not, or a missed category")
    fb.add_argument("signal_id", metavar="SIGNAL_ID", type=int, nargs="?")
    verdict = fb.add_mutually_exclusive_group()
    verdict.add_argument("--relevant", dest="relevant", action="store_const", const=True)
    verdict.add_argument("--not-relevant", dest="relevant", action="store_const", const=False)
    fb.add_argument("--document", metavar="DOC_ID", type=int, help="a document ...")
    fb.add_argument("--missed", metavar="CATEGORY", help="... that is about CATEGORY unflagged")
    fb.add_argument("--note", default="", metavar="TEXT", help="why, for the team")
    fb.set_defaults(func=cmd_feedback, relevant=None)
    ev = sub.add_parser("eval", help="precision per rule and per category from feedback")
    ev.add_argument("--feedback", action="store_true", help="from the analysts' feedback")
    ev.set_defaults(func=cmd_eval)
    tr = sub.add_parser(
        "train", help="retrain the learned stage with feedback; refuses if dev gets worse"
    )
    tr.add_argument("--out", type=Path, help="the model file (default: the bundled one)")
    tr.set_defaults(func=cmd_train)
