"""`report.html`: one self-contained page (inline CSS, charts as inline PNG, no external URLs).

write_report() renders a `metrics.report_data.ReportData` (the series and tables of each section,
computed there from the run's tables and metrics.json); it computes nothing itself. Optional keys it
understands in the metrics: `benchmark_label` (legend / column name of the benchmark) and `title`.
"""
from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
from loguru import logger

from ashare_sim.metrics.performance import headline_returns
from ashare_sim.metrics.report_data import ReportData
from ashare_sim.report.tables import (
    NA,
    cny,
    frame_table,
    heatmap_table,
    num,
    pct,
    table,
    text,
)

# Pages of one output directory that link to each other when both exist (link_pages).
PAGES = {"report.html": "Backtest report", "research.html": "Research analytics"}
LINKS = re.compile(r"<!--links-->.*?<!--/links-->", re.S)

SECTIONS = [
    ("summary", "Summary"),
    ("assumptions", "Execution assumptions"),
    ("equity", "Equity vs benchmark"),
    ("drawdown", "Drawdown"),
    ("by-year", "By year"),
    ("monthly", "Monthly excess returns"),
    ("ic", "Composite RankIC"),
    ("quintiles", "Quintile returns"),
    ("holdings", "Holdings"),
    ("costs", "Costs and orders"),
]

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1d2530;
 font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans CJK SC","Microsoft YaHei",sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px;background:#fff}
