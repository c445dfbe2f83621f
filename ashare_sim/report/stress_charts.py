"""Charts of stress.html (inline PNG data URIs, the style of report.charts).

Each function returns a `data:image/png;base64,...` string, or None with nothing to draw.

A numeric axis (slippage, volume cap, cash, crowd, delay) is drawn on a numeric scale, log when its
values span a decade or more, so equal steps of the setting are equal distances and a monotone effect
reads as one; its `none` (no limit) value has no place on that scale and gets its own slot past the
right edge, behind a dashed separator, never joined to the line. Other axes (deal price, limit rule)
are categories, one marker each.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.ticker import MaxNLocator, NullFormatter, PercentFormatter

from ashare_sim.report.charts import (
    C_BENCH,
    C_EXCESS,
    C_NEG,
    C_PORT,
    WIDTH,
    _legend_top,
    _png,
    panels,
    side_by_side,
)
from ashare_sim.report.tables import cny_short

C_POS = "#2e8b57"
LINE_COLORS = [C_PORT, C_EXCESS, C_POS, "#8e44ad", C_NEG, "#17a2b8"]
# Slices that give the same result draw on top of each other: a shape and size each (largest first)
# keeps every colour visible at the edges of the ones above it.
MARKERS = [("o", 7.5), ("s", 6.5), ("^", 6.0), ("v", 5.0), ("P", 4.5), ("X", 4.0)]
# (metrics.json key, panel title, share?) of the per-axis panels.
AXIS_METRICS = [("annual_return", "Annual return", True), ("excess_annual_return", "Excess return (annual)", True),
                ("information_ratio", "Information ratio", False), ("max_drawdown", "Max drawdown", True),
                ("annual_turnover", "Turnover (x a year)", False), ("costs_annual_pct", "Costs a year", True),
                ("blocked_volume_cap", "Intents cut by the volume cap", True),
                ("participation_p95", "Fills: 95th pct of day volume", True)]
# Values whose largest / smallest reaches this span a decade: a log axis keeps 1e7 and 1e8 apart.
LOG_AXIS_RATIO = 10.0
# The none slot sits this share of the values' span past the largest value (the separator half way).
NONE_GAP = 0.35
# Grid values closer than this share of the span would print over each other: round ticks instead.
TICK_ROOM = 0.12
# Heat-map cells: red below 0, white at 0, green above (the colours of the report's monthly table).
HEAT = LinearSegmentedColormap.from_list("stress_heat", [C_NEG, "#ffffff", C_POS]).with_extremes(bad="#eef0f3")
CELL_IN, ROW_IN = 0.95, 0.42      # heat-map cell size, inches


@dataclass
class Axis:
    """The x positions of one varied key: `values[i]` is position i's number (None: the none slot) on a
    numeric axis, its value as the table holds it on a category axis; `labels[i]` its text. `fmt` labels
    any number of a numeric axis (round ticks between grid values)."""
    key: str
    labels: list[str]
    values: list[Any]
    numeric: bool
    log: bool = False
    fmt: Callable[[float], str] = field(default=lambda v: f"{v:g}")

    @property
    def has_none(self) -> bool:
        return self.numeric and any(v is None for v in self.values)


@dataclass
class Series:
    label: str
    values: dict[str, list[Optional[float]]]                 # metric -> one value per x position
    low: dict[str, list[Optional[float]]] = field(default_factory=dict)    # band (min over the others)
    high: dict[str, list[Optional[float]]] = field(default_factory=dict)


@dataclass
class HeatMap:
    """Two axes of a cross product: rows x cols of mean excess return and IR (NaN: no scenario ran)."""
    rows: Axis
    cols: Axis
    excess: np.ndarray
    ir: np.ndarray


def numeric_axis(key: str, values: list[Optional[float]], labels: list[str],
                 fmt: Callable[[float], str]) -> Axis:
    """An Axis over numbers (None = the none slot), log when the positive values span LOG_AXIS_RATIO."""
    nums = [v for v in values if v is not None]
    log = len(set(nums)) >= 2 and min(nums) > 0 and max(nums) / min(nums) >= LOG_AXIS_RATIO
    return Axis(key, labels, values, True, log, fmt)


def _arr(v: list[Optional[float]]) -> np.ndarray:
    return np.array([np.nan if x is None else float(x) for x in v], dtype=float)


def _readable_span(ax, values: list[float]) -> None:
    """Keep a nearly flat line flat: at least 2% of its level (or 0.001) of y range, so tick labels do not
    repeat or switch to an offset."""
    if not values:
        return
    lo, hi = min(values), max(values)
    need = max(0.02 * max(abs(lo), abs(hi)), 1e-3)
    if hi - lo < need:
        mid = (hi + lo) / 2
        ax.set_ylim(mid - need, mid + need)


def _scale(axis: Axis) -> tuple[Callable[[float], float], Callable[[float], float]]:
    """To and from the axis's drawn coordinate: log10 on a log axis, where gaps and margins are measured."""
    return (math.log10, lambda t: 10.0 ** t) if axis.log else (float, float)


