"""Rules as data: load and validate ``nlp/rules/*.toml``.

``terms.toml`` holds named term lists (``[terms] ai = [...]``) that rules use as context with
``"@ai"``. Every other file is one category:

    category = "digital_security"
    title = "Digital security as a regulatory frame"   # the heading digests and the UI show
    description = "…"
    [[rules]]
    id = "digital_security.phrase"   # unique, starts with the category
    phrases = ["цифровая безопасность", "digital security"]   # matched on lemmas
    patterns = [[{LOWER = {REGEX = "^raqamli$"}}, {LOWER = "xavfsizlik"}]]  # spaCy Matcher
    context = ["@ai", "@regulation", "закон"]   # term lists (@name) or phrases
    score = 0.35            # with no context anywhere in the document (0 drops the match)
    document_score = 0.6    # context elsewhere in the document
    sentence_score = 0.9    # context in the same sentence
    exclude = ["…"]         # phrases that cancel a match in the same sentence (or a term
                            # list, "@name", whose every term does)
    requires = ["@region"]  # without one of these anywhere in the document: no signal
                            # ("@two_countries": two countries named in the sentence)
    sentence_requires = ["@parties"]  # without one of these in the match's own sentence (its
                            # own words count): no signal — a second condition beside context
    self_context = true     # context words inside the match count ("draft AI strategy")
    fallback = true         # a signal only where no other rule of the category has one in the
                            # same sentence (the best fallback there): a bill's procedural stage
                            # where no "draft law" is named
    instrument = "law"      # draft_instrument only: law, code, decree, resolution, order,
                            # concept, strategy or programme

Two more files are data for every signal's evidence: ``gazetteer.toml`` (countries and key
bodies in six languages) and ``instruments.toml`` (the stages of a draft instrument).
Context terms, exclusions and gazetteer names are matched by lemma or stem (see nlp/terms.py),
so any inflection counts.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from regwatch.errors import RulesError

__all__ = [
    "BUNDLED_RULES",
    "INSTRUMENTS",
    "Body",
    "Rule",
    "RuleSet",
    "Stage",
    "category_titles",
    "load_rules",
]

BUNDLED_RULES = Path(__file__).parent / "rules"
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_RULE_KEYS = {
    "id",
    "phrases",
    "patterns",
    "context",
    "score",
    "document_score",
    "sentence_score",
    "exclude",
    "description",
    "instrument",
    "requires",
    "sentence_requires",
    "self_context",
    "fallback",
}
TWO_COUNTRIES = "@two_countries"
INSTRUMENTS = (
    "law",
    "code",
    "decree",
    "resolution",
    "order",
    "concept",
    "strategy",
    "programme",
    "agreement",
)
_DATA_FILES = {"terms.toml", "gazetteer.toml", "instruments.toml"}


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    phrases: tuple[str, ...]
    patterns: tuple[tuple[dict[str, Any], ...], ...]
    context: tuple[str, ...]
    score: float
    document_score: float
    sentence_score: float
    exclude: tuple[str, ...]
    instrument: str | None = None
    requires: tuple[str, ...] = ()
    self_context: bool = False
    sentence_requires: tuple[str, ...] = ()
    fallback: bool = False


@dataclass(frozen=True)
class Body:
    id: str
    country: str
    name: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Stage:
    name: str
    terms: tuple[str, ...]
    score_factor: float


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    terms: dict[str, tuple[str, ...]]
    categories: dict[str, str]  # category id -> description
    countries: dict[str, tuple[str, ...]] = field(default_factory=dict)
    bodies: tuple[Body, ...] = ()
    stages: tuple[Stage, ...] = ()
    titles: dict[str, str] = field(default_factory=dict)  # category id -> title, where given

    def context_phrases(
        self, rule: Rule, items: tuple[str, ...] | None = None
    ) -> dict[str, tuple[str, ...]]:
        """Rule's context (or ``items``) as {label: phrases}; a term list keeps its @name."""
        out: dict[str, tuple[str, ...]] = {}
        for item in rule.context if items is None else items:
            if item == TWO_COUNTRIES:
                continue
            if item.startswith("@"):
                out[item[1:]] = self.terms[item[1:]]
            else:
                out[item] = (item,)
        return out


