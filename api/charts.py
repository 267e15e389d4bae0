"""Stacked bar charts as geometry for inline SVG, drawn on the server: no chart library and no script in the
page, so the dashboard works without JavaScript, prints, and needs nothing from a CDN. Pure functions; the
template (api/templates/dashboard.html) draws the rectangles and a table with the same numbers beside each
chart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# Colours with at least 3:1 contrast on white (WCAG 1.4.11), told apart by the legend's text as well.
# One colour per outcome (``knowledge.outcomes.OUTCOMES``), each at least 3:1 against white (WCAG non-text contrast).
PALETTE = (
    "#0b5cad",
    "#b34700",
    "#2e7d32",
    "#7b1fa2",
    "#c62828",
    "#555555",
    "#00696b",
    "#8a6d00",
    "#ad1457",
    "#4e342e",
)
WEEKS_ABOVE_DAYS = 92  # longer periods are drawn by week, so that bars stay wide enough to see


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str  # the tooltip, e.g. "2026-11-30 · web: 12"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    maximum: int  # the value at the top of the axis
    labels: list[tuple[float, str]]  # x position and text under the axis (first, middle and last period)
    legend: list[tuple[str, str]]  # (colour, key)


@dataclass(frozen=True)
class Period:
    start: date
    values: dict[str, int]


def by_week(days: Sequence[Period]) -> list[Period]:
    """Sum daily values into weeks beginning on Monday."""
    weeks: dict[date, dict[str, int]] = {}
    for day in days:
        monday = day.start - timedelta(days=day.start.weekday())
        into = weeks.setdefault(monday, {})
        for key, value in day.values.items():
            into[key] = into.get(key, 0) + value
    return [Period(start, values) for start, values in weeks.items()]


def stacked_bars(
    periods: Sequence[Period], keys: Sequence[str], names: Mapping[str, str], width: int = 720, height: int = 220
) -> Chart:
    """One bar per period, stacked by ``keys`` in that order; ``names`` are the keys as people read them."""
    plot_height = height - 24  # room for the labels under the axis
    maximum = max((sum(p.values.get(k, 0) for k in keys) for p in periods), default=0)
    step = width / max(len(periods), 1)
    bar_width = max(step * 0.8, 1.0)
    bars: list[Bar] = []
    for i, period in enumerate(periods):
        top = float(plot_height)
        for k, key in enumerate(keys):
            value = period.values.get(key, 0)
            if not value:
                continue
            h = plot_height * value / maximum
            top -= h
            colour = PALETTE[k % len(PALETTE)]
            title = f"{period.start.isoformat()} · {names.get(key, key)}: {value}"
            bars.append(Bar(round(i * step, 2), round(top, 2), round(bar_width, 2), round(h, 2), colour, title))
    picks = sorted({0, len(periods) // 2, len(periods) - 1}) if periods else []
    labels = [(round(i * step, 2), periods[i].start.isoformat()) for i in picks]
    legend = [(PALETTE[k % len(PALETTE)], key) for k, key in enumerate(keys)]
    return Chart(width, height, bars, maximum, labels, legend)
