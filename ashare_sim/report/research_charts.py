"""Charts of research.html (inline PNG data URIs, the style of report.charts).

Each function returns a `data:image/png;base64,...` string, or None with nothing to draw.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ashare_sim.report.charts import (
    C_BENCH,
    C_EXCESS,
    C_GREY,
    C_NEG,
    C_PORT,
    LOG_SCALE_RATIO,
    _fig,
    _legend_top,
    _log_axis,
    _pct_axis,
    _png,
    side_by_side,
)
from ashare_sim.report.labels import chart_label

STYLE_COLORS = ["#1f4e8c", "#d9822b", "#2e8b57", "#8e44ad", "#b8322a", "#5b6472", "#17a2b8"]


def size_eras(size_groups: pd.DataFrame) -> str | None:
    """One bar panel per era: each size group's annualised excess over the equal-weight market."""
    if size_groups is None or len(size_groups) == 0:
        return None
    eras = list(dict.fromkeys(size_groups["era"]))
    fig, axes = side_by_side(3.4, len(eras), sharey=True)
    for ax, era in zip(axes, eras):
        part = size_groups[size_groups["era"] == era].sort_values("group")
        v = part["excess_annual_return"].to_numpy(dtype=float)
        ax.bar(part["group"].to_numpy(), v, color=np.where(v >= 0, C_PORT, C_NEG), width=0.8)
        ax.axhline(0.0, color="#555", lw=0.7)
        ax.set_xticks([1, 5, 10, 15, int(part["group"].max())])
        ax.set_xlabel("size group (1 = smallest)", fontsize=9)
        ax.set_title(f"{era} ({int(part['months'].max())} months)", fontsize=11, loc="left")
        _pct_axis(ax)
    axes[0].set_ylabel("annualised excess vs equal-weight market", fontsize=9)
    return _png(fig)


def yearly_columns(by_year: pd.DataFrame, title: str) -> str | None:
    """Calendar-year returns, one bar per column of `by_year` (besides `year`)."""
    cols = [c for c in by_year.columns if c != "year"] if by_year is not None else []
    if not cols or len(by_year) == 0:
        return None
    fig, (ax,) = _fig(3.4)
    x = np.arange(len(by_year))
    w = 0.8 / len(cols)
    colors = [C_EXCESS, C_PORT, C_BENCH, C_GREY]
    for i, c in enumerate(cols):
        ax.bar(x + (i - (len(cols) - 1) / 2) * w, by_year[c].to_numpy(dtype=float), width=w,
               color=colors[i % len(colors)], label=str(c))
    ax.set_xticks(x, [str(y) for y in by_year["year"]])
    ax.axhline(0.0, color="#555", lw=0.7)
    _pct_axis(ax)
    _legend_top(ax)
    ax.set_title(title, fontsize=11, loc="left")
    return _png(fig)


def growth(levels: pd.DataFrame, title: str) -> str | None:
    """Growth of 1 of each column (normalised to its first level), log axis when it spans a lot."""
    if levels is None or len(levels) == 0:
        return None
    fig, (ax,) = _fig(3.4)
    colors = [C_EXCESS, C_PORT, C_BENCH]
    lo, hi = np.inf, 0.0
    for i, c in enumerate(levels.columns):
        s = levels[c].dropna()
        if len(s) == 0:
            continue
        g = s / s.iloc[0]
        lo, hi = min(lo, float(g.min())), max(hi, float(g.max()))
        ax.plot(g.index, g.to_numpy(), color=colors[i % len(colors)], lw=1.4, label=str(c))
    if lo > 0 and hi / lo > LOG_SCALE_RATIO:
        _log_axis(ax)
    ax.axhline(1.0, color="#555", lw=0.7)
    _legend_top(ax)
    ax.set_title(title, fontsize=11, loc="left")
    return _png(fig)


def valuation(v: pd.DataFrame) -> str | None:
    """PB and PE-TTM of the pool (median and aggregate) and the medians' percentiles."""
    if v is None or len(v) == 0:
        return None
    d = pd.to_datetime(v["date"])
    fig, axes = _fig(7.0, 3, [1, 1, 1])
    for ax, key, label in ((axes[0], "pb", "PB"), (axes[1], "pe_ttm", "PE-TTM")):
        ax.plot(d, v[f"{key}_median"].to_numpy(dtype=float), color=C_PORT, lw=1.5, label=f"{label} median")
        ax.plot(d, v[f"{key}_aggregate"].to_numpy(dtype=float), color=C_BENCH, lw=1.2,
                label=f"{label} aggregate (sum cap / sum {'book' if key == 'pb' else 'TTM profit'})")
        _legend_top(ax)
        ax.set_title(f"Small-cap pool {label}", fontsize=11, loc="left")
    ax = axes[2]
    ax.plot(d, v["pb_percentile"].to_numpy(dtype=float), color=C_PORT, lw=1.4, label="PB median")
    ax.plot(d, v["pe_ttm_percentile"].to_numpy(dtype=float), color=C_EXCESS, lw=1.4, label="PE-TTM median")
    ax.set_ylim(0, 100)
    ax.axhline(90, color=C_NEG, lw=0.8, ls="--")
    ax.axhline(10, color="#555", lw=0.8, ls="--")
    ax.set_ylabel("percentile of own history", fontsize=9)
    _legend_top(ax)
    ax.set_title("Percentile within its own history up to each date", fontsize=11, loc="left")
    return _png(fig)


