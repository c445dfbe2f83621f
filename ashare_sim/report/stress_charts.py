"""Charts of stress.html (inline PNG data URIs, the style of report.charts).

Each function returns a `data:image/png;base64,...` string, or None with nothing to draw.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ashare_sim.report.charts import (
    C_BENCH,
    C_EXCESS,
    C_NEG,
    C_PORT,
    _legend_top,
    _png,
    panels,
    side_by_side,
)

LINE_COLORS = [C_PORT, C_EXCESS, "#2e8b57", "#8e44ad", C_NEG, "#17a2b8"]
# (metrics.json key, panel title, share?) of the per-axis panels.
AXIS_METRICS = [("annual_return", "Annual return", True), ("excess_annual_return", "Excess return (annual)", True),
                ("information_ratio", "Information ratio", False), ("max_drawdown", "Max drawdown", True),
                ("annual_turnover", "Turnover (x a year)", False), ("costs_annual_pct", "Costs a year", True),
                ("blocked_volume_cap", "Intents cut by the volume cap", True),
                ("participation_p95", "Fills: 95th pct of day volume", True)]


@dataclass
class Series:
    label: str
    values: dict[str, list[Optional[float]]]                 # metric -> one value per x position
    low: dict[str, list[Optional[float]]] = field(default_factory=dict)    # band (min over the others)
    high: dict[str, list[Optional[float]]] = field(default_factory=dict)


def _arr(v: list[Optional[float]]) -> np.ndarray:
    return np.array([np.nan if x is None else float(x) for x in v], dtype=float)


def cny_axis(ax) -> None:
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e9:g} bn" if v >= 1e9 else f"{v / 1e6:g} M"))


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


def axis_chart(key: str, xlabels: list[str], series: list[Series]) -> Optional[str]:
    """Every headline metric against one axis: a panel per metric, a line per slice of the other axes."""
    if len(xlabels) < 2 or not series:
        return None
    fig, axes = panels(5.4, 2, 4)
    x = np.arange(len(xlabels))
    for ax, (metric, title, share) in zip(axes, AXIS_METRICS):
        for i, s in enumerate(series):
            color = LINE_COLORS[i % len(LINE_COLORS)]
            y = _arr(s.values.get(metric, [None] * len(x)))
            if metric in s.low:
                ax.fill_between(x, _arr(s.low[metric]), _arr(s.high[metric]), color=color, alpha=0.12, lw=0)
            ax.plot(x, y, color=color, lw=1.6, marker="o", ms=4, label=s.label)
        ax.set_xticks(x, xlabels, fontsize=8)
        ax.set_title(title, fontsize=10, loc="left")
        _readable_span(ax, [v for s in series for v in _arr(s.values.get(metric, [])) if np.isfinite(v)])
        if share:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        else:
            ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    for ax in axes:
        ax.set_xlabel(key, fontsize=8)
    rect = None
    if any(s.label for s in series):
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), fontsize=8, frameon=False)
        rect = (0, 0.07 if len(labels) <= 3 else 0.11, 1, 1)
    return _png(fig, rect)


def capacity_chart(curves: list) -> Optional[str]:
    """Excess return and IR against capital (log axis), the capital at which excess halves marked."""
    curves = [c for c in curves if len(c.capital) >= 2]
    if not curves:
        return None
    fig, (ax1, ax2) = side_by_side(3.8, 2)
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
            ax1.annotate(f"halves at {c.half_at / 1e9:.2g} bn" if c.half_at >= 1e9 else
                         f"halves at {c.half_at / 1e6:.3g} M", xy=(c.half_at, e0 / 2), xytext=(6, 8),
                         textcoords="offset points", fontsize=8, color=color)
    for ax, title in ((ax1, "Excess return (annual) vs capital"), (ax2, "Information ratio vs capital")):
        ax.set_xscale("log")
        cny_axis(ax)
        ax.axhline(0.0, color="#555", lw=0.7)
        ax.set_title(title, fontsize=11, loc="left")
        ax.set_xlabel("capital trading the lists, CNY" + (" (cash x crowd)" if curves[0].crowded else ""),
                      fontsize=9)
    ax1.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if len(curves) > 1 or curves[0].label:
        _legend_top(ax1)
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