def load_rules(folder: Path | str | None = None) -> RuleSet:
    folder = Path(folder) if folder else BUNDLED_RULES
    if not folder.is_dir():
        raise RulesError(f"rules: {folder} is not a folder; set nlp.rules_dir to a rules folder")
    terms: dict[str, tuple[str, ...]] = {}
    terms_file = folder / "terms.toml"
    if terms_file.exists():
        raw = _read(terms_file)
        unknown = set(raw) - {"terms"}
        if unknown:
            raise RulesError(
                f"rules: {terms_file}: unknown key {sorted(unknown)[0]!r}; only [terms]"
            )
        for name, items in raw.get("terms", {}).items():
            terms[name] = _strings(items, terms_file, f"terms.{name}")
    countries, bodies = _load_gazetteer(folder / "gazetteer.toml")
    stages = _load_stages(folder / "instruments.toml")
    rules: list[Rule] = []
    categories: dict[str, str] = {}
    titles: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name in _DATA_FILES:
            continue
        category, title, description, file_rules = _load_category(path, terms)
        if category in categories:
            raise RulesError(f"rules: {path}: category {category!r} is defined in two files")
        categories[category] = description
        if title:
            titles[category] = title
        rules.extend(file_rules)
    ids = [r.id for r in rules]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RulesError(f"rules: {folder}: rule id {sorted(dupes)[0]!r} is used twice")
    if not rules:
        raise RulesError(f"rules: {folder} holds no rules (*.toml with [[rules]])")
    return RuleSet(
        rules=tuple(rules),
        terms=terms,
        categories=categories,
        countries=countries,
        bodies=bodies,
        stages=stages,
        titles=titles,
    )


@functools.cache
def category_titles() -> Mapping[str, str]:
    """Each bundled category's title (the ``title`` of its rules file), read once: the
    headings of digests and alerts and the labels of the web UI."""
    return MappingProxyType(load_rules().titles)


def _load_gazetteer(path: Path) -> tuple[dict[str, tuple[str, ...]], tuple[Body, ...]]:
    if not path.exists():
        return {}, ()
    raw = _read(path)
    unknown = set(raw) - {"countries", "bodies"}
    if unknown:
        raise RulesError(
            f"rules: {path}: unknown key {sorted(unknown)[0]!r}; "
            "use [countries.<code>] and [bodies.<id>]"
        )
    countries: dict[str, tuple[str, ...]] = {}
    for code, table in raw.get("countries", {}).items():
        if not isinstance(table, dict) or set(table) != {"names"}:
            raise RulesError(f"rules: {path}: [countries.{code}] needs exactly names = [...]")
        countries[code] = _strings(table["names"], path, f"countries.{code}.names")
    bodies: list[Body] = []
    for bid, table in raw.get("bodies", {}).items():
        if not isinstance(table, dict) or set(table) != {"country", "name", "names"}:
            raise RulesError(f"rules: {path}: [bodies.{bid}] needs country, name and names")
        if table["country"] not in countries:
            raise RulesError(
                f"rules: {path}: [bodies.{bid}] country {table['country']!r} is "
                "not under [countries]"
            )
        bodies.append(
            Body(
                bid,
                str(table["country"]),
                str(table["name"]),
                _strings(table["names"], path, f"bodies.{bid}.names"),
            )
        )
    return countries, tuple(bodies)


def _load_stages(path: Path) -> tuple[Stage, ...]:
    if not path.exists():
        return ()
    raw = _read(path)
    if set(raw) - {"stages"}:
        raise RulesError(f"rules: {path}: only [stages.<name>] tables belong here")
    stages = []
    for name, table in raw.get("stages", {}).items():
        if not isinstance(table, dict) or set(table) - {"terms", "score_factor"}:
            raise RulesError(f"rules: {path}: [stages.{name}] takes terms and score_factor")
        factor = table.get("score_factor", 1.0)
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 <= factor <= 1:
            raise RulesError(f"rules: {path}: stages.{name}.score_factor must be within 0..1")
        stages.append(
            Stage(
                name, _strings(table.get("terms", []), path, f"stages.{name}.terms"), float(factor)
            )
        )
    return tuple(stages)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"rules: {path}: not valid TOML ({exc})") from None


