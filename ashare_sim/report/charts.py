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
import struct
import threading
import zlib

import numpy as np
import pandas as pd
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import (
    FixedFormatter,
    FixedLocator,
    FuncFormatter,
    LogLocator,
    NullFormatter,
    NullLocator,
    PercentFormatter,
)
from matplotlib.transforms import Bbox

# Palette: portfolio, benchmark, excess, negative, neutral.
C_PORT, C_BENCH, C_EXCESS, C_NEG, C_GREY = "#1f4e8c", "#8a8f98", "#d9822b", "#b8322a", "#c9ced6"
DPI = 110
WIDTH = 11.0
# A curve whose max / min ratio exceeds this is drawn on a log axis so early years stay readable.
LOG_SCALE_RATIO = 4.0
# White space at the figure's edges and between rows, in font sizes: tight_layout's default, which laid
# these charts out before `_fit` did.
PAD_FONTS = 1.08


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


def _fitted_png(fig: Figure) -> str:
    """The figure as a PNG data URI, laid out by `_fit` and drawn once: for the charts every run draws
    (every scenario of a stress grid), where `_png`'s tight_layout and savefig cost as much as the
    drawing (savefig lays a figure tight_layout has seen out again, in a draw of its own)."""
    _KeptRendererCanvas(fig)
    _fit(fig)
    fig.canvas.draw()
    png = _png_bytes(np.asarray(fig.canvas.buffer_rgba()), fig.dpi)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


class _KeptRendererCanvas(FigureCanvasAgg):
    """An Agg canvas that draws with a renderer kept for the figure's size (per thread, the last few
    sizes) instead of a new one per figure: the per-run charts come in a few sizes, and matplotlib caches
    text measurements per renderer, so the tick labels, titles and legends all runs share are measured
    once. Safe as long as the pixels are read before the next figure of that size is drawn in the thread,
    as `_fitted_png` does."""

    def get_renderer(self) -> RendererAgg:
        kept = getattr(_KEPT, "renderers", None)
        if kept is None:
            kept = _KEPT.renderers = collections.OrderedDict()
        key = (*self.figure.bbox.size, self.figure.dpi)
        if key in kept:
            kept.move_to_end(key)
        else:
            kept[key] = RendererAgg(*key)
            if len(kept) > 8:
                kept.popitem(last=False)
        self.renderer = kept[key]
        return self.renderer


_KEPT = threading.local()


def _png_bytes(rgba: np.ndarray, dpi: float) -> bytes:
    """RGBA pixels as a PNG file, rows unfiltered: PIL tries five filters on every row, three times the
    work of the zlib pass, and on a chart's flat colours they save nothing."""
    h, w, _ = rgba.shape
    rows = np.empty((h, 1 + 4 * w), np.uint8)
    rows[:, 0] = 0                        # filter type None
    rows[:, 1:] = rgba.reshape(h, 4 * w)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    per_metre = round(dpi / 0.0254)
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))      # 8-bit RGBA
            + chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))      # level 1, as `_png`
            + chunk(b"IEND", b""))


