"""The weekly timeline as geometry for an inline SVG (drawn by the template, autoescaped):
stacked bars per week, a y axis with round ticks, a legend. No script, nothing fetched."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from regwatch.store.facets import Timeline

__all__ = ["PALETTE", "Bar", "Chart", "draw"]

# Distinct on white and for common colour-blindness (Tableau 10).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str  # the tooltip: week, series and count


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    weeks: list[Label]  # x labels, thinned out to fit
    legend: list[tuple[str, str, int]]  # (colour, label, total)
    baseline: float
    left: int
    right: int


def _step(peak: int) -> int:
    """A round tick step giving at most five ticks."""
    raw = max(1.0, peak / 5)
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * magnitude >= raw:
            return int(m * magnitude)
    return int(10 * magnitude)  # pragma: no cover


def draw(timeline: Timeline, titles: Mapping[str, str]) -> Chart:
    """The chart of ``timeline``; ``titles`` names the series keys."""
    weeks = timeline.weeks
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum(counts[i] for _, counts in timeline.series) for i in range(len(weeks))]
    peak = max(totals, default=0)
    step = _step(peak)
    top = max(step, math.ceil(peak / step) * step)
    slot = plot_w / max(1, len(weeks))
    bar_w = max(1.0, slot * 0.8)
    colors = {key: PALETTE[i % len(PALETTE)] for i, (key, _) in enumerate(timeline.series)}
    bars: list[Bar] = []
    for i, week in enumerate(weeks):
        y = float(TOP + plot_h)
        for key, counts in timeline.series:
            n = counts[i]
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            name = titles.get(key, key)
            bars.append(
                Bar(
                    LEFT + i * slot + (slot - bar_w) / 2,
                    y,
                    bar_w,
                    h,
                    colors[key],
                    f"week of {week:%d %b %Y}: {name} — {n}",
                )
            )
    ticks = [Tick(TOP + plot_h - plot_h * v / top, str(v)) for v in range(0, top + 1, step)]
    every = max(1, math.ceil(len(weeks) / 8))
    labels = [
        Label(
            LEFT + i * slot + slot / 2, f"{w:%d %b}" if w.year == weeks[-1].year else f"{w:%b %Y}"
        )
        for i, w in enumerate(weeks)
        if (len(weeks) - 1 - i) % every == 0
    ]
    legend = [(colors[k], titles.get(k, k), sum(c)) for k, c in timeline.series]
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, legend, TOP + plot_h, LEFT, WIDTH - RIGHT)
