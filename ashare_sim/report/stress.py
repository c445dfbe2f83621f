"""`stress.html`: one self-contained page of a stress grid (inline CSS, PNG charts, no external URLs).

`render(grid, table, curves, episodes, daily, info)` reads only the grid, stress.csv's frame, the
capacity curves and the episode tables (stress.outputs); every figure is defined there or in
metrics.json's definitions (docs/outputs.md).

An axis's values are read from the table (each scenario's effective value) and matched by value, so a
grid's `0` or `1e7` and the table's 0.0 or 10000000.0 are one point. Numbers (with `none`, no limit)
are plotted on a numeric scale in ascending order, `none` in a slot of its own at the right; other
values are categories in grid order.

Metrics against an axis (axes grids): one line per combination of the other varied keys when there
are at most MAX_LINES of them; otherwise two: the other keys as in the grid's first scenario, and the
mean over every combination with its min..max as a band. Explicit lists: the scenarios whose other
keys are those of the first scenario (one change at a time from it). Heat maps: every pair of axes of a
cross product, each cell the mean over the other axes' combinations.
"""
from __future__ import annotations

import dataclasses
import html
import itertools
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ashare_sim.common.text import short_labels, value_text
from ashare_sim.report import stress_charts as charts
from ashare_sim.report.html import _img, page
from ashare_sim.report.tables import NA, cny, cny_short, num, pct, text
from ashare_sim.report.tables import table as html_table

MAX_LINES = 5
# The axes that set the money traded (a fund's capital, or the crowd's): their grids get a capacity curve.
CAPITAL_KEYS = ("broker.cash", "broker.crowd")
SECTIONS = [("summary", "Summary"), ("scenarios", "Scenarios"), ("pairs", "Pairs of axes"),
            ("capacity", "Capacity curve"), ("axes", "Each metric against each axis"),
            ("episodes", "Historical episodes"), ("definitions", "Definitions")]
# Amounts of these keys are written as the page writes money (10 M, 1 bn), not as 10000000.
MONEY_KEYS = ("broker.cash",)
EXTRA_CSS = """
.scroll{overflow-x:auto;max-width:100%}
.scroll table{font-size:12px}
.scroll td,.scroll th{padding:4px 7px}
th{white-space:normal;vertical-align:bottom}
td .failed{display:block;color:#b8322a;white-space:normal;min-width:260px;font-size:11px}
td .sub{display:block;color:#8a8f98;font-size:11px}
ul.key{margin:6px 0 10px 18px;padding:0}
ul.key li{margin:3px 0}
"""


def _number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) and v == v