def _fit(fig: Figure) -> None:
    """Margins and a row gap that just hold what sticks out of the axes (tick marks and labels, axis
    labels, titles, the legend above, annotations), plus tight_layout's padding: tight_layout's look for
    labels of any width, for a fraction of its cost. tight_layout measures every artist of every axes and
    each axis' ticks several times over; this measures only what can stick out, in an order that needs no
    second round: the rows' heights first (nothing above or below an axes depends on its height), then
    the y tick labels (which do), then a check of everything at the final size, which grows a margin if
    something still sticks out (an x tick label or an annotation at the very edge)."""
    renderer = fig.canvas.get_renderer()
    pad = PAD_FONTS * rcParams["font.size"] * fig.dpi / 72.0
    width, height = fig.bbox.width, fig.bbox.height
    rows: dict[int, list[Axes]] = {}
    for ax in fig.axes:                   # a twin shares its row with the axes it twins
        rows.setdefault(ax.get_subplotspec().rowspan.start, []).append(ax)
    rows_top_down = [rows[r] for r in sorted(rows)]
    n = len(rows_top_down)
    label_at: dict[Axis, float] = {}     # axis label positions, in pixels beyond the axes' edge

    def sticking_out(x_side: bool, y_side: bool) -> tuple[list[float], list[float], float, float]:
        """Pixels beyond the axes: above and below each row, left and right of any."""
        above, below, left, right = [0.0] * n, [0.0] * n, 0.0, 0.0
        for i, axes in enumerate(rows_top_down):
            for ax in axes:
                a = ax.bbox
                for b in _around(ax, renderer, x_side, y_side, label_at):
                    above[i], below[i] = max(above[i], b.y1 - a.y1), max(below[i], a.y0 - b.y0)
                    left, right = max(left, a.x0 - b.x0), max(right, b.x1 - a.x1)
        return above, below, left, right

    def vertical(above: list[float], below: list[float]) -> tuple[float, float, float]:
        gap = max((pad + below[i] + above[i + 1] for i in range(n - 1)), default=0.0)
        return pad + above[0], pad + below[-1], gap

    def apply(top: float, bottom: float, gap: float, left: float, right: float) -> None:
        # Text too big for the figure still leaves the axes some room (tight_layout would give up).
        top, bottom = min(top, 0.45 * height), min(bottom, 0.45 * height)
        left, right = min(left, 0.45 * width), min(right, 0.45 * width)
        span = height - top - bottom
        gap = min(gap, 0.5 * span / max(n - 1, 1))
        # gridspec's hspace: the gap as a share of the mean row height
        hspace = gap * n / (span - gap * (n - 1)) if n > 1 else 0.0
        fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                            top=1 - top / height, hspace=hspace)

    left, right = fig.subplotpars.left * width, (1 - fig.subplotpars.right) * width
    for ax in fig.axes:                   # dates and set ticks: the same at any axes width
        _fix_ticks(ax.xaxis)
    above, below, _, _ = sticking_out(x_side=True, y_side=False)
    top, bottom, gap = vertical(above, below)
    apply(top, bottom, gap, left, right)
    for ax in fig.axes:                   # the y ticks of the final height
        _fix_ticks(ax.yaxis)
    y_out = sticking_out(x_side=False, y_side=True)           # the same at any axes width
    left, right = pad + y_out[2], pad + y_out[3]
    apply(top, bottom, gap, left, right)
    for _ in range(3):
        x_out = sticking_out(x_side=True, y_side=False)
        above, below = [max(p) for p in zip(x_out[0], y_out[0])], [max(p) for p in zip(x_out[1], y_out[1])]
        need = (*vertical(above, below), pad + max(x_out[2], y_out[2]), pad + max(x_out[3], y_out[3]))
        have = (top, bottom, gap, left, right)
        if all(nd <= hv + 0.5 for nd, hv in zip(need, have)):
            # Where the draw would put the axis labels: given, the draw does not measure every tick label
            # again to place each axis label (empty ones too).
            for axis, beyond in label_at.items():
                at = _axis_side(axis) + beyond
                x, y = axis.label.get_position()
                axis.set_label_coords(at if axis.axis_name == "y" else x, at if axis.axis_name == "x" else y,
                                      transform=axis.label.get_transform())
            return
        # Grow, a little past the need: what sticks out moves with the axes as they shrink.
        grown = tuple(hv if nd <= hv + 0.5 else nd + 0.1 * (nd - hv) + 1.0 for nd, hv in zip(need, have))
        apply(*grown)
        if grown[:3] != have[:3]:         # new heights: the y labels moved
            y_out = sticking_out(x_side=False, y_side=True)
        top, bottom, gap, left, right = grown


def _axis_side(axis: Axis) -> float:
    """The pixel position of the axes' edge the axis' label is on."""
    a = axis.axes.bbox
    low = axis.get_label_position() in ("left", "bottom")
    if axis.axis_name == "y":
        return a.x0 if low else a.x1
    return a.y0 if low else a.y1