def _positions(axis: Axis) -> tuple[np.ndarray, Optional[float]]:
    """(the x coordinate of each position, the separator's x or None) in data units."""
    if not axis.numeric:
        return np.arange(len(axis.values), dtype=float), None
    fwd, back = _scale(axis)
    nums = [fwd(v) for v in axis.values if v is not None]
    lo, hi = min(nums), max(nums)
    span = (hi - lo) or abs(hi) or 1.0
    xs = np.array([back(fwd(v)) if v is not None else back(hi + NONE_GAP * span) for v in axis.values])
    return xs, (back(hi + NONE_GAP * span / 2) if axis.has_none else None)


def _x_axis(ax, axis: Axis) -> None:
    """Scale, limits and ticks of `axis`: the grid's own values when they have room, else round values,
    and the none slot labelled."""
    xs, sep = _positions(axis)
    if not axis.numeric:
        ax.set_xticks(xs, axis.labels, fontsize=8)
        ax.set_xlim(-0.5, len(xs) - 0.5)
        return
    if axis.log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    fwd, back = _scale(axis)
    nums = sorted({float(v) for v in axis.values if v is not None})
    t = [fwd(v) for v in nums]
    span = (t[-1] - t[0]) or abs(t[-1]) or 1.0
    if len(t) < 2 or min(b - a for a, b in zip(t, t[1:])) >= TICK_ROOM * span:
        ticks = list(nums)
    elif axis.log:
        ticks = [10.0 ** k for k in range(math.ceil(t[0]), math.floor(t[-1]) + 1)] or [nums[0], nums[-1]]
    else:
        ticks = [float(v) for v in MaxNLocator(nbins=4).tick_values(nums[0], nums[-1])
                 if nums[0] - 1e-9 * span <= v <= nums[-1] + 1e-9 * span]
    labels = [axis.labels[axis.values.index(v)] if v in axis.values else axis.fmt(v) for v in ticks]
    if sep is not None:
        ticks.append(float(xs[axis.values.index(None)]))
        labels.append(axis.labels[axis.values.index(None)])
        ax.axvline(sep, color=C_BENCH, lw=0.8, ls=(0, (3, 3)))
    ax.set_xticks(ticks, labels, fontsize=8)
    right = fwd(float(xs.max()))
    margin = 0.07 * ((right - t[0]) or 1.0)
    ax.set_xlim(back(t[0] - margin), back(right + margin))


