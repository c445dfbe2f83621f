"""`tca.html` and the TCA output set: fills against the execution model, the k estimate, shortfalls.

`write_tca(out, result)` writes the set (common.outdir.output_set, manifest `tca.json` holding the figures)
from a `metrics.tca.TcaResult`; `render(result)` is the page alone (inline CSS, PNG charts, no external URLs),
built from `report.html.page` and the chart helpers of `report.charts`. It computes nothing but the
scatter's binned means.
"""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.common.outdir import output_set
from ashare_sim.metrics.performance import json_safe
from ashare_sim.metrics.tca import EXCLUSIONS, METHOD, TcaResult, k_text
from ashare_sim.report.charts import (
    C_BENCH,
    C_EXCESS,
    C_NEG,
    C_PORT,
    _fig,
    _legend_top,
    _png,
)
from ashare_sim.report.html import _img, page
from ashare_sim.report.tables import NA, cny, num, pct, text
from ashare_sim.report.tables import table as html_table

MANIFEST = "tca.json"
# Decimals kept for floats in the CSVs (prices are cents; bp and shares of volume to a millionth).
FLOAT_DECIMALS = 6
# Rows of the by-day and by-name tables shown on the page (the CSVs hold every row).
PAGE_ROWS = 30
# x quantile bins of the binned means drawn over the scatter.
SCATTER_BINS = 20
# Up to this many days the by-day chart draws bars; past it, points.
DAY_BARS = 60

SECTIONS = [("summary", "Summary"), ("k", "Square-root impact: k from the fills"),
            ("participation", "By participation"), ("side", "By side"), ("day", "By day"), ("name", "By name"),
            ("backtest", "The backtest with the estimated k"), ("definitions", "Definitions")]
EXTRA_CSS = """
.cards{grid-template-columns:repeat(5,1fr)}
ul.key{margin:6px 0 10px 18px;padding:0}
ul.key li{margin:3px 0}
"""
# (column, label, colour) of the shortfalls drawn by participation bucket and by day.
SHORTFALL_SERIES = [("is_decision_bp", "vs decision (close before)", C_PORT),
                    ("is_arrival_bp", "vs arrival (open)", C_BENCH),
                    ("is_vwap_bp", "vs day VWAP", C_EXCESS),
                    ("slippage_bp", "vs deal price: realised", C_NEG),
                    ("predicted_slippage_bp", "vs deal price: model", "#2e8b57")]


# ----- the output set ----------------------------------------------------------------------------------------------
def write_tca(out: Path, result: TcaResult) -> list[str]:
    """Write tca_*.csv, tca.html and tca.json into `out` as one set; returns the file names."""
    out = Path(out)
    tables = result.tables()
    with output_set(out, MANIFEST, json_safe(result.as_dict())) as stage:
        for name, frame in tables.items():
            csv_table(frame).to_csv(stage / name, index=False)
        (stage / "tca.html").write_text(render(result), encoding="utf-8")
    logger.info(f"TCA written to {out} ({len(tables) + 2} files)")
    return [*tables, "tca.html", MANIFEST]


def csv_table(df: pd.DataFrame) -> pd.DataFrame:
    """Floats rounded to FLOAT_DECIMALS (dates are datetime.date, written YYYY-MM-DD as they are)."""
    df = df.copy()
    floats = df.select_dtypes(include="float").columns
    df[floats] = df[floats].round(FLOAT_DECIMALS)
    return df