def _fix_ticks(axis: Axis) -> None:
    """Give the axis, as fixed lists, the ticks and labels its locators and formatters give now, only
    those in view: the same ticks and text, but the draw and `_fit` ask for them many times (a date
    locator is slow at it) and make a Tick object, itself slow to make, for every tick located."""
    if not axis.get_visible():
        return
    scale = axis.get_transform()
    lo, hi = sorted(scale.transform(sorted(axis.get_view_interval())))
    slack = 1e-10 * (hi - lo)             # the draw's own in-view test
    for ticker, locate, set_locator, set_formatter in (
            (axis.major, axis.get_majorticklocs, axis.set_major_locator, axis.set_major_formatter),
            (axis.minor, axis.get_minorticklocs, axis.set_minor_locator, axis.set_minor_formatter)):
        if isinstance(ticker.locator, NullLocator):
            continue
        locs = np.asarray(locate(), dtype=float)
        # all ticks, as in the draw: a label's format may depend on the others
        labels = ticker.formatter.format_ticks(locs)
        offset = ticker.formatter.get_offset()
        with np.errstate(invalid="ignore", divide="ignore"):
            at = scale.transform(locs) if len(locs) else locs
        shown = [i for i, v in enumerate(at) if np.isfinite(v) and lo - slack <= v <= hi + slack]
        fixed = FixedFormatter([labels[i] for i in shown])
        fixed.set_offset_string(offset)
        set_locator(FixedLocator(locs[shown]))
        set_formatter(fixed)


def _around(ax: Axes, renderer: RendererBase, x_side: bool, y_side: bool,
            label_at: dict[Axis, float]) -> list[Bbox]:
    """Extents of what may stick out of `ax`: with `x_side` its x axis, titles, texts, annotations and
    legend, with `y_side` its y axis."""
    parts = []
    if x_side:
        parts += _axis_extents(ax.xaxis, renderer, label_at)
        parts += [t.get_window_extent(renderer) for t in ax.get_children()
                  if isinstance(t, Text) and t.get_visible() and t.get_text()]
        if ax.get_legend() is not None:
            parts.append(ax.get_legend().get_window_extent(renderer))
    if y_side:
        parts += _axis_extents(ax.yaxis, renderer, label_at)
    return [b for b in parts if np.isfinite(b.get_points()).all()]


def _axis_extents(axis: Axis, renderer: RendererBase, label_at: dict[Axis, float]) -> list[Bbox]:
    """Where the draw will put the tick marks, tick labels, axis label and offset text of `axis`: what
    Axis.get_tightbbox and the spines' extents measure, without their rounds over the ticks of every axis
    shared or aligned with this one. Sets `label_at[axis]`, the axis label's position across the axis as
    the draw would place it (labelpad beyond the tick labels and tick marks on its side), in pixels from
    the axes' edge."""
    if not axis.get_visible():
        return []
    a = axis.axes.bbox
    px = axis.axes.figure.dpi / 72.0           # (get_figure(root=) is matplotlib >= 3.10 only)
    is_y = axis.axis_name == "y"
    # Axis._update_ticks: what the draw calls for the ticks it draws, positioned and labelled.
    ticks = axis._update_ticks()
    near = [t.label1.get_window_extent(renderer) for t in ticks if t.label1.get_visible() and t.label1.get_text()]
    far = [t.label2.get_window_extent(renderer) for t in ticks if t.label2.get_visible() and t.label2.get_text()]
    near_mark = max([t.get_tick_padding() for t in ticks if t.tick1line.get_visible()], default=0.0) * px
    far_mark = max([t.get_tick_padding() for t in ticks if t.tick2line.get_visible()], default=0.0) * px
    if is_y:
        boxes = [*near, *far, Bbox.from_extents(a.x0 - near_mark, a.y0, a.x1 + far_mark, a.y1)]
    else:
        boxes = [*near, *far, Bbox.from_extents(a.x0, a.y0 - near_mark, a.x1, a.y1 + far_mark)]
    low = axis.get_label_position() in ("left", "bottom")
    if low:
        edge = min([b.x0 if is_y else b.y0 for b in near] + [(a.x0 if is_y else a.y0) - near_mark])
        at = edge - axis.labelpad * px
    else:
        edge = max([b.x1 if is_y else b.y1 for b in far] + [(a.x1 if is_y else a.y1) + far_mark])
        at = edge + axis.labelpad * px
    label_at[axis] = at - _axis_side(axis)
    if axis.label.get_visible() and axis.label.get_text():
        w, h = axis.label.get_window_extent(renderer).size
        # As in tight_layout, a label's length along its axis is no margin's business.
        boxes.append(Bbox.from_bounds(at - w if low else at, a.y0 + a.height / 2, w, 0) if is_y
                     else Bbox.from_bounds(a.x0 + a.width / 2, at - h if low else at, 0, h))
    offset = axis.major.formatter.get_offset()
    if offset:                            # e.g. 1e6 above a y axis
        axis.offsetText.set_text(offset)
        w, h = axis.offsetText.get_window_extent(renderer).size
        if is_y:                          # at the axes' left or right end, aligned to it
            x = a.x0 + axis.offsetText.get_position()[0] * a.width
            x0 = x - w if axis.offsetText.get_horizontalalignment() == "right" else x
            boxes.append(Bbox.from_bounds(x0, a.y1 + axis.OFFSETTEXTPAD * px, w, h))
        else:
            bottom = min([b.y0 for b in near] + [a.y0])
            boxes.append(Bbox.from_bounds(a.x1 - w, bottom - axis.OFFSETTEXTPAD * px - h, w, h))
    return boxes