def axis_chart(axis: Axis, series: list[Series]) -> Optional[str]:
    """Every headline metric against one axis: a panel per metric, a line per slice of the other axes."""
    if len(axis.values) < 2 or not series:
        return None
    fig, axes = panels(5.4, 2, 4)
    xs, _ = _positions(axis)
    on_scale = np.array([not axis.numeric or v is not None for v in axis.values])
    for ax, (metric, title, share) in zip(axes, AXIS_METRICS):
        for i, s in enumerate(series):
            color = LINE_COLORS[i % len(LINE_COLORS)]
            y = _arr(s.values.get(metric, [None] * len(xs)))
            line = on_scale & np.isfinite(y)                # a failed point is left out, not a break
            if metric in s.low:
                lo, hi = _arr(s.low[metric]), _arr(s.high[metric])
                ax.fill_between(xs[line], lo[line], hi[line], color=color, alpha=0.12, lw=0)
                apart = ~on_scale & np.isfinite(lo)
                ax.vlines(xs[apart], lo[apart], hi[apart], color=color, alpha=0.35, lw=4)
            marker, size = MARKERS[i % len(MARKERS)] if len(series) > 1 else ("o", 4.5)
            ax.plot(xs[line], y[line], color=color, lw=1.6 if axis.numeric else 0, marker=marker, ms=size,
                    label=s.label)
            apart = ~on_scale & np.isfinite(y)
            ax.plot(xs[apart], y[apart], color=color, ls="none", marker=marker, ms=size + 1, mfc="white", mew=1.5)
        _x_axis(ax, axis)
        ax.set_title(title, fontsize=10, loc="left")
        _readable_span(ax, [v for s in series for v in _arr(s.values.get(metric, [])) if np.isfinite(v)])
        if share:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        else:
            ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    for ax in axes:
        ax.set_xlabel(axis.key + (" (log scale)" if axis.log else ""), fontsize=8)
    rect = None
    if any(s.label for s in series):
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), fontsize=8, frameon=False)
        rect = (0, 0.07 if len(labels) <= 3 else 0.11, 1, 1)
    return _png(fig, rect)


def heatmap_chart(h: HeatMap, excess_text: Callable[[float], str], ir_text: Callable[[float], str]) -> Optional[str]:
    """Excess return (left) and IR (right) over two axes, every cell annotated with its value; each panel's
    colours run from red at -max|value| through white at 0 to green at +max|value|."""
    if not (np.isfinite(h.excess).any() or np.isfinite(h.ir).any()):
        return None
    n_rows, n_cols = h.excess.shape
    fig, axes = side_by_side(max(2.4, ROW_IN * n_rows + 1.4), 2)
    fig.set_size_inches(min(WIDTH, 2 * (CELL_IN * n_cols + 1.6)), fig.get_figheight())
    for ax, matrix, title, fmt in ((axes[0], h.excess, "Excess return (annual)", excess_text),
                                   (axes[1], h.ir, "Information ratio", ir_text)):
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
        finite = matrix[np.isfinite(matrix)]
        lim = float(np.abs(finite).max()) if finite.size else 1.0
        ax.imshow(np.ma.masked_invalid(matrix), cmap=HEAT, vmin=-(lim or 1.0), vmax=lim or 1.0, aspect="auto")
        for (r, c), v in np.ndenumerate(matrix):
            dark = np.isfinite(v) and lim and abs(v) / lim > 0.65
            ax.text(c, r, fmt(v) if np.isfinite(v) else "no run", ha="center", va="center",
                    fontsize=9 if n_cols <= 6 else 7, color="white" if dark else ("#1d2530" if np.isfinite(v) else C_BENCH))
        ax.set_xticks(range(n_cols), h.cols.labels, fontsize=8)
        ax.set_yticks(range(n_rows), h.rows.labels, fontsize=8)
        ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
        ax.grid(True, which="minor", color="white", lw=1.5)
        ax.tick_params(which="minor", length=0)
        ax.set_xlabel(h.cols.key, fontsize=9)
        ax.set_ylabel(h.rows.key, fontsize=9)
        ax.set_title(title, fontsize=10, loc="left")
    return _png(fig)