# ----- charts ---------------------------------------------------------------------------------------------------
def k_chart(fills: pd.DataFrame, k: Optional[float], configured_k: float) -> Optional[str]:
    """Each used fill's slippage against the deal price (bp, > 0 a cost) on sigma x sqrt(crowd x participation),
    the binned means, the fitted k's line and the configured k's."""
    used = fills[fills["used_for_k"]]
    if used.empty:
        return None
    x = used["impact_x"].to_numpy(dtype=float) * 100.0          # percent of the price
    y = used["slippage_bp"].to_numpy(dtype=float)
    fig, (ax,) = _fig(4.4)
    ax.scatter(x, y, s=7, color=C_PORT, alpha=0.25 if len(x) > 500 else 0.6, lw=0, label=f"fills ({len(x):,})")
    if len(x) >= 5 * SCATTER_BINS:               # five fills a bin at least, or the means are noise
        edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, SCATTER_BINS + 1)))
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
        bins = pd.DataFrame({"b": which, "x": x, "y": y}).groupby("b").mean()
        ax.plot(bins["x"], bins["y"], "o", color=C_EXCESS, ms=5, label=f"mean of {len(bins)} bins of x")
    line = np.array([0.0, float(np.max(x))])
    if k is not None:
        ax.plot(line, k * line * 100.0, color=C_NEG, lw=1.8, label=f"fitted k = {k:.3f}")
    ax.plot(line, configured_k * line * 100.0, color="#333", lw=1.2, ls="--", label=f"configured k = {configured_k:g}")
    ax.axhline(0.0, color="#555", lw=0.7)
    lo, hi = np.nanpercentile(y, [0.5, 99.5])
    span = max(hi - lo, 1.0)
    ax.set_ylim(min(lo, 0.0) - 0.05 * span, max(hi, float(np.max(line)) * max(k or 0.0, configured_k) * 100.0)
                + 0.05 * span)
    ax.set_xlabel("sigma x sqrt(crowd x participation), % of the price", fontsize=9)
    ax.set_ylabel("slippage vs deal price, bp (cost > 0)", fontsize=9)
    ax.set_title("Slippage against the square-root law's driver", fontsize=11, loc="left")
    _legend_top(ax)
    return _png(fig)


def participation_chart(by_bucket: pd.DataFrame) -> Optional[str]:
    """Notional-weighted shortfalls by participation bucket, one bar per reference price."""
    if not (by_bucket["fills"] > 0).any():
        return None
    fig, (ax,) = _fig(4.0)
    labels = [f"{b}\n{n:,} fills" for b, n in zip(by_bucket["participation_bucket"], by_bucket["fills"])]
    pos = np.arange(len(by_bucket))
    width = 0.8 / len(SHORTFALL_SERIES)
    for i, (col, label, color) in enumerate(SHORTFALL_SERIES):
        ax.bar(pos + (i - (len(SHORTFALL_SERIES) - 1) / 2) * width, by_bucket[col].to_numpy(dtype=float),
               width=width, color=color, label=label)
    ax.set_xticks(pos, labels, fontsize=8)
    ax.axhline(0.0, color="#555", lw=0.7)
    ax.set_ylabel("shortfall, bp (cost > 0)", fontsize=9)
    ax.set_xlabel("the fill's share of the day's volume", fontsize=9)
    ax.set_title("Shortfall by participation (notional-weighted)", fontsize=11, loc="left")
    # Five labels do not fit in a row beside the title: below the plot, like the stress page's legends.
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8, frameon=False)
    return _png(fig, (0, 0.06, 1, 1))