def _legend_top(ax, extra=None) -> None:
    """Legend in one row above the plot, right-aligned, so it never covers data."""
    handles, labels = ax.get_legend_handles_labels()
    if extra is not None:
        h2, l2 = extra.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if handles:
        ax.legend(handles, labels, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(handles),
                  fontsize=9, frameon=False, borderaxespad=0.2)


def _title(ax: Axes, text: str, fontsize: float) -> None:
    """Title at the top left, at y=1.0: where matplotlib puts it anyway when nothing is above the axes (no
    x ticks on top, no offset text: see `_plain_numbers`), but given, the draw does not search the figure's
    axes for such things to place it."""
    ax.set_title(text, fontsize=fontsize, loc="left", y=1.0)


def _plain_numbers(ax: Axes) -> None:
    """Y tick labels in plain numbers, never with an offset or a multiplier (+1.001, 1e6) atop the axis:
    they read better, and `_title` leaves no room for one."""
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)


def _days(index: pd.Index) -> np.ndarray:
    """Dates as one datetime64 array: matplotlib converts a DatetimeIndex a Timestamp at a time in places
    (fill_between), an array at once."""
    return pd.DatetimeIndex(pd.to_datetime(index)).to_numpy()


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
    ax.plot(_days(nav.index), nav.to_numpy(), color=C_PORT, lw=1.6, label="Portfolio")
    if bench is not None and bench.notna().any():
        ax.plot(_days(bench.index), bench.to_numpy(), color=C_BENCH, lw=1.4, label=bench_label)
    lo = np.nanmin([nav.min(), bench.min() if bench is not None and bench.notna().any() else nav.min()])
    hi = np.nanmax([nav.max(), bench.max() if bench is not None and bench.notna().any() else nav.max()])
    if lo > 0 and hi / lo > LOG_SCALE_RATIO:
        _log_axis(ax)
        ax.set_ylabel("growth of 1 (log scale)", fontsize=9)
    else:
        _plain_numbers(ax)
        ax.set_ylabel("growth of 1", fontsize=9)
    ax.axhline(1.0, color="#555", lw=0.7)
    _legend_top(ax)
    _title(ax, "Portfolio vs benchmark", 11)
    if has_x:
        ax2 = axes[1]
        days, x = _days(excess_curve.index), excess_curve.to_numpy()
        ax2.plot(days, x, color=C_EXCESS, lw=1.4)
        ax2.fill_between(days, 1.0, x, where=x >= 1.0, color=C_EXCESS, alpha=0.15, lw=0)
        ax2.fill_between(days, 1.0, x, where=x < 1.0, color=C_NEG, alpha=0.15, lw=0)
        ax2.axhline(1.0, color="#555", lw=0.7)
        _plain_numbers(ax2)
        ax2.set_ylabel("excess curve", fontsize=9)
        _title(ax2, "Excess curve: product of (1 + daily portfolio return - daily benchmark return)", 10)
    return _fitted_png(fig)