def capacity_chart(curves: list) -> Optional[str]:
    """Excess return and IR against capital (log axis), the capital at which excess halves marked."""
    curves = [c for c in curves if len(c.capital) >= 2]
    if not curves:
        return None
    fig, (ax1, ax2) = side_by_side(3.8, 2)
    caps = sorted({float(x) for c in curves for x in c.capital})
    axis = numeric_axis("capital", caps, [cny_short(x) for x in caps], cny_short)
    lo, hi = math.log10(caps[0]), math.log10(caps[-1])
    for i, c in enumerate(curves):
        color = LINE_COLORS[i % len(LINE_COLORS)]
        label = c.label or ("excess return" if not c.crowded else "excess return (cash x crowd)")
        ax1.plot(c.capital, _arr(c.excess), color=color, lw=1.8, marker="o", ms=5, label=label)
        ax2.plot(c.capital, _arr(c.ir), color=color, lw=1.8, marker="o", ms=5, label=c.label or None)
        e0 = next((e for e in c.excess if e is not None), None)
        if e0 is not None and e0 > 0:
            ax1.axhline(e0 / 2, color=color, lw=0.8, ls=":")
        if c.half_at:
            ax1.axvline(c.half_at, color=color, lw=1.0, ls="--")
            ax1.plot([c.half_at], [e0 / 2], color=color, marker="X", ms=8, ls="none")
            # a falling curve leaves the quadrants below-left and above-right of the crossing free; take the
            # one facing the middle of the axis so the label stays inside it
            right = hi > lo and (math.log10(c.half_at) - lo) / (hi - lo) > 0.5
            ax1.annotate(f"halves at {cny_short(c.half_at)}", xy=(c.half_at, e0 / 2),
                         xytext=(-8, -10) if right else (8, 8), textcoords="offset points", fontsize=8,
                         color=color, ha="right" if right else "left", va="top" if right else "bottom",
                         bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1})
    for ax, title in ((ax1, "Excess return (annual) vs capital"), (ax2, "Information ratio vs capital")):
        _x_axis(ax, axis)
        ax.axhline(0.0, color="#555", lw=0.7)
        ax.set_title(title, fontsize=11, loc="left")
        ax.set_xlabel("capital trading the lists, CNY" + (" (cash x crowd)" if curves[0].crowded else "")
                      + (", log scale" if axis.log else ""), fontsize=9)
    ax1.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if len(curves) == 1 and curves[0].label:
        _legend_top(ax1)
    elif len(curves) > 1:                 # one row above a panel has room for one label, not one per slice
        handles, labels = ax1.get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), fontsize=8, frameon=False)
        rows = math.ceil(len(labels) / 3)
        fig.set_size_inches(WIDTH, fig.get_figheight() + 0.22 * rows)
        return _png(fig, (0, 0.22 * rows / fig.get_figheight() + 0.02, 1, 1))
    return _png(fig)


def episodes_chart(daily: pd.DataFrame) -> Optional[str]:
    """Per episode, the share of the book that could not be sold each day: suspended + closed limit-down."""
    if daily is None or daily.empty:
        return None
    names = list(dict.fromkeys(daily["episode"]))
    days = [len(daily[daily["episode"] == n]) for n in names]
    widths = [max(d, 0.35 * max(days)) for d in days]          # a 4-day episode still gets a readable panel
    fig, axes = side_by_side(3.2, len(names), ratios=widths if len(names) > 1 else None, sharey=True)
    for ax, name in zip(axes, names):
        part = daily[daily["episode"] == name]
        x = np.arange(len(part))
        s, d = part["suspended"].to_numpy(dtype=float), part["limit_down"].to_numpy(dtype=float)
        ax.bar(x, s, color=C_BENCH, width=0.85, label="suspended")
        ax.bar(x, d, bottom=s, color=C_NEG, width=0.85, label="closed at limit-down")
        step = max(1, int(math.ceil(len(part) / max(2, round(6 * widths[names.index(name)] / max(widths))))))
        ax.set_xticks(x[::step], [str(v)[5:] for v in part["date"].iloc[::step]], fontsize=8)
        ax.set_title(name, fontsize=10, loc="left")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes[0].set_ylabel("share of the book's value", fontsize=9)
    _legend_top(axes[0])
    return _png(fig)