def _none(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _key(v: Any) -> str:
    """An axis value as the key that matches it by value: 0 in the grid file and 0.0 in stress.csv (the
    setting is a decimal) are the same point, so numbers are keyed by their value, not their text."""
    if _number(v):
        return format(float(v), ".12g")
    return value_text(None if isinstance(v, float) and v != v else v)


def _plain_number(v: float) -> str:
    """0.05, 30 (not 30.0), 1e9 (as a grid writes it)."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e6 else value_text(v)


def _fmt(key: str) -> Callable[[float], str]:
    return cny_short if key in MONEY_KEYS else _plain_number


def _shown(key: str, v: Any) -> str:
    """A value of `key` as the page writes it: none, 10 M, 0.05, vwap."""
    if _none(v):
        return value_text(None)
    return _fmt(key)(float(v)) if _number(v) else value_text(v)


def _axis(key: str, table: pd.DataFrame) -> charts.Axis:
    """The values `key` takes in the table: numbers (and none) on a numeric axis, ascending with none
    last; anything else as categories in order of first appearance (grid order)."""
    seen = list({_key(v): v for v in table[key].tolist()}.values())
    if any(_number(v) for v in seen) and all(_number(v) or _none(v) for v in seen):
        values: list[Any] = sorted({float(v) for v in seen if _number(v)})
        values += [None] if any(_none(v) for v in seen) else []
        return charts.numeric_axis(key, values, [_shown(key, v) for v in values], _fmt(key))
    return charts.Axis(key, [_shown(key, v) for v in seen], seen, numeric=False)


def _combo(row: pd.Series, keys: list[str], labels: dict[str, str]) -> str:
    return ", ".join(f"{labels[k]}={_shown(k, row[k])}" for k in keys)


def _slices(grid: Any, table: pd.DataFrame, key: str) -> tuple[charts.Axis, list[charts.Series]]:
    """The axis of `key` (every scenario's value, failed ones too: a gap, not a missing tick) and the
    lines to draw against it from the scenarios that ran."""
    axis = _axis(key, table)
    ok = table[table["status"] == "ok"]
    pos = {_key(v): i for i, v in enumerate(axis.values)}
    n = len(axis.values)
    others = [k for k in grid.varied if k != key]
    labels = short_labels(list(grid.varied))
    metrics = [m for m, _, _ in charts.AXIS_METRICS]

    def series(label: str, rows: pd.DataFrame, band: bool = False) -> charts.Series:
        s = charts.Series(label, {m: [None] * n for m in metrics})
        if band:
            s.low, s.high = ({m: [None] * n for m in metrics} for _ in range(2))
        for value, part in rows.groupby(rows[key].map(_key), sort=False):
            i = pos.get(value)
            if i is None:
                continue
            for m in metrics:
                col = pd.to_numeric(part[m], errors="coerce")
                if col.notna().any():
                    s.values[m][i] = float(col.mean())
                    if band:
                        s.low[m][i], s.high[m][i] = float(col.min()), float(col.max())
        return s

    if not others:
        return axis, [series("", ok)]
    combo = ok[others].apply(lambda r: _combo(r, others, labels), axis=1)
    groups = list(dict.fromkeys(combo))
    first = ok.iloc[0]
    same = pd.Series(True, index=ok.index)
    for k in others:
        same &= ok[k].map(_key) == _key(first[k])
    reference = series(f"other keys as in {first['scenario']}", ok[same])
    if not grid.axes:                       # an explicit list: one change at a time from its first scenario
        reference.label = ""
        out = [reference]
    elif len(groups) <= MAX_LINES:
        out = [series(g, ok[combo == g]) for g in groups]
    else:
        out = [reference, series(f"mean over {len(groups)} combinations of the other axes (band: min..max)", ok,
                                 band=True)]
    return axis, out


def _heatmap(table: pd.DataFrame, rows_key: str, cols_key: str) -> charts.HeatMap:
    """Mean excess return and IR of the scenarios that ran in each cell of two axes."""
    rows, cols = _axis(rows_key, table), _axis(cols_key, table)
    ok = table[table["status"] == "ok"]
    excess, ir = (np.full((len(rows.values), len(cols.values)), np.nan) for _ in range(2))
    at_row = {_key(v): i for i, v in enumerate(rows.values)}
    at_col = {_key(v): j for j, v in enumerate(cols.values)}
    for (a, b), part in ok.groupby([ok[rows_key].map(_key), ok[cols_key].map(_key)], sort=False):
        i, j = at_row[a], at_col[b]
        for out, metric in ((excess, "excess_annual_return"), (ir, "information_ratio")):
            col = pd.to_numeric(part[metric], errors="coerce")
            if col.notna().any():
                out[i, j] = float(col.mean())
    return charts.HeatMap(rows, cols, excess, ir)


def _signed_pct(v: float) -> str:
    return f"{0.0 if round(v * 100, 1) == 0 else v:+.1%}"


# --------------------------------------------------------------------------- sections


def _summary(grid: Any, table: pd.DataFrame, curves: list, episodes: pd.DataFrame, info: dict) -> str:
    ok = table[table["status"] == "ok"]
    items = [f"{len(table)} scenarios: {len(ok)} ok ({int(ok['reused'].sum())} reused from an earlier run), "
             f"{len(table) - len(ok)} failed. Ran on {html.escape(str(info.get('runner', '')))} in "
             f"{info.get('seconds', 0):.0f} s; scores and benchmark computed {info.get('shared_inputs', 1)} time(s)."]
    if len(ok):
        ex = pd.to_numeric(ok["excess_annual_return"], errors="coerce")
        if ex.notna().any():
            hi, lo = ok.loc[ex.idxmax()], ok.loc[ex.idxmin()]
            items.append(f"Excess return ranges from {pct(lo['excess_annual_return'], signed=True)} "
                         f"({html.escape(lo['scenario'])}) to {pct(hi['excess_annual_return'], signed=True)} "
                         f"({html.escape(hi['scenario'])}).")
    for c in curves:
        where = f" ({html.escape(c.label)})" if c.label else ""
        items.append(f"Capacity{where}: excess halves at <b>{cny_short(c.half_at)} CNY</b>." if c.half_at else
                     f"Capacity{where}: {html.escape(c.note)}.")
    ref = info.get("reference")
    part = episodes[(episodes["scenario"] == ref) & (episodes["skipped"] == "")] if len(episodes) else episodes
    for _, r in part.iterrows():
        items.append(f"{html.escape(r['episode'])}: at worst {pct(r['unsellable_max'], 0)} of the book could not be "
                     f"sold on a day ({html.escape(str(r['unsellable_max_date']))}); "
                     f"{_days(r['days_to_liquidate_10'])} trading days to sell it all at 10% of volume.")
    return '<ul class="key">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _scenarios(grid: Any, table: pd.DataFrame) -> str:
    labels = short_labels(list(grid.varied))
    heads = ["scenario", *[labels[k] for k in grid.varied], "annual", "excess", "IR", "max DD", "turnover",
             "costs", "costs/yr", "capped", "suspended", "limit", "p95 fill"]
    rows = []
    for _, r in table.iterrows():
        name = text(r["scenario"])
        if r["status"] != "ok":
            # the error under the name, wrapped: in a cell of its own one long message widens the table
            cells = [f'{name}<span class="failed">failed: {text(r["error"])}</span>',
                     *[text(_shown(k, r[k])) for k in grid.varied]]
            rows.append(cells + [NA] * (len(heads) - len(cells)))
            continue
        link = f'<a href="scenarios/{html.escape(str(r["scenario"]), quote=True)}/report.html">{name}</a>'
        if r["reused"]:
            link += '<sup class="na" title="reused from an earlier run">r</sup>'
        limit = sum(float(r.get(f"blocked_{k}") or 0.0) for k in ("limit_up", "limit_down"))
        rows.append([link, *[text(_shown(k, r[k])) for k in grid.varied],
                     pct(r["annual_return"]), pct(r["excess_annual_return"], signed=True), num(r["information_ratio"]),
                     pct(r["max_drawdown"]), num(r["annual_turnover"], 1), cny(r["total_costs"]),
                     pct(r["costs_annual_pct"], 2), pct(r["blocked_volume_cap"]), pct(r["blocked_suspended"]),
                     pct(limit, 2), pct(r["crowd_participation_p95"])])
    note = ('<p class="note">Each name links to the scenario\'s own report (scenarios/&lt;name&gt;/report.html); '
            "<sup>r</sup>: reused from an earlier run. capped / suspended / limit: share of intents (a name and "
            "side at one rebalance) cut by the volume cap, refused while suspended, refused at a price limit; p95 "
            "fill: 95th percentile of a fill's share of the day's volume (with broker.crowd = N, of the N funds' "
            "fills together).</p>")
    return f'<div class="scroll">{html_table(heads, rows, "wide")}</div>' + note


def _pairs(grid: Any, table: pd.DataFrame) -> str:
    keys = [k for k in grid.varied if k in grid.axes]
    if len(keys) < 2:
        why = "an explicit list of scenarios" if not grid.axes else "one axis"
        return (f'<p class="missing">This grid is {why}: a heat map needs two axes of a cross product '
                "(two keys under axes: in the grid file, as grids/slippage_volume_cap.yaml has).</p>")
    ok = table[table["status"] == "ok"]
    parts = ['<p class="note">Excess return (annual) and information ratio of every combination of two axes; '
             "colours from red (below 0) through white to green, each panel scaled to its largest magnitude. "
             "With more than two axes a cell is the mean over the other axes' combinations.</p>"]
    for a, b in itertools.combinations(keys, 2):
        others = [k for k in keys if k not in (a, b)]
        n = ok[others].apply(lambda r: tuple(_key(v) for v in r), axis=1).nunique() if others and len(ok) else 1
        img = charts.heatmap_chart(_heatmap(table, a, b), _signed_pct, lambda v: f"{v:.2f}")
        if img:
            where = f" (mean over {n} combinations of {', '.join(others)})" if n > 1 else ""
            parts.append(f"<h3>{html.escape(a)} × {html.escape(b)}{html.escape(where)}</h3>"
                         + _img(img, f"excess return and IR by {a} and {b}"))
    return "".join(parts) if len(parts) > 1 else ""


def _halving_words(c: Any) -> str:
    """Where the excess return halves, in a sentence: from what, to what, between which grid points."""
    where = f" ({html.escape(c.label)})" if c.label else ""
    pts = [(x, e) for x, e in zip(c.capital, c.excess) if e is not None and x > 0]
    if not c.half_at or len(pts) < 2:
        return f"Excess return{where}: does not halve on this grid: {html.escape(c.note)}."
    c0, e0 = pts[0]
    i = next((i for i in range(1, len(pts)) if pts[i][1] <= e0 / 2), None)
    around = "" if i is None else (f", between {cny_short(pts[i - 1][0])} ({pct(pts[i - 1][1], signed=True)}) and "
                                   f"{cny_short(pts[i][0])} ({pct(pts[i][1], signed=True)})")
    return (f"Excess return{where}: {pct(e0, signed=True)} a year at {cny_short(c0)} CNY; it falls to half that "
            f"({pct(e0 / 2, signed=True)}) at about <b>{cny_short(c.half_at)} CNY</b>{around}, interpolated "
            "linearly in log capital.")


def _capacity(curves: list) -> str:
    if not curves:
        return ('<p class="missing">No capital axis in this grid: vary broker.cash (or broker.crowd) to draw '
                "the capacity curve, as grids/capacity.yaml does.</p>")
    rows = []
    for c in curves:
        for x, e, i, n in zip(c.capital, c.excess, c.ir, c.scenarios):
            rows.append([text(c.label or "—"), text(n), cny(x), pct(e, signed=True), num(i)])
        rows.append([text(c.label or "—"), "<b>excess halves at</b>", f"<b>{cny(c.half_at)}</b>" if c.half_at else
                     text(c.note), "", ""])
    what = "cash x broker.crowd: N funds of this cash trading the same lists" if any(c.crowded for c in curves) \
        else "broker.cash"
    words = "".join(f"<li>{_halving_words(c)}</li>" for c in curves)
    return (f'<ul class="key">{words}</ul>' + _img(charts.capacity_chart(curves), "Capacity curve")
            + f'<p class="note">Capital = {html.escape(what)}, on a log scale. The halving point (cross, dashed '
            "line) is interpolated linearly in log capital between the two grid points around half the excess "
            "at the smallest capital (dotted line).</p>"
            + html_table(["slice", "scenario", "capital", "excess", "IR"], rows))


def _axes(grid: Any, table: pd.DataFrame) -> str:
    ok = table[table["status"] == "ok"]
    parts = []
    for key in grid.varied:
        if ok.empty or ok[key].map(_key).nunique() < 2:
            continue
        axis, series = _slices(grid, table, key)
        img = charts.axis_chart(axis, series)
        if img:
            scale = " (log scale)" if axis.log else ""
            parts.append(f"<h3>{html.escape(key)}{scale}</h3>" + _img(img, f"metrics against {key}"))
    if parts and any(_axis(k, table).has_none for k in grid.varied):
        parts.insert(0, '<p class="note">Numeric keys are drawn to scale; <i>none</i> (no limit) has no place '
                        "on it and is drawn as hollow markers past the dashed line at the right.</p>")
    return "".join(parts)


def _days(v: Any) -> str:
    return ">250" if v is None or (isinstance(v, float) and v != v) else f"{int(v)}"


def _episodes(ref: str | None, episodes: pd.DataFrame, daily: pd.DataFrame) -> str:
    if episodes is None or episodes.empty:
        return ""
    part = episodes[episodes["scenario"] == ref]
    rows, skipped = [], []
    for _, r in part.iterrows():
        span = f"{r['start']}..{r['end'][5:]}"
        if r["skipped"]:
            skipped.append(f"{html.escape(str(r['episode']))} ({html.escape(span)}): {text(r['skipped'])}")
            continue
        rows.append([f'{text(r["episode"])}<span class="sub">{html.escape(span)}</span>',
                     f"{int(r['book_names'])} names<span class=\"sub\">{cny_short(r['book_value'])} CNY</span>",
                     pct(r["unsellable_first_day"], 0),
                     f'{pct(r["unsellable_max"], 0)}<span class="sub">{text(r["unsellable_max_date"])}</span>',
                     pct(r["unsellable_mean"], 0),
                     f"{_days(r['days_to_liquidate_10'])} / {_days(r['days_to_liquidate_25'])}",
                     pct(r["return"]), pct(r["max_drawdown"]),
                     f'{pct(r["pool_max_drawdown"])}<span class="sub">{pct(r["drawdown_vs_pool"])} vs pool</span>',
                     f'{pct(r["index_max_drawdown"])}<span class="sub">{pct(r["drawdown_vs_index"])} vs index</span>'])
    heads = ["episode", "book", "unsellable day 1", "unsellable worst day", "unsellable mean",
             "days to sell at 10% / 25%", "return", "max DD", "pool max DD", "index max DD"]
    out = (f'<p class="note">The book of scenario <b>{html.escape(str(ref))}</b> at the close before each episode '
           "(the holdings of the last rebalance before it). Unsellable: its value in names that did not trade "
           "(suspended) or closed at their limit-down that day. Days to sell: every position sold in parallel at "
           "10% / 25% of each day's volume (1/crowd of that with broker.crowd), nothing on an unsellable day. "
           "Drawdowns from the eve's close; vs pool / index: drawdown of the strategy's value divided by the "
           "level.</p>")
    if rows:
        out += f'<div class="scroll">{html_table(heads, rows)}</div>'
    if skipped:
        out += '<p class="note">Skipped: ' + "; ".join(skipped) + ".</p>"
    img = charts.episodes_chart(daily[daily["scenario"] == ref] if len(daily) else daily)
    out += _img(img, "Unsellable share of the book by day")
    names = list(dict.fromkeys(episodes.loc[episodes["skipped"] == "", "episode"]))
    if names and episodes["scenario"].nunique() > 1:
        pivot_rows = []
        for scen, g in episodes.groupby("scenario", sort=False):
            g = g.set_index("episode")
            pivot_rows.append([text(scen)] + [f"{_days(g.at[n, 'days_to_liquidate_10'])} d, {pct(g.at[n, 'max_drawdown'])}"
                                              if n in g.index and not g.at[n, "skipped"] else NA for n in names])
        out += ("<h3>Every scenario: days to sell at 10% of volume, max drawdown</h3>"
                + f'<div class="scroll">{html_table(["scenario", *names], pivot_rows)}</div>')
    return out


def _definitions() -> str:
    return ('<p class="note">Every scenario is a full backtest of the same config with the grid\'s keys changed '
            "(its folder holds the usual files: metrics.json, equity.csv, orders.csv, trades.csv, report.html). "
            "annual = compound annual return; excess = annual return minus the benchmark's; IR = annualised "
            "mean daily excess / tracking error; max DD = deepest fall from a running peak; turnover = (bought + "
            "sold) / 2 / mean value a year; costs = commission + stamp duty + transfer fee + slippage (CNY); "
            "costs/yr = costs / mean value / years. stress.csv holds every column, episodes.csv every episode "
            "figure of every scenario.</p>")


def _labelled(grid: Any, table: pd.DataFrame, curves: list) -> list:
    """The curves with their slice written as the page writes values (volume_cap=none, bps=30), read
    from the table row of each curve's first scenario: the same keys stress.outputs groups by."""
    others = [k for k in grid.varied if k not in CAPITAL_KEYS]
    if all(k in grid.varied for k in CAPITAL_KEYS):
        others.append("broker.crowd")
    if not others:
        return curves
    labels = short_labels(list(grid.varied))
    rows = table.set_index("scenario")
    return [dataclasses.replace(c, label=_combo(rows.loc[c.scenarios[0]], others, labels)) if c.scenarios else c
            for c in curves]


def render(grid: Any, table: pd.DataFrame, curves: list, episodes: pd.DataFrame, daily: pd.DataFrame,
           info: dict) -> str:
    """The page's HTML. `grid` is the stress grid (its path, description, varied keys and axes);
    `info["reference"]` names the scenario the episodes are shown for."""
    curves = _labelled(grid, table, curves)
    body = {"summary": _summary(grid, table, curves, episodes, info), "scenarios": _scenarios(grid, table),
            "pairs": _pairs(grid, table), "capacity": _capacity(curves), "axes": _axes(grid, table),
            "episodes": _episodes(info.get("reference"), episodes, daily), "definitions": _definitions()}
    title = f"Stress test — {Path(grid.label).stem}"
    sub = " · ".join(html.escape(str(x)) for x in (grid.description, grid.label, ", ".join(info.get("data", [])))
                     if x)
    return page(title, sub, SECTIONS, body, EXTRA_CSS, links=False)