def drawdown_chart(dd: pd.Series, excess_dd: pd.Series | None, trough: str | None) -> str | None:
    """Drawdown from the running peak (area) and the excess curve's drawdown (line)."""
    if dd is None or len(dd) == 0:
        return None
    fig, (ax,) = _fig(3.4)
    days = _days(dd.index)
    ax.fill_between(days, dd.to_numpy(), 0.0, color=C_NEG, alpha=0.35, lw=0, label="Portfolio drawdown")
    ax.plot(days, dd.to_numpy(), color=C_NEG, lw=0.8)
    if excess_dd is not None and excess_dd.notna().any():
        ax.plot(_days(excess_dd.index), excess_dd.to_numpy(), color=C_EXCESS, lw=1.1,
                label="Excess-curve drawdown")
    if trough:
        t = pd.Timestamp(trough)
        if t in dd.index:
            ax.annotate(f"max {dd.loc[t]:.1%} on {t.date()}", xy=(t, dd.loc[t]), xytext=(10, 0),
                        textcoords="offset points", fontsize=8, va="center", color=C_NEG)
            ax.set_ylim(bottom=float(dd.min()) * 1.08)
    _pct_axis(ax)
    _legend_top(ax)
    _title(ax, "Drawdown", 11)
    return _fitted_png(fig)


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
        _bars(ax, x + (i - (len(cols) - 1) / 2) * w, vals, w, color, label)
    ax.set_xticks(x, years)
    ax.axhline(0.0, color="#555", lw=0.7)
    _pct_axis(ax)
    _legend_top(ax)
    _title(ax, "Returns by calendar year", 11)
    return _fitted_png(fig)


def _bars(ax: Axes, x: np.ndarray, heights: list[float], width: float, color: str, label: str) -> None:
    """What ax.bar draws (bars from 0, no edge, 0 kept as the axis' end when no bar crosses it), as one
    collection: ax.bar adds a patch per bar and measures each one for the data limits, a fifth of the
    chart's cost. A missing height draws no bar."""
    h = np.asarray(heights, dtype=float)
    keep = np.isfinite(h)
    x0, x1, top = x[keep] - width / 2, x[keep] + width / 2, h[keep]
    zero = np.zeros_like(top)
    corners = np.stack([np.column_stack(c) for c in ((x0, zero), (x0, top), (x1, top), (x1, zero))], axis=1)
    bars = PolyCollection(corners, facecolors=color, edgecolors="none", linewidths=0, label=label)
    bars.sticky_edges.y.append(0.0)
    ax.add_collection(bars)
    ax.autoscale_view()                   # matplotlib < 3.11 leaves the view limits to the caller


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
    ax.step(_days(counts.index), counts.to_numpy(), where="post", color=C_PORT, lw=1.5,
            label="names held")
    ax.set_ylim(bottom=0)
    _plain_numbers(ax)
    ax.set_ylabel("names held", fontsize=9)
    if universe is not None and len(universe.dropna()):
        ax2 = ax.twinx()
        u = universe.dropna()
        ax2.plot(_days(u.index), u.to_numpy(), color=C_BENCH, lw=1.1, label="universe size")
        ax2.set_ylim(bottom=0)
        _plain_numbers(ax2)
        ax2.set_ylabel("universe size", fontsize=9, color=C_BENCH)
        ax2.tick_params(labelsize=9, colors=C_BENCH)
        ax2.spines["top"].set_visible(False)
    _legend_top(ax, extra=ax2 if universe is not None and len(universe.dropna()) else None)
    _title(ax, "Names held after each rebalance", 11)
    return _fitted_png(fig)


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