def day_chart(by_day: pd.DataFrame) -> Optional[str]:
    """Notional-weighted shortfall against the decision price and slippage against the deal price by day (bars
    up to DAY_BARS days; past that, points and their rolling mean, the axis cut at the 1st..99th percentile),
    with the day's notional traded below."""
    days = by_day[by_day["fills"] > 0]
    if days.empty:
        return None
    fig, (ax, ax2) = _fig(4.6, 2, [2.2, 1])
    series = [SHORTFALL_SERIES[0], SHORTFALL_SERIES[3]]
    if len(days) <= DAY_BARS:
        pos = np.arange(len(days))
        width = 0.8 / len(series)
        for i, (col, label, color) in enumerate(series):
            ax.bar(pos + (i - (len(series) - 1) / 2) * width, days[col].to_numpy(dtype=float), width=width,
                   color=color, label=label)
        ax2.bar(pos, days["notional"].to_numpy(dtype=float) / 1e6, color=C_BENCH)
        step = max(1, int(math.ceil(len(days) / 12)))
        ax2.set_xticks(pos[::step], [str(d) for d in days["date"].iloc[::step]], fontsize=8)
    else:
        when = pd.to_datetime(days["date"].astype(str))
        window = max(5, len(days) // 40)
        values = []
        for col, label, color in series:
            y = days[col].to_numpy(dtype=float)
            values.append(y)
            ax.plot(when, y, "o", ms=2, color=color, alpha=0.35)
            ax.plot(when, pd.Series(y).rolling(window, min_periods=1).mean().to_numpy(), color=color, lw=1.5,
                    label=f"{label} ({window}-day mean)")
        lo, hi = np.nanpercentile(np.concatenate(values), [1, 99])
        pad = 0.1 * max(hi - lo, 1.0)
        ax.set_ylim(lo - pad, hi + pad)
        ax2.bar(when, days["notional"].to_numpy(dtype=float) / 1e6, width=3, color=C_BENCH)
    ax.axhline(0.0, color="#555", lw=0.7)
    ax.set_ylabel("bp (cost > 0)", fontsize=9)
    ax.set_title("Shortfall by day (notional-weighted)", fontsize=11, loc="left")
    _legend_top(ax)
    ax2.set_ylabel("traded, M CNY", fontsize=9)
    return _png(fig)


# ----- sections ---------------------------------------------------------------------------------------------------
def _bp(v: Any, decimals: int = 1, unit: str = " bp") -> str:
    return NA if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{num(v, decimals)}{unit}"


def _k(v: Optional[float]) -> str:
    return NA if v is None else num(v, 4)


def _cards(r: TcaResult) -> str:
    s, k = r.summary, r.k
    ci = f"{k.confidence:.0%} CI {_k(k.ci_low)}..{_k(k.ci_high)}" if k.ci_low is not None else "no interval"
    items = [("Fills", f"{s['fills']:,}", f"{s['days']:,} days, {text(s['first_date'])}..{text(s['last_date'])}"),
             ("k from the fills", _k(k.k), f"{ci}; n {k.n:,}"),
             ("Configured k", num(k.configured_k, 3), html.escape(k.configured_model)),
             ("Shortfall vs decision", _bp(s.get("is_decision_bp")), f"vs VWAP {_bp(s.get('is_vwap_bp'))}"),
             ("Slippage vs deal price", _bp(s.get("slippage_bp")),
              f"model {_bp(s.get('predicted_slippage_bp'))}; fees {_bp(s.get('fees_bp'))}")]
    cells = "".join(f'<div class="card"><div class="k">{a}</div><div class="v">{b}</div><div class="c">{c}</div></div>'
                    for a, b, c in items)
    return f'<div class="cards">{cells}</div>'


def _summary(r: TcaResult) -> str:
    s = r.summary
    items = [f"{s['fills']:,} fills from {html.escape(r.source)} on the market {html.escape(str(s['market']))}; "
             f"{cny(s.get('notional'))} traded, {cny(s.get('slippage_cny'))} of slippage against the deal price "
             f"({html.escape(str(s['deal_price']))}), {cny(s.get('fees_cny'))} of fees.",
             f"Execution model: deal price {html.escape(str(s['deal_price']))}, slippage "
             f"{html.escape(str(s['slippage_model']))}, crowd {s['crowd']}, tick {s['tick']:g} CNY.",
             f"k estimate {html.escape(k_text(r.k, 4))}; configured {r.k.configured_k:g}."]
    items += [html.escape(n) for n in r.notes]
    return _cards(r) + '<ul class="key">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _k_section(r: TcaResult) -> str:
    k, tick = r.k, r.summary["tick"]
    rows = [["estimate", _k(k.k)],
            [f"{k.confidence:.0%} interval", f"{_k(k.ci_low)} .. {_k(k.ci_high)}" if k.ci_low is not None else NA],
            ["range every used fill agrees with to the tick",
             f"{_k(k.consistent[0])} .. {_k(k.consistent[1])}" if k.consistent else "none (the fills have noise of "
                                                                                    "their own)"],
            ["fills used / trading days", f"{k.n:,} / {k.days:,}"],
            ["fills the fitted model reproduces to the tick", pct(k.within_half_tick)],
            ["noise of the fills beyond the tick (share of the daily sigma)", num(k.noise, 4)],
            ["least squares on these prices taken as exact (rounding ignored)", _k(k.k_ignoring_rounding)],
            ["configured k", f"{k.configured_k:g} ({html.escape(k.configured_model)})"]]
    excl = [[f"<code>{html.escape(reason)}</code>", f"{n:,}", html.escape(EXCLUSIONS[reason])]
            for reason, n in k.excluded.items()]
    out = (_img(k_chart(r.fills, k.k, k.configured_k), "Slippage vs sigma x sqrt(participation)")
           + f'<p class="note">Each dot is a fill the estimate uses. Prices move in ticks of {tick:g} CNY '
           f"({tick * 1e4 / 10:g} bp of a 10 CNY price), so a move under half a tick shows as none: where the "
           "model's moves are that small the bins' means sit below its line"
           + (", although these fills follow it to the tick" if k.consistent else "")
           + ". The estimate reads each price as the tick it was rounded to, not as a point. Method: "
           + html.escape(METHOD) + ".</p>"
           + html_table(["figure", "value"], rows))
    if excl:
        out += ("<h3>Fills left out of the estimate</h3>"
                + html_table(["reason", "fills", "why"], excl).replace('<td>', '<td class="t">'))
    return out


BP_HEADS = ["vs decision", "vs arrival", "vs VWAP", "vs deal: realised", "vs deal: model", "realised vs model",
            "fees"]
BP_COLS = ["is_decision_bp", "is_arrival_bp", "is_vwap_bp", "slippage_bp", "predicted_slippage_bp",
           "vs_predicted_bp", "fees_bp"]


def _agg_table(df: pd.DataFrame, key: str, label: str, limit: Optional[int] = None) -> str:
    shown = df if limit is None else df.head(limit)
    rows = [[text(r[key]), f"{int(r['fills']):,}", cny(r["notional"]), pct(r["participation"], 2),
             *[_bp(r[c], unit="") for c in BP_COLS], cny(r["slippage_cny"])] for _, r in shown.iterrows()]
    heads = [label, "fills", "notional", "participation", *[f"{h}, bp" for h in BP_HEADS], "slippage, CNY"]
    out = html_table(heads, rows, "wide")
    if limit is not None and len(df) > limit:
        out += f'<p class="note">{limit} of {len(df):,} rows shown; the CSV holds every one.</p>'
    return out


def _backtest(r: TcaResult) -> str:
    c = r.comparison
    if not c:
        return ('<p class="missing">Not run: <code>paper tca --backtest</code> runs the configured backtest with the '
                "configured k and with the estimate, and compares them here.</p>")
    if c.get("skipped"):
        return f'<p class="missing">Not run: {html.escape(c["skipped"])}.</p>'
    rows = [[html.escape(run["label"]), num(run["k"], 4), pct(run.get("annual_return")),
             pct(run.get("excess_annual_return"), signed=True), num(run.get("information_ratio")),
             pct(run.get("max_drawdown")), cny(run.get("final_value")), cny(run.get("slippage")),
             cny(run.get("total_costs"))] for run in c["runs"]]
    heads = ["run", "k", "annual return", "excess (annual)", "IR", "max drawdown", "final value", "slippage",
             "all costs"]
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in c.get("notes", []))
    return html_table(heads, rows, "wide") + notes


