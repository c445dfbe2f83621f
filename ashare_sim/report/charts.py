"""Report charts: matplotlib figures rendered to inline PNG data URIs.

Uses the object API (Figure + Agg canvas), never pyplot, so no global backend
state is touched and nothing opens a window. Each function returns a
`data:image/png;base64,...` string, or None when it has nothing to draw.
"""
from __future__ import annotations

import base64
import collections
import functools
import hashlib
import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter

# Palette: portfolio, benchmark, excess, negative, neutral.
C_PORT, C_BENCH, C_EXCESS, C_NEG, C_GREY = "#1f4e8c", "#8a8f98", "#d9822b", "#b8322a", "#c9ced6"
DPI = 110
WIDTH = 11.0
# A curve whose max / min ratio exceeds this is drawn on a log axis so early years stay readable.
LOG_SCALE_RATIO = 4.0


def _fig(height: float, rows: int = 1, ratios: list[float] | None = None) -> tuple[Figure, list]:
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    FigureCanvasAgg(fig)
    gs = {"height_ratios": ratios} if ratios else None
    axes = fig.subplots(rows, 1, sharex=True, gridspec_kw=gs) if rows > 1 else [fig.subplots()]
    for ax in axes:
        style_axis(ax)
    return fig, list(axes)


def side_by_side(height: float, cols: int, ratios: list[float] | None = None,
                 sharey: bool = False) -> tuple[Figure, list]:
    """A figure of `cols` panels in one row, styled like `_fig`."""
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    FigureCanvasAgg(fig)
    gs = {"width_ratios": ratios} if ratios else None
    axes = fig.subplots(1, cols, gridspec_kw=gs, sharey=sharey)
    axes = list(np.atleast_1d(axes))
    for ax in axes:
        style_axis(ax)
    return fig, axes


def panels(height: float, rows: int, cols: int, sharex: bool = False) -> tuple[Figure, list]:
    """A figure of rows x cols panels (flattened, row by row), styled like `_fig`."""
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = list(np.atleast_1d(fig.subplots(rows, cols, sharex=sharex, squeeze=False)).ravel())
    for ax in axes:
        style_axis(ax)
    return fig, axes


def style_axis(ax) -> None:
    """Light grid behind the data, no top / right spines, small tick labels."""
    ax.grid(True, color="#e6e8eb", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9)


def same_data_same_chart(fn):
    """Memoise a chart on a digest of its data: the scenarios of a stress grid share one list's factor
    analytics, and drawing the same chart again is most of a report's cost. Bounded; same bytes out."""
    cache: collections.OrderedDict = collections.OrderedDict()

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        key = (tuple(_digest(a) for a in args), tuple((k, _digest(v)) for k, v in sorted(kwargs.items())))
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        out = cache[key] = fn(*args, **kwargs)
        if len(cache) > 16:
            cache.popitem(last=False)
        return out
    return wrapper