def _load_category(
    path: Path, terms: dict[str, tuple[str, ...]]
) -> tuple[str, str, str, list[Rule]]:
    raw = _read(path)
    unknown = set(raw) - {"category", "title", "description", "rules"}
    if unknown:
        raise RulesError(
            f"rules: {path}: unknown key {sorted(unknown)[0]!r}; "
            "a rules file has category, title, description and [[rules]]"
        )
    category = raw.get("category")
    if not isinstance(category, str) or not _CATEGORY_RE.match(category):
        raise RulesError(f"rules: {path}: category must be a snake_case id like 'digital_security'")
    title = raw.get("title", "")
    if not isinstance(title, str) or title != title.strip() or "\n" in title:
        raise RulesError(f"rules: {path}: title must be one line of text, like 'Surveillance'")
    description = str(raw.get("description", ""))
    items = raw.get("rules")
    if not isinstance(items, list) or not items:
        raise RulesError(f"rules: {path}: add at least one [[rules]] block")
    return (
        category,
        title,
        description,
        [_rule(item, category, path, i, terms) for i, item in enumerate(items)],
    )


def _rule(
    item: dict[str, Any], category: str, path: Path, i: int, terms: dict[str, tuple[str, ...]]
) -> Rule:
    where = f"rules: {path}: rules[{i}]"
    unknown = set(item) - _RULE_KEYS
    if unknown:
        raise RulesError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (valid: {', '.join(sorted(_RULE_KEYS))})"
        )
    rid = item.get("id")
    if not isinstance(rid, str) or not rid.startswith(category + "."):
        raise RulesError(f"{where}: id must be a string starting with '{category}.'")
    where = f"rules: {path}: rule {rid}"
    phrases = _strings(item.get("phrases", []), path, f"{rid}.phrases")
    patterns_raw = item.get("patterns", [])
    if not isinstance(patterns_raw, list) or not all(
        isinstance(p, list) and p and all(isinstance(t, dict) for t in p) for p in patterns_raw
    ):
        raise RulesError(f"{where}: patterns must be a list of token-pattern lists")
    if not phrases and not patterns_raw:
        raise RulesError(f"{where}: give phrases or patterns (or both)")
    context = _strings(item.get("context", []), path, f"{rid}.context")
    requires = _strings(item.get("requires", []), path, f"{rid}.requires")
    in_sentence = _strings(item.get("sentence_requires", []), path, f"{rid}.sentence_requires")
    for c in (*context, *(r for r in (*requires, *in_sentence) if r != TWO_COUNTRIES)):
        if c.startswith("@") and c[1:] not in terms:
            raise RulesError(
                f"{where}: context {c!r} names no term list; define it in terms.toml [terms]"
            )
    scores: dict[str, float] = {}
    for key, default in (("score", 0.5), ("document_score", None), ("sentence_score", None)):
        value = item.get(key, default if default is not None else scores.get("score", 0.5))
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise RulesError(f"{where}: {key} must be a number within 0..1, got {value!r}")
        scores[key] = float(value)
    exclude: list[str] = []
    for e in _strings(item.get("exclude", []), path, f"{rid}.exclude"):
        if not e.startswith("@"):
            exclude.append(e)
        elif e[1:] in terms:
            exclude += terms[e[1:]]
        else:
            raise RulesError(
                f"{where}: exclude {e!r} names no term list; define it in terms.toml [terms]"
            )
    instrument = item.get("instrument")
    if instrument is not None and instrument not in INSTRUMENTS:
        raise RulesError(f"{where}: instrument must be one of {', '.join(INSTRUMENTS)}")
    return Rule(
        instrument=instrument,
        requires=requires,
        sentence_requires=in_sentence,
        fallback=bool(item.get("fallback", False)),
        self_context=bool(item.get("self_context", False)),
        id=rid,
        category=category,
        phrases=phrases,
        patterns=tuple(tuple(p) for p in patterns_raw),
        context=context,
        score=scores["score"],
        document_score=scores["document_score"],
        sentence_score=scores["sentence_score"],
        exclude=tuple(dict.fromkeys(exclude)),
    )


def _strings(value: Any, path: Path, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RulesError(f"rules: {path}: {key} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)
