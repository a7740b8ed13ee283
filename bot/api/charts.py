"""Chart geometry for the dashboard: the server computes the shapes, templates draw SVG.

No script and no chart library: the page works offline and on any phone. Every chart
has a fixed view box and scales to its container's width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 400
LABEL_WIDTH = 150
ROW = 26
COLUMN_HEIGHT = 160
PLOT_TOP = 12


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    text: str
    """The value as written next to the bar (a count, "42.0%")."""
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    empty: bool


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: str
    """SVG polyline points."""
    dots: tuple[tuple[float, float, str], ...]
    """(x, y, tooltip) of each day."""


@dataclass(frozen=True, slots=True)
class LineChart:
    width: int
    height: int
    series: tuple[Series, ...]
    ticks: tuple[tuple[float, str], ...]
    """(x, label) of the days named under the chart."""
    top: int
    empty: bool


def horizontal_bars(rows: Sequence[tuple[str, float, str]], *, scale: float | None = None) -> Chart:
    """One bar per (label, value, text); `scale` is the full width's value (else the max)."""
    top = scale or max((value for _, value, _ in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 50
    bars = tuple(
        Bar(label, text, LABEL_WIDTH, index * ROW + 4, span * value / top, ROW - 8)
        for index, (label, value, text) in enumerate(rows)
    )
    return Chart(WIDTH, max(1, len(rows)) * ROW, bars, not any(v for _, v, _ in rows))


def columns(rows: Sequence[tuple[str, float, str]]) -> Chart:
    """Vertical columns with their label under them."""
    top = max((value for _, value, _ in rows), default=0) or 1
    slot = WIDTH / max(1, len(rows))
    plot = COLUMN_HEIGHT - 30
    bars = tuple(
        Bar(
            label,
            text,
            index * slot + slot * 0.15,
            PLOT_TOP + plot - plot * value / top,
            slot * 0.7,
            plot * value / top,
        )
        for index, (label, value, text) in enumerate(rows)
    )
    return Chart(WIDTH, COLUMN_HEIGHT + PLOT_TOP, bars, not any(v for _, v, _ in rows))


def line_chart(days: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> LineChart:
    """A polyline per series over the days; about six day labels under the axis."""
    top = max((max(values, default=0) for _, values in series), default=0)
    scale = top or 1
    plot = COLUMN_HEIGHT - 30
    step = WIDTH / max(1, len(days) - 1) if len(days) > 1 else 0

    def x(index: int) -> float:
        return round(index * step, 1) if len(days) > 1 else WIDTH / 2

    def y(value: int) -> float:
        return round(PLOT_TOP + plot - plot * value / scale, 1)

    drawn = tuple(
        Series(
            name,
            " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values)),
            tuple((x(i), y(v), f"{days[i]}: {v}") for i, v in enumerate(values)),
        )
        for name, values in series
    )
    every = max(1, len(days) // 6)
    ticks = tuple((x(i), day) for i, day in enumerate(days) if i % every == 0)
    return LineChart(WIDTH, COLUMN_HEIGHT + PLOT_TOP, drawn, ticks, top, top == 0)
