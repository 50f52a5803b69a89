"""Pure: signal rows → a Digest: a section for every category (or country) with signals in the
period, each with its count and its best stories; a story is listed once in full and
referenced from the other sections it touches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from regwatch.alerts.dates import COUNT_BASIS, counted_at
from regwatch.alerts.instrument_news import ClosingNews, StageNews
from regwatch.store.queries import SignalRow, SourceHealth

__all__ = [
    "COUNTRY_TITLES",
    "Digest",
    "DigestItem",
    "DigestRef",
    "Evidence",
    "Glance",
    "Section",
    "build_digest",
    "glance",
    "section_title",
    "story_keys",
]

MIN_TITLE_WORDS = 4
NEAR_TITLE = 0.8  # share of words two titles have in common to be one story
COUNTRY_TITLES = {
    "kz": "Kazakhstan",
    "kg": "Kyrgyzstan",
    "tj": "Tajikistan",
    "tm": "Turkmenistan",
    "uz": "Uzbekistan",
    "regional": "Regional",
}


def section_title(key: str, group_by: str = "category") -> str:
    """A section's heading: the country's name, or the title its rules file gives a category."""
    from regwatch.nlp.rules import category_titles

    titles = COUNTRY_TITLES if group_by == "country" else category_titles()
    return titles.get(key, key.replace("_", " ").capitalize())


def _key_of(group_by: str) -> Callable[[SignalRow], str]:
    return (lambda r: r.country) if group_by == "country" else (lambda r: r.category)


@dataclass(frozen=True)
class Evidence:
    """The sentence split around the match, so templates highlight without raw HTML."""

    before: str
    match: str
    after: str
    rule: str
    reason: str

    @classmethod
    def of(cls, row: SignalRow) -> Evidence:
        sentence = row.sentence
        at = sentence.find(row.text)
        if at < 0:
            return cls("", row.text, f" — {sentence}" if sentence else "", row.rule, row.reason)
        return cls(sentence[:at], row.text, sentence[at + len(row.text) :], row.rule, row.reason)


@dataclass(frozen=True)
class DigestItem:
    title: str
    url: str
    score: float
    sources: tuple[str, ...]
    tier: str
    country: str
    published_at: datetime | None
    evidence: Evidence
    signals: int
    also: tuple[str, ...] = ()  # the other sections this story touches
    archive: str = ""  # the archived copy in the web UI (web.public_url set, a capture kept)


@dataclass(frozen=True)
class DigestRef:
    """A story listed in full in another section: its title, link and where to find it."""

    title: str
    url: str
    score: float  # of its best signal in this section
    listed_in: str  # the title of the section that lists it in full
    anchor: str


@dataclass(frozen=True)
class Section:
    key: str  # a category id, or a country code when the digest is grouped by country
    title: str
    items: tuple[DigestItem, ...]
    hidden: int = 0  # stories past the per-section cap
    refs: tuple[DigestRef, ...] = ()  # stories listed in full in another section
    anchors: tuple[str, ...] = ()  # each item's anchor, for the references

    @property
    def count(self) -> int:
        """The stories with signals in this section."""
        return len(self.items) + len(self.refs) + self.hidden


@dataclass(frozen=True)
class Glance:
    """Signals per day for the last days, one row per section key: the at-a-glance table."""

    days: tuple[date, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]  # (title, count per day)
    basis: str = COUNT_BASIS  # which date a signal is counted on
    earlier: int = 0  # signals detected in these days but published before them

    @property
    def peak(self) -> int:
        return max((n for _, counts in self.rows for n in counts), default=0)


@dataclass(frozen=True)
class Digest:
    period_start: datetime
    period_end: datetime
    sections: tuple[Section, ...]
    failing_sources: tuple[SourceHealth, ...] = field(default_factory=tuple)
    quiet_sources: tuple[tuple[SourceHealth, datetime], ...] = field(default_factory=tuple)
    glance: Glance | None = None
    title: str = "regwatch digest"
    group_by: str = "category"
    day: date | None = None  # the subscriber's local day the digest is for
    stories: int = 0  # distinct stories in the period
    in_progress: bool = False  # a preview of a period that has not ended
    # sources whose last good poll noticed something: bytes replaced, a feed cut short
    warned_sources: tuple[SourceHealth, ...] = field(default_factory=tuple)
    # instruments (issue 16): stages reached in the period, consultations closing soon
    stage_changes: tuple[StageNews, ...] = field(default_factory=tuple)
    closing: tuple[ClosingNews, ...] = field(default_factory=tuple)
    closing_days: int = 7

    @property
    def has_news(self) -> bool:
        """Anything to tell: signals, a stage change or a consultation closing soon."""
        return bool(self.sections or self.stage_changes or self.closing)

    def _instrument_words(self) -> str:
        words = []
        if n := len(self.stage_changes):
            words.append(f"{n} stage change{'s' if n != 1 else ''}")
        if n := len(self.closing):
            words.append(f"{n} consultation{'s' if n != 1 else ''} closing")
        return ", ".join(words)

    @property
    def item_count(self) -> int:
        return self.stories

    @property
    def subject(self) -> str:
        day = (self.day or self.period_end.date()).isoformat()
        if self.in_progress:
            day += " (in progress)"
        extra = self._instrument_words()
        if not self.sections:
            if extra:
                return f"{self.title} {day}: no new signals; {extra}"
            return f"{self.title} {day}: no new signals"
        n = len(self.sections)
        nouns = (
            ("country", "countries") if self.group_by == "country" else ("category", "categories")
        )
        noun = nouns[0] if n == 1 else nouns[1]
        things = "item" if self.item_count == 1 else "items"
        subject = f"{self.title} {day}: {self.item_count} {things} in {n} {noun}"
        return f"{subject}; {extra}" if extra else subject


def build_digest(
    rows: list[SignalRow],
    period_start: datetime,
    period_end: datetime,
    health: list[SourceHealth] | None = None,
    max_items: int = 20,
    *,
    group_by: str = "category",
    quiet_days: int = 7,
    glance: Glance | None = None,
    title: str = "regwatch digest",
    day: date | None = None,
    ui_url: str = "",
) -> Digest:
    """Group signals into stories, then stories into sections by category (or country),
    best first.

    A story is one document, or the same text reached through other URLs or sources (same
    content hash), or the same title (folded, at least four words) on the same day. Every
    category it has signals in counts it, and lists it among its best ``max_items`` when its
    signal there is strong enough: in full once — in the section of its strongest signal, or
    the first that shows it — naming its other sections and all its sources, and as a
    reference to that listing everywhere else. With ``ui_url`` (web.public_url), an item
    whose document kept a capture links to its archived copy in the web UI."""
    key = _key_of(group_by)
    groups = _stories(rows)
    touching: dict[str, list[tuple[float, int]]] = defaultdict(list)  # key -> (score, story)
    for n, group in enumerate(groups):
        best_in: dict[str, float] = {}
        for r in group:
            best_in[key(r)] = max(r.score, best_in.get(key(r), r.score))
        for k, score in best_in.items():
            touching[k].append((score, n))
    for listed in touching.values():
        listed.sort(key=lambda si: (-si[0], groups[si[1]][0].title, si[1]))
    order = sorted(touching, key=lambda k: (-touching[k][0][0], k))
    shown = {k: {n for _, n in touching[k][:max_items]} for k in order}
    full_at: dict[int, str] = {}  # story -> the section that lists it in full
    for n, group in enumerate(groups):
        home = key(_best(group))
        full_at[n] = home if n in shown[home] else next((k for k in order if n in shown[k]), home)
    sections = []
    for k in order:
        items, anchors, refs = [], [], []
        for score, n in touching[k][:max_items]:
            group = groups[n]
            if full_at[n] == k:
                others = sorted({key(r) for r in group} - {k})
                also = tuple(section_title(o, group_by) for o in others)
                items.append(_item(group, also, ui_url))
                anchors.append(f"story-{n}")
            else:
                best = _best(group)
                where = section_title(full_at[n], group_by)
                refs.append(DigestRef(best.title, best.url, score, where, f"story-{n}"))
        sections.append(
            Section(
                k,
                section_title(k, group_by),
                tuple(items),
                max(0, len(touching[k]) - max_items),
                tuple(refs),
                tuple(anchors),
            )
        )
    failing = tuple(h for h in (health or []) if h.consecutive_failures > 0)
    quiet = tuple(
        (h, since)
        for h in (health or [])
        if (since := h.quiet_since(period_end, quiet_days)) is not None
    )
    return Digest(
        period_start,
        period_end,
        tuple(sections),
        failing,
        quiet,
        glance,
        title,
        group_by,
        day,
        stories=len(groups),
        warned_sources=tuple(
            h for h in (health or []) if h.last_warning and not h.consecutive_failures
        ),
    )


def _stories(rows: list[SignalRow]) -> list[list[SignalRow]]:
    """Rows grouped into stories: same content hash, or the same or a near-identical title
    (at least 80 % of the words in common) on the same day."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[object, int] = {}
    titled: dict[object, list[tuple[int, frozenset[str]]]] = defaultdict(list)  # day -> titles
    for i, row in enumerate(rows):
        find(i)
        when = row.published_at or row.detected_at
        for story_key in story_keys(row.content_hash, row.title, when):
            if story_key[0] == "title" and story_key not in first:
                titled[story_key[2]].append((i, frozenset(str(story_key[1]).split())))
            parent[find(i)] = find(first.setdefault(story_key, i))
    for same_day in titled.values():  # near-identical titles: one word changed, one added
        for i, j in near_pairs([words for _, words in same_day]):
            parent[find(same_day[j][0])] = find(same_day[i][0])
    groups: dict[int, list[SignalRow]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[find(i)].append(row)
    return list(groups.values())


def near(words: frozenset[str], other: frozenset[str]) -> bool:
    """Two titles share at least NEAR_TITLE of their words (Jaccard)."""
    return len(words & other) >= NEAR_TITLE * len(words | other)


def near_pairs(titles: list[frozenset[str]]) -> list[tuple[int, int]]:
    """Every pair (i, j), i < j, of ``near`` titles — found through an index of their rarest
    words instead of by comparing every pair (prefix filtering: two sets with Jaccard >= t
    share a word among the first ``len - floor(t * len) + 1`` of each, words ordered from
    rare to common). Equal to the all-pairs comparison; ~linear on a day of news."""
    df: dict[str, int] = defaultdict(int)
    for words in titles:
        for w in words:
            df[w] += 1
    index: dict[str, list[int]] = defaultdict(list)
    pairs: set[tuple[int, int]] = set()
    for j, words in enumerate(titles):
        ordered = sorted(words, key=lambda w: (df[w], w))
        prefix = ordered[: len(ordered) - int(NEAR_TITLE * len(ordered)) + 1]
        shortest, longest = NEAR_TITLE * len(words), len(words) / NEAR_TITLE
        candidates = {i for w in prefix for i in index[w]}
        pairs.update(
            (i, j)
            for i in candidates
            if shortest <= len(titles[i]) <= longest and near(titles[i], words)
        )
        for w in prefix:
            index[w].append(j)
    return sorted(pairs)


def story_keys(content_hash: str, title: str, when: datetime) -> list[tuple[object, ...]]:
    """What makes two documents one story: the same content, or the same title (of at least
    four words — "News" on two sites is not one story) on the same day."""
    keys: list[tuple[object, ...]] = [("hash", content_hash)]
    folded = _fold(title)
    if len(folded.split()) >= MIN_TITLE_WORDS:
        keys.append(("title", folded, when.date()))
    return keys


def _fold(title: str) -> str:
    """A title reduced to its words: case, punctuation and spacing do not make a new story."""
    return " ".join("".join(c if c.isalnum() else " " for c in title.casefold()).split())


def glance(
    rows: list[SignalRow], end: datetime, zone: tzinfo, group_by: str = "category", days: int = 7
) -> Glance:
    """Signals per local day over the ``days`` before ``end``, per section key, each on its
    published date where known (:func:`~regwatch.alerts.dates.counted_at`)."""
    last = end.astimezone(zone).date()
    day_list = tuple(last - timedelta(days=n) for n in range(days - 1, -1, -1))
    index = {d: n for n, d in enumerate(day_list)}
    key = _key_of(group_by)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    earlier = 0
    for row in rows:
        day = counted_at(row.published_at, row.detected_at).astimezone(zone).date()
        n = index.get(day)
        if n is not None:
            counts[key(row)][n] += 1
        elif day < day_list[0] and row.detected_at.astimezone(zone).date() >= day_list[0]:
            earlier += 1
    ordered = sorted(counts.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    return Glance(
        day_list,
        tuple((section_title(k, group_by), tuple(v)) for k, v in ordered),
        earlier=earlier,
    )


def _best(group: list[SignalRow]) -> SignalRow:
    return max(group, key=lambda r: (r.score, -r.signal_id))


def _item(group: list[SignalRow], also: tuple[str, ...] = (), ui_url: str = "") -> DigestItem:
    best = _best(group)
    archive = ""
    if ui_url and best.captured:
        archive = f"{ui_url.rstrip('/')}/documents/{best.document_id}/capture.warc.gz"
    sources = tuple(sorted({r.source for r in group}))
    return DigestItem(
        title=best.title,
        url=best.url,
        score=best.score,
        sources=sources,
        tier=best.tier,
        country=best.country,
        published_at=best.published_at,
        evidence=Evidence.of(best),
        signals=len(group),
        also=also,
        archive=archive,
    )