def _digest(value) -> object:
    if isinstance(value, (pd.DataFrame, pd.Series)):
        h = hashlib.sha256(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
        h.update(repr((getattr(value, "name", None), list(getattr(value, "columns", [])), str(value.dtypes))).encode())
        return h.hexdigest()
    return repr(value)


def _png(fig: Figure, rect: tuple[float, float, float, float] | None = None) -> str:
    """The figure as a PNG data URI, laid out once (`rect`: the area the axes may fill, e.g. above a legend)."""
    fig.tight_layout(rect=rect)
    buf = io.BytesIO()
    # zlib level 1: a third of the encoding time of the default 6 for ~10% larger images
    fig.savefig(buf, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _legend_top(ax, extra=None) -> None:
    """Legend in one row above the plot, right-aligned, so it never covers data."""
    handles, labels = ax.get_legend_handles_labels()
    if extra is not None:
        h2, l2 = extra.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if handles:
        ax.legend(handles, labels, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(handles),
                  fontsize=9, frameon=False, borderaxespad=0.2)


def _log_axis(ax) -> None:
    """Log y axis labelled 1, 2, 5, 10, 20, ... in plain numbers (no 10^x or minor-tick labels)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _pct_axis(ax, decimals: int = 0) -> None:
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def equity_chart(nav: pd.Series, bench: pd.Series | None, excess_curve: pd.Series | None,
                 bench_label: str = "Benchmark") -> str | None:
    """Growth of 1 for portfolio and benchmark (top) and the excess curve prod(1 + e_t) (bottom)."""
    if nav is None or len(nav) == 0:
        return None
    has_x = excess_curve is not None and excess_curve.notna().any()
    fig, axes = _fig(6.2 if has_x else 4.2, 2 if has_x else 1, [2.2, 1] if has_x else None)
    ax = axes[0]
    ax.plot(nav.index, nav.to_numpy(), color=C_PORT, lw=1.6, label="Portfolio")
    if bench is not None and bench.notna().any():
        ax.plot(bench.index, bench.to_numpy(), color=C_BENCH, lw=1.4, label=bench_label)
    lo = np.nanmin([nav.min(), bench.min() if bench is not None and bench.notna().any() else nav.min()])
    hi = np.nanmax([nav.max(), bench.max() if bench is not None and bench.notna().any() else nav.max()])
    if lo > 0 and hi / lo > LOG_SCALE_RATIO:
        _log_axis(ax)
        ax.set_ylabel("growth of 1 (log scale)", fontsize=9)
    else:
        ax.set_ylabel("growth of 1", fontsize=9)
    ax.axhline(1.0, color="#555", lw=0.7)
    _legend_top(ax)
    ax.set_title("Portfolio vs benchmark", fontsize=11, loc="left")
    if has_x:
        ax2 = axes[1]
        x = excess_curve.to_numpy()
        ax2.plot(excess_curve.index, x, color=C_EXCESS, lw=1.4)
        ax2.fill_between(excess_curve.index, 1.0, x, where=x >= 1.0, color=C_EXCESS, alpha=0.15, lw=0)
        ax2.fill_between(excess_curve.index, 1.0, x, where=x < 1.0, color=C_NEG, alpha=0.15, lw=0)
        ax2.axhline(1.0, color="#555", lw=0.7)
        ax2.set_ylabel("excess curve", fontsize=9)
        ax2.set_title("Excess curve: product of (1 + daily portfolio return - daily benchmark return)",
                      fontsize=10, loc="left")
    return _png(fig)


def drawdown_chart(dd: pd.Series, excess_dd: pd.Series | None, trough: str | None) -> str | None:
    """Drawdown from the running peak (area) and the excess curve's drawdown (line)."""
    if dd is None or len(dd) == 0:
        return None
    fig, (ax,) = _fig(3.4)
    ax.fill_between(dd.index, dd.to_numpy(), 0.0, color=C_NEG, alpha=0.35, lw=0, label="Portfolio drawdown")
    ax.plot(dd.index, dd.to_numpy(), color=C_NEG, lw=0.8)
    if excess_dd is not None and excess_dd.notna().any():
        ax.plot(excess_dd.index, excess_dd.to_numpy(), color=C_EXCESS, lw=1.1, label="Excess-curve drawdown")
    if trough:
        t = pd.Timestamp(trough)
        if t in dd.index:
            ax.annotate(f"max {dd.loc[t]:.1%} on {t.date()}", xy=(t, dd.loc[t]), xytext=(10, 0),
                        textcoords="offset points", fontsize=8, va="center", color=C_NEG)
            ax.set_ylim(bottom=float(dd.min()) * 1.08)
    _pct_axis(ax)
    _legend_top(ax)
    ax.set_title("Drawdown", fontsize=11, loc="left")
    return _png(fig)


def yearly_bars(by_year: list[dict], bench_label: str = "Benchmark") -> str | None:
    """Calendar-year returns: portfolio, benchmark and excess side by side."""
    if not by_year:
        return None
    years = [str(r["year"]) for r in by_year]
    cols = [("portfolio_return", "Portfolio", C_PORT), ("benchmark_return", bench_label, C_BENCH),
            ("excess_return", "Excess", C_EXCESS)]
    cols = [c for c in cols if any(r.get(c[0]) is not None for r in by_year)]
    fig, (ax,) = _fig(3.4)
    x = np.arange(len(years))
    w = 0.8 / len(cols)
    for i, (key, label, color) in enumerate(cols):
        vals = [np.nan if r.get(key) is None else r[key] for r in by_year]
        ax.bar(x + (i - (len(cols) - 1) / 2) * w, vals, width=w, color=color, label=label)
    ax.set_xticks(x, years)
    ax.axhline(0.0, color="#555", lw=0.7)
    _pct_axis(ax)
    _legend_top(ax)
    ax.set_title("Returns by calendar year", fontsize=11, loc="left")
    return _png(fig)


@same_data_same_chart
def ic_bars(ic: pd.Series, window: int = 12) -> str | None:
    """Monthly composite RankIC bars with its rolling mean and full-sample mean."""
    ic = ic.dropna() if ic is not None else None
    if ic is None or len(ic) == 0:
        return None
    fig, (ax,) = _fig(3.4)
    idx = pd.to_datetime(ic.index)
    colors = np.where(ic.to_numpy() >= 0, C_PORT, C_NEG)
    ax.bar(idx, ic.to_numpy(), width=20, color=colors, alpha=0.85)
    if len(ic) >= window:
        ax.plot(idx, ic.rolling(window).mean().to_numpy(), color=C_EXCESS, lw=1.6, label=f"{window}-month mean")
    ax.axhline(float(ic.mean()), color="#333", lw=0.9, ls="--", label=f"mean {ic.mean():.3f}")
    ax.axhline(0.0, color="#555", lw=0.7)
    _legend_top(ax)
    ax.set_title("Composite RankIC by signal month", fontsize=11, loc="left")
    return _png(fig)


@same_data_same_chart
def quintile_chart(q: pd.DataFrame) -> str | None:
    """Mean period return per quintile (left) and cumulative growth of each quintile (right)."""
    if q is None or len(q) == 0 or q.shape[1] == 0:
        return None
    q = q.apply(pd.to_numeric, errors="coerce")
    fig, (ax1, ax2) = side_by_side(3.6, 2, [1, 1.6])
    means = q.mean()
    # Light to dark blue from the lowest to the highest quintile.
    bar_colors = [(0.85 - 0.75 * v, 0.88 - 0.58 * v, 0.95 - 0.4 * v) for v in np.linspace(0.25, 1.0, len(means))]
    ax1.bar([str(c) for c in means.index], means.to_numpy(), color=bar_colors)
    for i, v in enumerate(means.to_numpy()):
        ax1.annotate(f"{v:.2%}", (i, v), ha="center", va="bottom" if v >= 0 else "top", fontsize=8,
                     xytext=(0, 2 if v >= 0 else -2), textcoords="offset points")
    ax1.axhline(0.0, color="#555", lw=0.7)
    _pct_axis(ax1, 1)
    ax1.set_title("Mean next-period return by quintile", fontsize=11, loc="left")
    growth = (1.0 + q.fillna(0.0)).cumprod()
    idx = pd.to_datetime(growth.index)
    for i, c in enumerate(growth.columns):
        ax2.plot(idx, growth[c].to_numpy(), color=bar_colors[i], lw=1.4, label=str(c))
    if growth.to_numpy().min() > 0 and growth.to_numpy().max() / growth.to_numpy().min() > LOG_SCALE_RATIO:
        _log_axis(ax2)
    # Inside, top-left: the curves start at 1 bottom-left, and the title leaves no room above.
    ax2.legend(fontsize=8, frameon=False, ncol=len(growth.columns), loc="upper left")
    ax2.set_title("Cumulative growth of 1 by quintile", fontsize=11, loc="left")
    return _png(fig)


def names_chart(counts: pd.Series, universe: pd.Series | None = None) -> str | None:
    """Number of names held at each holdings date (and the universe size when given)."""
    if counts is None or len(counts) == 0:
        return None
    fig, (ax,) = _fig(3.0)
    ax.step(pd.to_datetime(counts.index), counts.to_numpy(), where="post", color=C_PORT, lw=1.5,
            label="names held")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("names held", fontsize=9)
    if universe is not None and len(universe.dropna()):
        ax2 = ax.twinx()
        u = universe.dropna()
        ax2.plot(pd.to_datetime(u.index), u.to_numpy(), color=C_BENCH, lw=1.1, label="universe size")
        ax2.set_ylim(bottom=0)
        ax2.set_ylabel("universe size", fontsize=9, color=C_BENCH)
        ax2.tick_params(labelsize=9, colors=C_BENCH)
        ax2.spines["top"].set_visible(False)
    _legend_top(ax, extra=ax2 if universe is not None and len(universe.dropna()) else None)
    ax.set_title("Names held after each rebalance", fontsize=11, loc="left")
    return _png(fig)


@same_data_same_chart
def weights_chart(weights: pd.DataFrame) -> str | None:
    """Composite factor weights over time as stacked areas (signed weights as lines)."""
    if weights is None or len(weights) == 0 or weights.shape[1] == 0:
        return None
    w = weights.apply(pd.to_numeric, errors="coerce").fillna(0.0)
    fig, (ax,) = _fig(3.4)
    idx = pd.to_datetime(w.index)
    if (w.to_numpy() >= 0).all():
        ax.stackplot(idx, w.to_numpy().T, labels=[str(c) for c in w.columns], alpha=0.85)
    else:
        for c in w.columns:
            ax.plot(idx, w[c].to_numpy(), lw=1.2, label=str(c))
    ax.legend(fontsize=8, frameon=False, ncol=min(5, w.shape[1]), loc="upper left", bbox_to_anchor=(0, -0.12))
    ax.set_title("Composite factor weights", fontsize=11, loc="left")
    return _png(fig)
