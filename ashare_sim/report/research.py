"""`research.html`: one self-contained page of the research analytics (inline CSS, PNG charts).

`render(result, cfg)` reads only a research.build.ResearchResult; every figure is
defined in the research module that computes it (see their docstrings).
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ashare_sim.report import research_charts as charts
from ashare_sim.report.html import _img, _missing, page
from ashare_sim.report.labels import industry_name
from ashare_sim.report.tables import NA, num, pct, table, text

# The study's valuation of the real small-cap market in 2022-03: context for real data only.
STUDY_VALUATION = {"month": "2022-03", "pb": 2.20, "pb_percentile": 32, "pe_ttm": 40.5, "pe_ttm_percentile": 17}

SECTIONS = [
    ("summary", "Summary"),
    ("size", "Size structure"),
    ("smallest", "Smallest names vs the pool"),
    ("valuation", "Pool valuations"),
    ("exposure", "Portfolio style exposure"),
    ("industry", "Industry weights"),
    ("crowding", "Crowding monitor"),
    ("neutral", "Industry-neutral scoring"),
]

EXTRA_CSS = """
.flag{border-radius:6px;padding:12px 14px;margin:10px 0 14px;font-size:14px}
.flag.on{background:#fdecea;border:1px solid #e5a39d;color:#7d1f17}
.flag.off{background:#eef6ee;border:1px solid #b7d7b7;color:#245c24}
ul.key{margin:6px 0 10px 18px;padding:0}
ul.key li{margin:3px 0}
"""


def _pctile(v) -> str:
    """A percentile 0..100 as '32nd'."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return NA
    if not np.isfinite(x):
        return NA
    n = int(round(x))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --------------------------------------------------------------------------- sections


def _size(r, cfg) -> str:
    sg = r.size_groups
    if sg is None or len(sg) == 0:
        return _missing("Size groups (no month with enough names)")
    wide, market = r.size_table
    rows = [[f"D{g}"] + [pct(wide.loc[g, e], 1, signed=True) for e in wide.columns] for g in wide.index]
    rows.append(["Equal-weight market (annual)"] + [pct(market[e]) for e in wide.columns])
    tab = table(["Size group"] + [str(e) for e in wide.columns], rows).replace(
        '<tr><td class="t">Equal-weight market', '<tr class="total"><td class="t">Equal-weight market')
    note = ('<p class="note">Each month the market (listed, trading at the signal close, known total cap'
            f"{', ex ST' if cfg.research.size_exclude_st else ''}) is cut into {len(wide)} groups by total cap, D1 = smallest. "
            "A group's return is the equal-weight return from the rebalance-day open to the next rebalance-day "
            "open (the window the strategy holds); the excess is its compound annual rate minus that of the "
            "equal-weight market, over the months of the era.</p>")
    return _img(charts.size_eras(sg), "Size-group excess by era") + tab + note


def _smallest(r) -> str:
    by = r.smallest_by_year
    if by is None or len(by) == 0:
        return _missing("Smallest-N portfolio")
    cols = [c for c in by.columns if c != "year"]
    rows = [[str(int(y["year"]))] + [pct(y[c]) for c in cols] for _, y in by.iterrows()]
    rates = r.smallest_rates
    rows.append(["Whole window (annual)"] + [pct(rates.get(c)) for c in cols])
    tab = table(["Year"] + cols, rows).replace('<tr><td class="t">Whole window',
                                               '<tr class="total"><td class="t">Whole window')
    label = cols[0]
    note = (f'<p class="note">{html.escape(label)}: the {label[len("smallest"):]} smallest names by total cap among '
            "those the pool may hold (listed at least strategy.universe.min_listed_days, not ST, trading), formed "
            "at each signal close, bought in equal value at the rebalance open and held for the month — the same "
            "machinery as the pool benchmark (signals.universe.pool_benchmark). pool: the strategy's small-cap "
            "pool held the same way." + (" benchmark: the data's benchmark table." if "benchmark" in cols else "")
            + " Years are calendar years from the day before the window.</p>")
    return (_img(charts.yearly_columns(by, "Returns by calendar year"), "Smallest names by year")
            + _img(charts.growth(r.smallest_levels, "Growth of 1"), "Growth of 1") + tab + note)


def _valuation(r, cfg) -> str:
    v = r.valuation
    if v is None or len(v) == 0:
        return _missing("Pool valuations (needs a fundamentals table)")
    last = v.iloc[-1]
    rows = []
    for _, x in v.tail(12).iloc[::-1].iterrows():
        rows.append([str(pd.Timestamp(x["date"]).date()), num(x["pb_median"]), _pctile(x["pb_percentile"]),
                     num(x["pe_ttm_median"], 1), _pctile(x["pe_ttm_percentile"]), num(x["pb_aggregate"]),
                     num(x["pe_ttm_aggregate"], 1), num(x["names"], 0)])
    tab = table(["Signal date", "PB median", "PB pct", "PE-TTM median", "PE pct", "PB aggregate",
                 "PE-TTM aggregate", "Pool names"], rows)
    s = STUDY_VALUATION
    ours = v[pd.to_datetime(v["date"]).dt.strftime("%Y-%m") == s["month"]]
    same = (f" On this market in {s['month']}: PB {num(ours.iloc[0]['pb_median'])} at the "
            f"{_pctile(ours.iloc[0]['pb_percentile'])} percentile, PE-TTM {num(ours.iloc[0]['pe_ttm_median'], 1)} "
            f"at the {_pctile(ours.iloc[0]['pe_ttm_percentile'])}." if len(ours) else "")
    note = ('<p class="note">At each signal close, over the small-cap pool: PB = total cap / book (total equity of '
            "the latest quarter announced before that date), PE-TTM = total cap / net profit of the last four "
            "quarters (single quarters from the year-to-date figures, as the factors read them). Medians use the "
            "names with positive book / TTM profit; aggregates are sum of cap / sum of book (TTM profit) over the "
            "names where it is known, losses included. Percentile = mid-rank of the value among its own history "
            f"up to that date, given after {cfg.research.min_history_months} months.</p>"
            f'<p class="note">Context (real market, the study): PB {s["pb"]:.2f} at the {_pctile(s["pb_percentile"])} '
            f"percentile and PE-TTM {s['pe_ttm']:.1f} at the {_pctile(s['pe_ttm_percentile'])} in {s['month']}."
            f"{same} A synthetic market's levels mean nothing; its percentiles show the machinery.</p>")
    head = (f"<p>Latest ({pd.Timestamp(last['date']).date()}): PB median <b>{num(last['pb_median'])}</b> at the "
            f"<b>{_pctile(last['pb_percentile'])}</b> percentile of its history, PE-TTM median "
            f"<b>{num(last['pe_ttm_median'], 1)}</b> at the <b>{_pctile(last['pe_ttm_percentile'])}</b>.</p>")
    return head + _img(charts.valuation(v), "Pool valuations") + tab + note


def _exposure(r) -> str:
    e = r.exposure
    if e is None or len(e) == 0:
        return _missing("Style exposure (no scored portfolio)")
    summ = r.exposure_summary
    rows = [[s, num(x["mean"]), num(x["latest"]), num(x["std"])] for s, x in summ.iterrows()]
    tab = table(["Style", "Mean z", f"Latest ({pd.Timestamp(e['date'].iloc[-1]).date()})", "Std through time"], rows)
    note = ('<p class="note">The weighted mean z-score of the top-N book (the backtest\'s targets) inside the pool at '
            "each signal close; 0 = the pool's average, +1 = one standard deviation above it. size = log total "
            "cap; value = book-to-price; roe and growth as the composite scores them (TTM); momentum = total "
            "return from 250 to 20 trading days back; volatility = std of 60 daily returns; liquidity = log mean "
            "daily turnover over 20 days.</p>")
    return _img(charts.exposures(e), "Style exposure") + tab + note


def _industry(r) -> str:
    w = r.industry
    if w is None or len(w) == 0:
        return _missing("Industry weights (instruments have no industry column)")
    mean, last, months, last_day = r.industry_summary
    rows = [[text(industry_name(i)), pct(x["portfolio"]), pct(x["pool"]), pct(x["active"], 1, signed=True),
             pct(last.get(i) if i in last.index else None, 1, signed=True)] for i, x in mean.iterrows()]
    tab = table(["Industry", "Portfolio (mean)", "Pool (mean)", "Active (mean)",
                 f"Active on {pd.Timestamp(last_day).date()}"], rows)
    note = ('<p class="note">Portfolio = sum of the book\'s weights in the industry; pool = the industry\'s share '
            f"of the pool's names (equal weight); means over {months} signal months.</p>")
    return _img(charts.industries(mean), "Industry weights") + tab + note


def _crowding(r, cfg) -> str:
    c = r.crowding
    if c is None or len(c) == 0:
        return _missing("Crowding figures")
    f = r.flag
    box = f'<div class="flag {"on" if f.raised else "off"}">{html.escape(f.text)}</div>'
    last = c.iloc[-1]
    fmt = {"pool_pe_percentile": _pctile, "smallcap_turnover_share": lambda x: pct(x, 2),
           "participation": lambda x: pct(x, 2), "days_to_exit": lambda x: num(x, 1),
           "limit_down_names": lambda x: num(x, 0)}
    rows = []
    for n, words in r.crowding_words.items():
        p = last[n] if n == "pool_pe_percentile" else last[f"{n}_percentile"]
        col = c[n]
        rows.append([words, fmt[n](last[n]), _pctile(p), fmt[n](col.median()), fmt[n](col.max())])
    latest = table(["Indicator", f"On {pd.Timestamp(last['date']).date()}", "Percentile of own history",
                    "Median (window)", "Max (window)"], rows)
    worst = r.worst_days
    wrows = [[str(pd.Timestamp(x["date"]).date()), num(x["limit_down_names"], 0), pct(x["smallcap_turnover_share"], 2),
              _pctile(x["pool_pe_percentile"]), num(x["extremes"], 0)] for _, x in worst.iterrows()]
    worst_tab = table(["Date", "Names at limit-down", "Small-cap turnover share", "Pool PE pct",
                       "Indicators at extremes"], wrows)
    labels = {n: w[0].upper() + w[1:] for n, w in r.crowding_words.items()}
    note = ('<p class="note">Daily, from the pool and the book formed at the latest signal close. Small-cap turnover '
            "share = the pool's amount / every stock's amount. Participation = mean over the book's names of "
            f"(broker.cash {num(cfg.broker.cash, 0)} × weight) / the name's average daily amount over {cfg.research.adv_days} days. Days "
            f"to exit = the largest over the names of position / ({cfg.research.exit_volume_share:g} × average daily amount). "
            "Names at limit-down = stocks that traded and closed within half a tick of their low limit.</p>")
    return (box + latest + _img(charts.crowding(c, cfg.research.extreme_percentile, labels), "Crowding indicators")
            + f"<h3>The worst days: most names at limit-down</h3>{worst_tab}" + note)


def _neutral(r) -> str:
    cmp_ = r.neutral
    if cmp_ is None:
        return _missing("Industry-neutral comparison (research.compare_neutral: none, or no industry column)")
    a, b = cmp_.variants
    ic = cmp_.ic
    rows = [[text(f), num(ic.loc[f, ("mean", a)], 3), num(ic.loc[f, ("mean", b)], 3), num(ic.loc[f, ("ic_ir", a)]),
             num(ic.loc[f, ("ic_ir", b)]), pct(ic.loc[f, ("win_rate", a)]), pct(ic.loc[f, ("win_rate", b)])]
            for f in ic.index]
    head = ["Factor", f"Mean IC ({a})", f"Mean IC ({b})", f"IC-IR ({a})", f"IC-IR ({b})", f"Win rate ({a})",
            f"Win rate ({b})"]
    ic_tab = table(head, rows).replace('<tr><td class="t">composite</td>', '<tr class="hl"><td class="t">composite</td>')
    parts = [f"<p>Configured: <b>strategy.neutralize: {html.escape(a)}</b>; compared with <b>{html.escape(b)}</b>.</p>",
             _img(charts.ic_side_by_side(ic["mean"]), "RankIC side by side"), ic_tab]
    bt = cmp_.backtest
    if bt is not None and len(bt):
        money = {"total_costs"}
        ratio = {"information_ratio", "annual_turnover"}
        brows = []
        for k in bt.index:
            f = (lambda v: num(v, 0)) if k in money else (num if k in ratio else pct)
            brows.append([k.replace("_", " "), f(bt.loc[k, a]), f(bt.loc[k, b])])
        parts.append("<h3>Backtests side by side</h3>" + table(["Figure", f"neutralize: {a}", f"neutralize: {b}"], brows))
    parts.append('<p class="note">Industry-neutral: each z-scored factor less its industry mean inside the pool, '
                 "z-scored again, before the composite (signals.transform.neutralize); every industry then has a "
                 "composite mean of 0, so the picks are the best names of each industry rather than of the best "
                 "industries. Same pipeline, same universe, same broker otherwise.</p>")
    return "".join(parts)


def _summary(r) -> str:
    items = []
    sg = r.size_groups
    if sg is not None and len(sg):
        g_max = int(sg["group"].max())
        for era, part in sg.groupby("era", sort=False):
            part = part.set_index("group")["excess_annual_return"]
            items.append(f"Size, {html.escape(str(era))}: D1 {pct(part.get(1), 1, signed=True)} a year vs the "
                         f"equal-weight market, D{g_max} {pct(part.get(g_max), 1, signed=True)}.")
    if r.smallest_levels is not None and len(r.smallest_levels):
        rates = ", ".join(f"{html.escape(c)} {pct(v)}"
                          for c, v in r.smallest_rates.items())
        items.append(f"Compound annual return over the window: {rates}.")
    v = r.valuation
    if v is not None and len(v):
        x = v.iloc[-1]
        items.append(f"Pool valuation on {pd.Timestamp(x['date']).date()}: PB {num(x['pb_median'])} "
                     f"({_pctile(x['pb_percentile'])} percentile), PE-TTM {num(x['pe_ttm_median'], 1)} "
                     f"({_pctile(x['pe_ttm_percentile'])}).")
    e = r.exposure
    if e is not None and len(e):
        means = r.exposure_summary["mean"]
        top = means.abs().sort_values(ascending=False).index[:3]
        items.append("Strongest style tilts of the book (mean z): "
                     + ", ".join(f"{html.escape(s)} {num(means[s])}" for s in top) + ".")
    if r.neutral is not None:
        a, b = r.neutral.variants
        ic = r.neutral.ic
        items.append(f"Composite IC-IR {num(ic.loc['composite', ('ic_ir', a)])} ({html.escape(a)}) vs "
                     f"{num(ic.loc['composite', ('ic_ir', b)])} ({html.escape(b)}).")
    box = f'<div class="flag {"on" if r.flag.raised else "off"}">{html.escape(r.flag.text)}</div>'
    return box + '<ul class="key">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


# --------------------------------------------------------------------------- page


def render(r, cfg) -> str:
    """The page's HTML from a ResearchResult and the config it was computed with."""
    body = {"summary": _summary(r), "size": _size(r, cfg), "smallest": _smallest(r), "valuation": _valuation(r, cfg),
            "exposure": _exposure(r), "industry": _industry(r), "crowding": _crowding(r, cfg), "neutral": _neutral(r)}
    title = "Research analytics — A-share small caps"
    sub = (f"{html.escape(r.source)} · {html.escape(r.window[0])} to {html.escape(r.window[1])} · point in time:\n"
           "every figure of a date uses only data known at its close")
    return page(title, sub, SECTIONS, body, EXTRA_CSS, fill_missing=False)