header h1{font-size:24px;margin:0 0 4px}
header .sub{color:#5b6472;margin:0 0 14px}
nav{font-size:13px;margin:0 0 18px;color:#5b6472}
nav a{color:#1f4e8c;text-decoration:none;margin-right:14px}
h2{font-size:18px;margin:34px 0 10px;padding-bottom:6px;border-bottom:2px solid #1f4e8c}
h3{font-size:15px;margin:20px 0 8px}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:10px;margin:6px 0 4px}
.card{border:1px solid #dde1e6;border-radius:6px;padding:10px 12px;background:#fafbfc}
.card .k{font-size:12px;color:#5b6472}
.card .v{font-size:21px;font-weight:600;margin-top:2px}
.card .c{font-size:11px;color:#8a8f98;margin-top:2px}
table.wide{width:100%}
table{border-collapse:collapse;margin:6px 0 10px;font-variant-numeric:tabular-nums;font-size:13px}
th{background:#eef1f5;color:#2a3340;font-weight:600;text-align:right;padding:6px 10px;border-bottom:1px solid #cfd5dc}
td{text-align:right;padding:5px 10px;border-bottom:1px solid #eceff2;white-space:nowrap}
th:first-child,td.t{text-align:left}
tbody tr:nth-child(even) td{background:#fafbfc}
tr.total td{font-weight:600;border-top:2px solid #cfd5dc}
tr.hl td{font-weight:600}
td.study,th.study{color:#6b5a2e;background:#fbf7ea !important;border-left:2px solid #e6d9a8}
.neg{color:#b8322a}
.na{color:#a0a6ae}
table.heat td{padding:4px 6px;min-width:52px;font-size:12px}
table.heat td.yr{font-weight:600;border-left:2px solid #cfd5dc}
img{max-width:100%;display:block;margin:4px 0 8px}
.note{color:#5b6472;font-size:12px;margin:4px 0 10px}
.missing{color:#8a8f98;font-style:italic;padding:10px 0}
.cols{display:flex;gap:32px;flex-wrap:wrap;align-items:flex-start}
dl.defs{font-size:12px;color:#3b4450;columns:2;column-gap:32px}
dl.defs dt{font-weight:600;margin-top:6px}
dl.defs dd{margin:0}
"""


def _g(m: dict, key: str) -> Any:
    return m.get(key) if isinstance(m, dict) else None


def _img(uri: str | None, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}">' if uri else ""


def _missing(what: str) -> str:
    return f'<p class="missing">{html.escape(what)}: not available.</p>'


def _date_span(m: dict) -> str:
    return f"{text(_g(m, 'start'))} to {text(_g(m, 'end'))}"


# --------------------------------------------------------------------------- sections


def _cards(m: dict) -> str:
    head = headline_returns(m)
    if head["annualised"]:
        returns = [("Annualized return", pct(head["portfolio"]), f"benchmark {_plain_pct(head['benchmark'])}"),
                   ("Excess return (ann.)", pct(head["excess"], signed=True), "portfolio − benchmark")]
    else:
        returns = [("Total return", pct(head["portfolio"]), f"benchmark {_plain_pct(head['benchmark'])}"),
                   ("Excess return (total)", pct(head["excess"], signed=True), head["note"])]
    items = [
        *returns,
        ("Information ratio", num(_g(m, "information_ratio")), f"TE {_plain_pct(_g(m, 'tracking_error'))}"),
        ("Max drawdown", pct(_g(m, "max_drawdown")), f"excess {_plain_pct(_g(m, 'excess_max_drawdown'))}"),
        ("Monthly win rate", pct(_g(m, "monthly_win_rate")), "months beating benchmark"),
        ("Annual turnover", f"{num(_g(m, 'annual_turnover'), 1)}×",
         f"costs {_plain_pct(_g(m, 'costs_annual_pct'), 2)} of value a year"),
    ]
    cells = "".join(f'<div class="card"><div class="k">{k}</div><div class="v">{v}</div><div class="c">{c}</div></div>'
                    for k, v, c in items)
    return f'<div class="cards">{cells}</div>'


def _bp(x: Any) -> str:
    """A fraction in basis points ('3.00 bp'), dash when missing."""
    return NA if x is None else f"{num(x * 1e4, 2)} bp"


def _plain_pct(x: Any, decimals: int = 1) -> str:
    try:
        return f"{float(x):.{decimals}%}" if x is not None else "—"
    except (TypeError, ValueError):
        return "—"


def _summary(d: ReportData) -> str:
    m, bench_label, composite_ir = d.metrics, d.bench_label, d.composite_ir
    s, source = d.study.get("figures", {}), d.study.get("source", "")
    show_study = d.show_study

    def study_cell(v: str) -> str:
        return f'<td class="study">{v}</td>' if show_study else ""

    # Under a year the annual rate is not shown at all: beside the total it would still be the figure read.
    annual = ([pct(_g(m, "annual_return")), pct(_g(m, "benchmark_annual_return")),
               pct(_g(m, "excess_annual_return"), signed=True)] if headline_returns(m)["annualised"] else
              ["n/a (&lt; 1 year)"] * 3)
    rows = [
        ("Annualized return", *annual,
         f"{s['annual_return']:.2%} (pool {s['benchmark_annual_return']:.2%}, excess {s['excess_annual_return']:+.2%})"),
        ("Total return", pct(_g(m, "total_return")), pct(_g(m, "benchmark_total_return")),
         pct(_g(m, "excess_total_return"), signed=True)
         + ("<sup>a</sup>" if _g(m, "excess_total_return") is not None else ""), "—"),
        ("Volatility / tracking error (ann.)", pct(_g(m, "volatility")), pct(_g(m, "benchmark_volatility")),
         pct(_g(m, "tracking_error")), f"TE {s['tracking_error']:.2%}"),
        ("Sharpe / information ratio", num(_g(m, "sharpe")), num(_g(m, "benchmark_sharpe")),
         num(_g(m, "information_ratio")), f"IR {s['information_ratio']:.2f}"),
        ("Max drawdown", pct(_g(m, "max_drawdown")), pct(_g(m, "benchmark_max_drawdown")),
         pct(_g(m, "excess_max_drawdown")), f"excess {s['excess_max_drawdown']:.2%}"),
        ("Max drawdown dates", _dd_dates(m, ""), NA, _dd_dates(m, "excess_"), "—"),
        ("Monthly win rate vs benchmark", NA, NA, pct(_g(m, "monthly_win_rate")), f"{s['monthly_win_rate']:.2%}"),
        ("Composite RankIC IR (ann.)", num(composite_ir), NA, NA, f"{s['composite_ic_ir']:.2f}"),
        ("Annual turnover", f"{num(_g(m, 'annual_turnover'), 2)}×", NA, NA, "—"),
        ("Trading costs (all kinds)", f"{cny(_g(m, 'total_costs'))} · {pct(_g(m, 'costs_annual_pct'), 2)}/yr",
         NA, NA, "—"),
        ("Final value", cny(_g(m, "final_value")), NA, NA, "—"),
    ]
    head = ("<tr><th>Figure</th><th>Portfolio</th><th>" + html.escape(bench_label) + "</th><th>Excess</th>"
            + (f'<th class="study">{html.escape(source)} (context, not a target)</th>' if show_study else "")
            + "</tr>")
    body = "".join(f'<tr><td class="t">{r[0]}</td><td>{r[1]}</td><td>{r[2]}</td><td>{r[3]}</td>{study_cell(r[4])}</tr>'
                   for r in rows)
    note = ('<p class="note">Run from ' + _date_span(m) + f" ({num(_g(m, 'years'), 1)} years, {text(_g(m, 'days'))} "
            "trading days), starting with " + cny(_g(m, "initial_cash")) + ". Excess = daily portfolio return − daily "
            "benchmark return; annualized excess = difference of the compound annual rates; TE and IR come from "
            "daily excess returns × 252 / √252. <sup>a</sup> total of the excess curve ∏(1 + daily excess).")
    if show_study:
        note += (f" The study column is the published result of the same strategy ({html.escape(source)}, "
                 "real A-share data, ~0.3% round trip, no market impact), shown for orientation only.")
    return f'<table class="wide"><thead>{head}</thead><tbody>{body}</tbody></table>{note}</p>'


def _assumptions(m: dict) -> str:
    items = _g(m, "execution") or []
    if not items:
        return _missing("Execution assumptions")
    rows = [[html.escape(str(label)), html.escape(str(value))] for label, value in items]
    tab = table(["Assumption", "This run"], rows).replace("<td>", '<td class="t">')
    missing = (_g(m, "data") or {}).get("missing") or []
    skipped = {k: v for k, v in (_g(m, "skipped") or {}).items() if v}
    parts = [tab]
    if missing:
        parts.append('<p class="note"><b>Missing from the data</b> (rules and factors that are off): '
                     + "; ".join(html.escape(x) for x in missing) + ".</p>")
    stale = (_g(m, "data") or {}).get("stale")
    if stale:
        parts.append(f'<p class="note"><b>Stale listings</b>: {stale["count"]} stock(s) without a bar for over a year '
                     "before the data ends and no delisting date, carried as suspended (e.g. "
                     + html.escape(", ".join(stale["examples"][:3])) + ").</p>")
    if skipped:
        parts.append('<p class="note"><b>Targets that gave no order</b>: '
                     + ", ".join(f"{html.escape(k)} {v:,}" for k, v in skipped.items()) + ".</p>")
    return "".join(parts)


def _dd_dates(m: dict, prefix: str) -> str:
    start = _g(m, f"{prefix}max_drawdown_start")
    if start is None:
        return NA
    end = _g(m, f"{prefix}max_drawdown_end")
    days = _g(m, f"{prefix}max_drawdown_duration_days")
    end_s = text(end) if end else "not recovered"
    return (f'<span style="font-size:12px">{text(start)} → {text(_g(m, f"{prefix}max_drawdown_trough"))} → '
            f"{end_s} ({text(days)} d)</span>")


def _by_year(m: dict, bench_label: str) -> str:
    rows_in = _g(m, "by_year") or []
    if not rows_in:
        return _missing("By-year figures")
    headers = ["Year", "Portfolio", bench_label, "Excess", "Max drawdown", "Excess max DD", "IR", "TE",
               "Monthly win rate", "Turnover", "Costs"]
    rows = []
    for r in rows_in:
        rows.append([str(r.get("year")), pct(r.get("portfolio_return")), pct(r.get("benchmark_return")),
                     pct(r.get("excess_return"), signed=True), pct(r.get("max_drawdown")),
                     pct(r.get("excess_max_drawdown")), num(r.get("information_ratio")),
                     pct(r.get("tracking_error")), pct(r.get("monthly_win_rate")),
                     f"{num(r.get('annual_turnover'), 2)}×", cny(r.get("total_costs"))])
    tab = table(headers, rows)
    head = headline_returns(m)
    total = (f'<tr class="total"><td class="t">Whole run ({"ann." if head["annualised"] else "total"})</td>'
             f'<td>{pct(head["portfolio"])}</td>'
             f'<td>{pct(head["benchmark"])}</td><td>{pct(head["excess"], signed=True)}</td>'
             f'<td>{pct(_g(m, "max_drawdown"))}</td><td>{pct(_g(m, "excess_max_drawdown"))}</td>'
             f'<td>{num(_g(m, "information_ratio"))}</td><td>{pct(_g(m, "tracking_error"))}</td>'
             f'<td>{pct(_g(m, "monthly_win_rate"))}</td><td>{num(_g(m, "annual_turnover"), 2)}×</td>'
             f'<td>{cny(_g(m, "total_costs"))}</td></tr>')
    tab = tab.replace("</tbody>", total + "</tbody>")
    note = ('<p class="note">Each year starts from the previous year-end value; returns are for the calendar year '
            "(a partial first or last year is not annualized). IR and TE are annualized from the year's daily "
            "excess returns; turnover is the year's traded value / 2 / mean value.</p>")
    return tab + note


def _heatmap(d: ReportData) -> str:
    m, monthly = d.metrics, d.monthly
    by_year = {r["year"]: r for r in (_g(m, "by_year") or [])}
    if monthly["benchmark"].notna().any():
        yearly = {y: r.get("excess_return") for y, r in by_year.items()}
        note = ('<p class="note">Monthly excess = compounded portfolio month return − compounded benchmark month '
                "return; the Year column is the calendar-year excess of the by-year table.</p>")
        return heatmap_table(monthly["excess"], yearly, "Excess") + note
    yearly = {y: r.get("portfolio_return") for y, r in by_year.items()}
    return ('<p class="note">No benchmark in this run: showing the portfolio\'s own monthly returns.</p>'
            + heatmap_table(monthly["portfolio"], yearly, "Portfolio"))


def _ic_section(d: ReportData) -> str:
    from ashare_sim.report import charts

    summ = d.ic_summary
    parts = []
    if d.composite_ic is not None:
        parts.append(_img(charts.ic_bars(d.composite_ic), "Composite RankIC"))
    else:
        parts.append(_missing("Composite RankIC series"))
    if summ is not None and len(summ):
        view = pd.DataFrame({
            "Mean RankIC": summ.get("mean"), "Std": summ.get("std"), "IC-IR (ann. √12)": summ.get("ic_ir"),
            "Win rate": summ.get("win_rate"), "Months": summ.get("n"),
        }, index=summ.index)
        fmt = {"Mean RankIC": lambda v: num(v, 3), "Std": lambda v: num(v, 3), "IC-IR (ann. √12)": num,
               "Win rate": pct, "Months": lambda v: num(v, 0)}
        tab = frame_table(view, fmt, "Factor")
        tab = tab.replace('<tr><td class="t">composite</td>', '<tr class="hl"><td class="t">composite</td>')
        parts.append("<h3>RankIC by factor</h3>" + tab +
                     '<p class="note">RankIC: Spearman correlation of each month\'s signal with the next '
                     "month's returns across the universe. IC-IR = mean / std × √12; win rate = share of months "
                     f"with IC &gt; 0. Study composite IC-IR {d.study['figures']['composite_ic_ir']:.2f} (context).</p>")
    else:
        parts.append(_missing("Per-factor IC summary"))
    if d.factor_weights is not None:
        parts.append(_img(charts.weights_chart(d.factor_weights), "Composite factor weights"))
    return "".join(parts)


def _quintiles(d: ReportData) -> str:
    from ashare_sim.report import charts

    qn = d.quintiles
    if qn is None:
        return _missing("Quintile returns")
    note = (f'<p class="note">{html.escape(str(qn.columns[-1]))} = highest composite score. Top minus bottom: '
            f"{pct(d.quintile_spread, 2, signed=True)} per period on average over "
            f"{d.quintile_periods} periods. Bucket returns are equal-weight, before costs.</p>")
    return _img(charts.quintile_chart(qn), "Quintile returns") + note


def _holdings(d: ReportData) -> str:
    from ashare_sim.report import charts

    counts, m = d.names_held, d.metrics
    if counts is None:
        return _missing("Holdings")
    if len(counts) == 0:
        return _missing("Holdings (no positions)")
    parts = [_img(charts.names_chart(counts, d.universe_size), "Names held")]
    last = d.holdings_day
    rows = []
    for _, r in d.top_holdings.iterrows():
        rows.append([text(r["symbol"]), num(r.get("qty"), 0), num(r.get("sellable_qty"), 0), num(r.get("close"), 2),
                     cny(r["value"]), pct(r["weight"], 2)])
    parts.append(f"<h3>Top holdings on {last.date()} (the run's last day)</h3>")
    parts.append(table(["Symbol", "Shares", "Sellable", "Close", "Value", "Weight"], rows))
    parts.append(f'<p class="note">{d.holdings_names} names on {last.date()}, {pct(d.invested)} of the portfolio value '
                 f"invested; {num(_g(m, 'holdings_avg_names'), 1)} names on average over {len(counts)} holdings dates. "
                 f"Showing the largest {len(d.top_holdings)}.</p>")
    return "".join(parts)


def _costs(m: dict) -> str:
    total = _g(m, "total_costs") or 0.0
    traded = _g(m, "traded_value")
    kinds = [("Commission", "commission"), ("Stamp duty", "stamp_duty"), ("Transfer fee", "transfer_fee"),
             ("Slippage (inside fill prices)", "slippage")]
    rows = [[k, cny(_g(m, key)), pct((_g(m, key) or 0.0) / total if total else None),
             _bp((_g(m, key) or 0.0) / traded if traded else None)] for k, key in kinds]
    rows.append(["Total", cny(total), pct(1.0 if total else None), _bp(total / traded if traded else None)])
    cost_tab = table(["Cost kind", "CNY", "Share", "Per traded value"], rows).replace(
        "<tr><td class=\"t\">Total", "<tr class=\"total\"><td class=\"t\">Total")
    flow = table(["Flow", "Value"], [
        ["Trades", num(_g(m, "n_trades"), 0)], ["Bought", cny(_g(m, "buy_value"))], ["Sold", cny(_g(m, "sell_value"))],
        ["Annual turnover", f"{num(_g(m, 'annual_turnover'), 2)}×"],
        ["Costs per year / mean value", pct(_g(m, "costs_annual_pct"), 2)],
    ])
    blocked_keys = [k for k in m if k.startswith("blocked_")] if isinstance(m, dict) else []
    n_orders = _g(m, "n_orders") or 0
    n_intents = _g(m, "n_intents") or n_orders
    hit = [k for k in sorted(blocked_keys, key=lambda k: -(m[k] or 0.0)) if m[k]]
    clear = [k[len("blocked_"):] for k in blocked_keys if not m[k]]
    brows = [[html.escape(k[len("blocked_"):]), pct(m[k], 2), num((m[k] or 0.0) * n_intents, 0),
              pct(_g(m, "attempts_" + k), 2)] for k in hit]
    if n_orders:
        order_tab = (table(["Blocked by reason", "Share of intents", "Intents", "Share of attempts"], brows)
                     if brows else '<p class="missing">No order was blocked.</p>')
        order_note = (f'<p class="note">{num(n_intents, 0)} intents (a symbol and side to trade at one rebalance), '
                      f'{num(n_orders, 0)} attempts of which {num(_g(m, "retries"), 0)} retries on later days: '
                      f'{num(_g(m, "orders_filled"), 0)} filled, {num(_g(m, "orders_partial"), 0)} partial, '
                      f'{num(_g(m, "orders_rejected"), 0)} rejected; {num(_g(m, "intents_unfilled"), 0)} intents '
                      "not completely filled by the next rebalance. Share of intents = intents blocked at least "
                      "once for that reason / all intents."
                      + (f" Never blocked by: {html.escape(', '.join(clear))}." if clear and brows else "")
                      + "</p>")
    else:
        order_tab, order_note = _missing("Order log"), ""
    note = ('<p class="note">Commission, stamp duty and transfer fee are charged on top of qty × price; slippage is '
            "the CNY gap between fill price and deal price, already inside fill prices and counted here as a cost, "
            "not charged twice.</p>")
    return (f'<div class="cols"><div>{cost_tab}</div><div>{flow}</div><div>{order_tab}</div></div>'
            + note + order_note)


def _definitions() -> str:
    items = [
        ("Daily return", "value_t / value_(t−1) − 1; the first day against the starting cash."),
        ("Excess return", "daily portfolio return − daily benchmark return (arithmetic). Excess curve = ∏(1 + excess)."),
        ("Annualized return", "(final / initial)^(1/years) − 1, years = calendar days / 365.25."),
        ("Tracking error", "std(daily excess) × √252."),
        ("Information ratio", "mean(daily excess) × 252 / tracking error."),
        ("Sharpe", "mean(daily return) × 252 / (std(daily return) × √252), risk-free 0."),
        ("Max drawdown", "lowest value / running peak − 1; dates are peak → trough → recovery."),
        ("Monthly win rate", "share of calendar months whose portfolio return beats the benchmark's."),
        ("Annual turnover", "(bought + sold value) / 2 / mean portfolio value / years."),
        ("Blocked share", "intents (symbol, side, rebalance) blocked at least once for a reason / all intents; "
                          "retries are counted separately."),
    ]
    return '<dl class="defs">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


# --------------------------------------------------------------------------- page


def report_title(m: dict) -> str:
    source = _g(m, "targets_source") or {}
    if source.get("kind") == "file":
        return f"Backtest report — targets file {Path(str(source.get('path'))).name}"
    if source.get("kind") == "given":
        return "Backtest report — given target lists"
    if source.get("kind") == "backtrader":
        return f"Backtest report — Backtrader strategy {source.get('name')}"
    if source.get("kind") == "function":
        return f"Backtest report — rebalance function {source.get('name')}"
    return "Backtest report — A-share small-cap composite"


def write_report(out_dir: Path, data: ReportData) -> Path:
    """Write `out_dir/report.html` from the page's data (metrics.report_data) and return its path. A section
    without data says "not available"."""
    from ashare_sim.report import charts     # matplotlib: loaded by the runs that draw (0.5 s)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    d, m = data, data.metrics
    bench_label = d.bench_label
    eq_chart = charts.equity_chart(d.nav, d.bench_nav, d.excess_curve, bench_label)
    body = {
        "summary": _cards(m) + _summary(d),
        "assumptions": _assumptions(m),
        "equity": _img(eq_chart, "Equity vs benchmark") + ("" if d.has_benchmark else
                                                           '<p class="note">No benchmark in this run.</p>'),
        "drawdown": _img(charts.drawdown_chart(d.drawdown, d.excess_drawdown, m.get("max_drawdown_trough")),
                         "Drawdown"),
        "by-year": _img(charts.yearly_bars(m.get("by_year") or [], bench_label), "Returns by year")
        + _by_year(m, bench_label),
        "monthly": _heatmap(d),
        "ic": _ic_section(d),
        "quintiles": _quintiles(d),
        "holdings": _holdings(d),
        "costs": _costs(m),
    }
    title = str(m.get("title") or report_title(m))
    nav_links = "".join(f'<a href="#{sid}">{html.escape(name)}</a>' for sid, name in SECTIONS)
    sections = "".join(f'<section id="{sid}"><h2>{html.escape(name)}</h2>{body[sid] or _missing(name)}</section>'
                       for sid, name in SECTIONS)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}</style></head>
<body><main>
<header><h1>{html.escape(title)}</h1>
<p class="sub">{_date_span(m)} · benchmark: {html.escape(bench_label) if d.has_benchmark else "none"}</p></header>
<nav>{nav_links}<!--links--><!--/links--></nav>
{sections}
<section id="definitions"><h2>Definitions</h2>{_definitions()}</section>
</main></body></html>
"""
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    logger.debug("report written to {} ({:.0f} KB)", path, path.stat().st_size / 1024)
    return path


def page(title: str, sub: str, sections: list[tuple[str, str]], body: dict[str, str], extra_css: str = "",
         links: bool = True, fill_missing: bool = True) -> str:
    """A self-contained page: header, a nav of `sections` (plus the <!--links--> slot of link_pages when
    `links`), one <section> per (id, name) with body[id] (an empty one says "not available" when
    `fill_missing`). `sub` is trusted HTML."""
    nav = "".join(f'<a href="#{sid}">{html.escape(name)}</a>' for sid, name in sections)
    parts = "".join(f'<section id="{sid}"><h2>{html.escape(name)}</h2>'
                    f'{(body[sid] or _missing(name)) if fill_missing else body[sid]}</section>' for sid, name in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}{extra_css}</style></head>
<body><main>
<header><h1>{html.escape(title)}</h1>
<p class="sub">{sub}</p></header>
<nav>{nav}{"<!--links--><!--/links-->" if links else ""}</nav>
{parts}
</main></body></html>
"""


def link_pages(out_dir: Path) -> None:
    """Give each page of PAGES in `out_dir` a link to the others there (and none to a missing one).

    Called by each writer after its page is in place, so whichever runs second adds the link
    to the first page too. A page without the <!--links--> marker is left alone."""
    out_dir = Path(out_dir)
    for page in PAGES:
        path = out_dir / page
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        others = "".join(f'<a href="{other}">{label} &rarr;</a>' for other, label in PAGES.items()
                         if other != page and (out_dir / other).exists())
        new = LINKS.sub(lambda _: f"<!--links-->{others}<!--/links-->", text)
        if new != text:
            tmp = path.with_name(f".{page}.tmp")
            tmp.write_text(new, encoding="utf-8")
            os.replace(tmp, path)