def exposures(e: pd.DataFrame) -> str | None:
    """Average style z-score of the portfolio (left) and each style through time (right)."""
    styles = [c for c in e.columns if c != "date"] if e is not None else []
    if not styles or len(e) == 0:
        return None
    fig, (ax1, ax2) = side_by_side(3.8, 2, [1, 2.2])
    means = e[styles].mean()
    ax1.barh(styles[::-1], means.to_numpy()[::-1], color=[STYLE_COLORS[i % 7] for i in range(len(styles))][::-1])
    ax1.axvline(0.0, color="#555", lw=0.7)
    ax1.set_title("Mean z-score in the pool", fontsize=11, loc="left")
    d = pd.to_datetime(e["date"])
    for i, s in enumerate(styles):
        ax2.plot(d, e[s].to_numpy(dtype=float), color=STYLE_COLORS[i % 7], lw=1.1, label=s)
    ax2.axhline(0.0, color="#555", lw=0.7)
    ax2.legend(fontsize=8, frameon=False, ncol=len(styles), loc="upper left", bbox_to_anchor=(0, -0.08))
    ax2.set_title("Portfolio style z-scores by signal month", fontsize=11, loc="left")
    return _png(fig)


def industries(mean_weights: pd.DataFrame) -> str | None:
    """Mean portfolio vs pool weight by industry (rows sorted by active weight)."""
    if mean_weights is None or len(mean_weights) == 0:
        return None
    w = mean_weights.sort_values("active")
    fig, (ax,) = _fig(max(2.6, 0.24 * len(w) + 0.9))
    y = np.arange(len(w))
    ax.barh(y - 0.2, w["portfolio"].to_numpy(), height=0.4, color=C_PORT, label="portfolio")
    ax.barh(y + 0.2, w["pool"].to_numpy(), height=0.4, color=C_BENCH, label="pool (equal weight)")
    ax.set_yticks(y, [chart_label(i) for i in w.index])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _legend_top(ax)
    ax.set_title("Mean weight by industry over the signal months (sorted by portfolio − pool)", fontsize=11,
                 loc="left")
    return _png(fig)


def crowding(c: pd.DataFrame, extreme: float, labels: dict[str, str]) -> str | None:
    """One panel per indicator; days when the indicator is at a historic extreme are marked."""
    if c is None or len(c) == 0:
        return None
    names = list(labels)
    fig, axes = _fig(1.55 * len(names) + 0.6, len(names))
    d = pd.to_datetime(c["date"])
    for ax, n in zip(axes, names):
        v = c[n].to_numpy(dtype=float)
        p = c[n if n == "pool_pe_percentile" else f"{n}_percentile"].to_numpy(dtype=float)
        ax.plot(d, v, color=C_PORT, lw=0.9)
        hot = np.nan_to_num(p, nan=-1) >= extreme
        if hot.any():
            ax.scatter(d[hot], v[hot], s=5, color=C_NEG, zorder=3, label=f"at or above its {extreme:g}th percentile")
            _legend_top(ax)
        if n in ("smallcap_turnover_share", "participation"):
            _pct_axis(ax, 1 if n == "participation" else 0)
        if n == "limit_down_names" and np.nanmax(v, initial=0) > 100:
            ax.set_yscale("symlog", linthresh=10)       # crash days dwarf the rest otherwise
            ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.set_title(labels[n], fontsize=10, loc="left")
    return _png(fig)


def ic_side_by_side(ic_means: pd.DataFrame) -> str | None:
    """Mean RankIC per factor for each scoring variant (columns)."""
    if ic_means is None or len(ic_means) == 0:
        return None
    fig, (ax,) = _fig(3.2)
    x = np.arange(len(ic_means))
    cols = list(ic_means.columns)
    w = 0.8 / len(cols)
    for i, col in enumerate(cols):
        ax.bar(x + (i - (len(cols) - 1) / 2) * w, ic_means[col].to_numpy(dtype=float), width=w,
               color=[C_BENCH, C_PORT][i % 2], label=f"neutralize: {col}")
    ax.set_xticks(x, [str(i) for i in ic_means.index], fontsize=8)
    ax.axhline(0.0, color="#555", lw=0.7)
    _legend_top(ax)
    ax.set_title("Mean monthly RankIC by factor", fontsize=11, loc="left")
    return _png(fig)