def _definitions() -> str:
    items = [
        ("Decision price", "the close before the fill's day on that day's price basis: the bar's pre_close (the "
                           "previous close, moved to the ex-right reference price on an ex-date), the price the "
                           "plan was sized from."),
        ("Arrival price", "the day's open."),
        ("VWAP", "the day's amount / volume (not rounded)."),
        ("Deal price", "the configured broker.deal_price of the day (VWAP on the tick, the open or the close)."),
        ("Model price", "the deal price moved by the configured slippage model for the fill's quantity, on the "
                        "tick and inside the day's range and limits: what the backtest would have filled at."),
        ("Shortfall", "(fill price / reference − 1) × 10,000, sign-flipped for sells: > 0 is a cost. Groups "
                      "weight each fill by its notional (qty × price)."),
        ("Participation", "the fill's quantity / the day's volume (the fund's own share; with broker.crowd = N the "
                          "model's impact is that of N such fills)."),
        ("sigma", "standard deviation of daily log returns of the adjusted close over broker.slippage.vol_days "
                  "before the day: the model's own."),
        ("Slippage, CNY", "(fill price − deal price) × qty, sign-flipped for sells."),
    ]
    return '<dl class="defs">' + "".join(f"<dt>{a}</dt><dd>{html.escape(b)}</dd>" for a, b in items) + "</dl>"


def render(r: TcaResult) -> str:
    """The page's HTML."""
    body = {
        "summary": _summary(r),
        "k": _k_section(r),
        "participation": _img(participation_chart(r.by_participation), "Shortfall by participation")
        + _agg_table(r.by_participation, "participation_bucket", "participation"),
        "side": _agg_table(r.by_side, "side", "side"),
        "day": _img(day_chart(r.by_day), "Shortfall by day")
        + _agg_table(r.by_day.sort_values("date", ascending=False), "date", "date (latest first)", PAGE_ROWS),
        "name": _agg_table(r.by_name, "symbol", "symbol (largest notional first)", PAGE_ROWS),
        "backtest": _backtest(r),
        "definitions": _definitions(),
    }
    s = r.summary
    sub = (f"{html.escape(r.source)} · {text(s['first_date'])} to {text(s['last_date'])} · "
           f"{html.escape(str(s['market']))}")
    return page("Transaction costs against the execution model", sub, SECTIONS, body, EXTRA_CSS, links=False)
