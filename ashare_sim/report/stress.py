"""`stress.html`: one self-contained page of a stress grid (inline CSS, PNG charts, no external URLs).

`render(grid, table, curves, episodes, daily, info)` reads only the grid, stress.csv's frame, the
capacity curves and the episode tables (stress.outputs); every figure is defined there or in
metrics.json's definitions (docs/outputs.md).

Metrics against an axis (axes grids): one line per combination of the other varied keys when there
are at most MAX_LINES of them; otherwise two: the other keys as in the grid's first scenario, and the
mean over every combination with its min..max as a band. Explicit lists: the scenarios whose other
keys are those of the first scenario (one change at a time from it).
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from ashare_sim.common.text import short_labels, value_text
from ashare_sim.report import stress_charts as charts
from ashare_sim.report.html import _img, page
from ashare_sim.report.tables import NA, cny, cny_short, num, pct, text
from ashare_sim.report.tables import table as html_table

MAX_LINES = 5
SECTIONS = [("summary", "Summary"), ("scenarios", "Scenarios"), ("capacity", "Capacity curve"),
            ("axes", "Each metric against each axis"), ("episodes", "Historical episodes"),
            ("definitions", "Definitions")]
EXTRA_CSS = """
.scroll{overflow-x:auto}
.scroll table{font-size:12px}
.scroll td,.scroll th{padding:4px 7px}
td.failed{color:#b8322a;text-align:left;white-space:normal;max-width:420px}
ul.key{margin:6px 0 10px 18px;padding:0}
ul.key li{margin:3px 0}
"""


def _xlabels(grid: Any, key: str, table: pd.DataFrame) -> list[Any]:
    """The axis's values in grid order (axes grids) or in order of first appearance."""
    if key in grid.axes:
        by_text = {_key(v): v for v in table[key].tolist()}
        return [by_text.get(_key(v), v) for v in grid.axes[key]]
    seen = list({_key(v): v for v in table[key].tolist()}.values())
    if all(_number(v) or _key(v) == "none" for v in seen):      # none (no limit) first, then ascending
        return sorted(seen, key=lambda v: (_key(v) != "none", float(v) if _number(v) else 0.0))
    return seen


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def _key(v: Any) -> str:
    """An axis value as the key that matches it by value: 0 in the grid file and 0.0 in stress.csv (the
    setting is a decimal) are the same point, so numbers are keyed by their value, not their text."""
    if _number(v):
        return format(float(v), ".12g")
    return value_text(None if isinstance(v, float) and v != v else v)


def _slices(grid: Any, ok: pd.DataFrame, key: str) -> tuple[list[str], list[charts.Series]]:
    xs = _xlabels(grid, key, ok)
    pos = {_key(v): i for i, v in enumerate(xs)}
    others = [k for k in grid.varied if k != key]
    labels = short_labels(list(grid.varied))
    metrics = [m for m, _, _ in charts.AXIS_METRICS]

    def series(label: str, rows: pd.DataFrame, band: bool = False) -> charts.Series:
        s = charts.Series(label, {m: [None] * len(xs) for m in metrics})
        if band:
            s.low, s.high = ({m: [None] * len(xs) for m in metrics} for _ in range(2))
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
        return [_key(v) for v in xs], [series("", ok)]
    combo = ok[others].apply(lambda r: ", ".join(f"{labels[k]}={_key(r[k])}" for k in others), axis=1)
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
    return [_key(v) for v in xs], out


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
             "costs", "costs/yr", "capped", "suspended", "limit", "p95 fill", ""]
    rows = []
    for _, r in table.iterrows():
        if r["status"] != "ok":
            cells = [text(r["scenario"]), *[text(_key(r[k])) for k in grid.varied]]
            cells += [NA] * (len(heads) - len(cells) - 1)
            cells.append(f'<span class="neg">failed</span>: {text(r["error"])}')
            rows.append(cells)
            continue
        limit = sum(float(r.get(f"blocked_{k}") or 0.0) for k in ("limit_up", "limit_down"))
        rows.append([text(r["scenario"]), *[text(_key(r[k])) for k in grid.varied],
                     pct(r["annual_return"]), pct(r["excess_annual_return"], signed=True), num(r["information_ratio"]),
                     pct(r["max_drawdown"]), num(r["annual_turnover"], 1), cny(r["total_costs"]),
                     pct(r["costs_annual_pct"], 2), pct(r["blocked_volume_cap"]), pct(r["blocked_suspended"]),
                     pct(limit, 2),
                     pct(r["crowd_participation_p95"]), "reused" if r["reused"] else "ran"])
    note = ('<p class="note">capped / suspended / limit: share of intents (a name and side at one rebalance) '
            "cut by the volume cap, refused while suspended, refused at a price limit; p95 fill: 95th percentile "
            "of a fill's share of the day's volume (with broker.crowd = N, of the N funds' fills together). Each scenario's own report: scenarios/&lt;name&gt;/report.html."
            "</p>")
    links = " · ".join(f'<a href="scenarios/{html.escape(n)}/report.html">{html.escape(n)}</a>'
                       for n, s in zip(table["scenario"], table["status"]) if s == "ok")
    return (f'<div class="scroll">{html_table(heads, rows, "wide")}</div>' + note
            + (f'<p class="note">Reports: {links}</p>' if links else ""))


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
    return (_img(charts.capacity_chart(curves), "Capacity curve")
            + f'<p class="note">Capital = {html.escape(what)}. The halving point is interpolated linearly in log '
            "capital between the two grid points around half the excess at the smallest capital (dotted line).</p>"
            + html_table(["slice", "scenario", "capital", "excess", "IR"], rows))


def _axes(grid: Any, table: pd.DataFrame) -> str:
    ok = table[table["status"] == "ok"]
    parts = []
    for key in grid.varied:
        if ok.empty or ok[key].map(_key).nunique() < 2:
            continue
        xs, series = _slices(grid, ok, key)
        img = charts.axis_chart(key, xs, series)
        if img:
            parts.append(f"<h3>{html.escape(key)}</h3>" + _img(img, f"metrics against {key}"))
    return "".join(parts)


def _days(v: Any) -> str:
    return ">250" if v is None or (isinstance(v, float) and v != v) else f"{int(v)}"


def _episodes(ref: str | None, episodes: pd.DataFrame, daily: pd.DataFrame) -> str:
    if episodes is None or episodes.empty:
        return ""
    part = episodes[episodes["scenario"] == ref]
    rows = []
    for _, r in part.iterrows():
        label = f"{r['episode']}, {r['start']}..{r['end'][5:]}"
        if r["skipped"]:
            rows.append([text(label), f'<span class="na">skipped: {text(r["skipped"])}</span>'] + [""] * 9)
            continue
        rows.append([text(label), f"{int(r['book_names'])}, {cny_short(r['book_value'])}",
                     pct(r["unsellable_first_day"], 0), f"{pct(r['unsellable_max'], 0)} ({text(r['unsellable_max_date'])})",
                     pct(r["unsellable_mean"], 0), f"{_days(r['days_to_liquidate_10'])} / {_days(r['days_to_liquidate_25'])}",
                     pct(r["return"]), pct(r["max_drawdown"]), f"{pct(r['pool_max_drawdown'])} / {pct(r['drawdown_vs_pool'])}",
                     f"{pct(r['index_max_drawdown'])} / {pct(r['drawdown_vs_index'])}", ""])
    heads = ["episode", "book: names, CNY", "unsellable day 1", "worst day", "mean", "days to sell 10% / 25%",
             "return", "max DD", "pool DD / DD vs pool", "index DD / DD vs index", ""]
    out = (f'<p class="note">The book of scenario <b>{html.escape(str(ref))}</b> at the close before each episode '
           "(the holdings of the last rebalance before it). Unsellable: its value in names that did not trade "
           "(suspended) or closed at their limit-down that day. Days to sell: every position sold in parallel at "
           "10% / 25% of each day's volume (1/crowd of that with broker.crowd), nothing on an unsellable day. "
           "Drawdowns from the eve's close; vs pool / index: drawdown of the strategy's value divided by the "
           f'level.</p><div class="scroll">{html_table(heads, rows, "wide")}</div>')
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
                + html_table(["scenario", *names], pivot_rows))
    return out


def _definitions() -> str:
    return ('<p class="note">Every scenario is a full backtest of the same config with the grid\'s keys changed '
            "(its folder holds the usual files: metrics.json, equity.csv, orders.csv, trades.csv, report.html). "
            "annual = compound annual return; excess = annual return minus the benchmark's; IR = annualised "
            "mean daily excess / tracking error; max DD = deepest fall from a running peak; turnover = (bought + "
            "sold) / 2 / mean value a year; costs = commission + stamp duty + transfer fee + slippage (CNY); "
            "costs/yr = costs / mean value / years. stress.csv holds every column, episodes.csv every episode "
            "figure of every scenario.</p>")


def render(grid: Any, table: pd.DataFrame, curves: list, episodes: pd.DataFrame, daily: pd.DataFrame,
           info: dict) -> str:
    """The page's HTML. `grid` is the stress grid (its path, description, varied keys and axes);
    `info["reference"]` names the scenario the episodes are shown for."""
    body = {"summary": _summary(grid, table, curves, episodes, info), "scenarios": _scenarios(grid, table),
            "capacity": _capacity(curves), "axes": _axes(grid, table),
            "episodes": _episodes(info.get("reference"), episodes, daily), "definitions": _definitions()}
    title = f"Stress test — {Path(grid.label).stem}"
    sub = " · ".join(html.escape(str(x)) for x in (grid.description, grid.label, ", ".join(info.get("data", [])))
                     if x)
    return page(title, sub, SECTIONS, body, EXTRA_CSS, links=False)
