"""Quarterly fundamentals with point-in-time announcement dates.

Per firm a quarterly ROE process (firm mean + AR(1) noise + Q4 write-downs,
losses before a delisting) drives net profit and book equity; revenue scales
with equity. Each report gets an `ann_date` inside its statutory window (the
deadline comes from the rules table). The characteristics the planted premia
act on (ROE, growth, SUE, book) are computed per report here and mapped onto
the calendar from the trading day after `ann_date` by `announced_rows`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ashare_sim.data import derive
from ashare_sim.data.synthetic.listings import NEVER, Listings
from ashare_sim.data.synthetic.params import GeneratorParams
from ashare_sim.rules import RulesTable


@dataclass
class Fundamentals:
    periods: np.ndarray        # (Q,) datetime64[D] quarter ends
    ann: np.ndarray            # (N, Q) datetime64[D] announcement dates
    published: np.ndarray      # (N, Q) row is in the table
    equity: np.ndarray         # (N, Q) total equity at period end
    np_q: np.ndarray           # (N, Q) net profit of the quarter
    np_ytd: np.ndarray         # (N, Q) net profit year to date
    revenue_ytd: np.ndarray    # (N, Q)
    roe_ttm: np.ndarray        # (N, Q) characteristics the premia act on
    growth: np.ndarray
    sue: np.ndarray
    div_rate: np.ndarray       # (N, Q) cash dividend paid in the quarter / equity


def quarter_ends(first: dt.date, last: dt.date) -> np.ndarray:
    """Quarter-end dates q with first <= q <= last."""
    m0 = np.datetime64(first, "M")
    m0 = m0 + (2 - (m0.astype(int) % 12) % 3)
    months = np.arange(m0, np.datetime64(last, "M") + 1, 3)
    ends = (months + 1).astype("datetime64[D]") - 1
    return ends[(ends >= np.datetime64(first)) & (ends <= np.datetime64(last))]


def _ann_dates(periods: np.ndarray, n: int, rules: RulesTable, params: GeneratorParams,
               rng: np.random.Generator) -> np.ndarray:
    fp = params.fundamentals
    ws = np.empty(len(periods), dtype="datetime64[D]")
    dl = np.empty(len(periods), dtype="datetime64[D]")
    for q, p in enumerate(periods):
        pe = p.astype(dt.date)
        deadline = rules.report_deadline(pe)
        month, day = fp.window_start[pe.strftime("%m-%d")]
        start = dt.date(deadline.year, month, day)
        ws[q], dl[q] = np.datetime64(start), np.datetime64(deadline)
    span = (dl - ws).astype(int) + 1
    u = rng.random((n, len(periods))) ** 0.6
    ann = ws[None, :] + np.minimum(np.floor(u * span[None, :]).astype(int), span[None, :] - 1)
    weekday = (ann.astype(int) + 3) % 7          # Monday = 0
    ann = ann - np.where(weekday >= 5, weekday - 4, 0)
    return ann.astype("datetime64[D]")


def _ar1(shocks: np.ndarray, phi: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    """AR(1) along axis 1 started from its stationary law, as one matrix product."""
    q = shocks.shape[1]
    lags = np.arange(q)[:, None] - np.arange(q)[None, :]
    weights = np.where(lags >= 0, phi ** np.maximum(lags, 0), 0.0)
    x0 = rng.standard_normal(shocks.shape[0]) * sd / np.sqrt(1 - phi ** 2)
    return shocks @ weights.T + x0[:, None] * phi ** np.arange(q)[None, :]


def make_fundamentals(dates: np.ndarray, lst: Listings, cap_ref: np.ndarray, rules: RulesTable,
                      params: GeneratorParams, rng: np.random.Generator, end: dt.date) -> Fundamentals:
    fp = params.fundamentals
    n = lst.n
    first_day = dates[0].astype(dt.date)
    hist_start = (pd.Timestamp(first_day) - pd.DateOffset(months=3 * (fp.history_quarters + 4))).date()
    periods = quarter_ends(hist_start, end)
    nq = len(periods)
    ann = _ann_dates(periods, n, rules, params, rng)

    # ROE: firm mean + industry + AR(1) + Q4 write-down; distress before delisting.
    ind_roe = rng.standard_normal(len(params.industries)) * fp.industry_roe_sd
    mean = fp.roe_mean + ind_roe[lst.industry] + rng.standard_normal(n) * fp.roe_firm_sd
    roe = mean[:, None] + _ar1(rng.standard_normal((n, nq)) * fp.roe_noise, fp.roe_persistence, fp.roe_noise, rng)
    is_q4 = (periods.astype("datetime64[M]").astype(int) % 12) == 11
    roe = roe + np.where(is_q4, fp.q4_shift, 0.0)[None, :]
    delisted = lst.delist_idx != NEVER
    delist_day = np.where(delisted, dates[np.minimum(lst.delist_idx, len(dates) - 1)], np.datetime64("NaT"))
    horizon = np.timedelta64(int(_quarters_to_days(fp.history_quarters)), "D")
    distress = delisted[:, None] & (periods[None, :] >= (delist_day - horizon)[:, None])
    roe = np.where(distress, roe - np.maximum(mean, 0)[:, None] - 0.5 * abs(fp.distress_roe) + fp.distress_roe, roe)
    roe = np.clip(roe, -0.4, 0.25)

    # Dividends out of last year's profit, paid in Q2 / Q3 (share of equity).
    year_roe = pd.DataFrame(roe).T.rolling(4, min_periods=1).sum().T.to_numpy()
    month = periods.astype("datetime64[M]").astype(int) % 12
    pays = rng.random((n, nq)) < fp.payer_share
    payout = rng.uniform(*fp.payout, size=(n, nq))
    q1 = np.flatnonzero(month == 2)
    div_rate = np.zeros((n, nq))
    for qi in q1:       # dividends out of the prior year (sum of the 4 quarters before Q1)
        if qi >= 1 and qi + 1 < nq:
            prior = year_roe[:, qi - 1]
            div_rate[:, qi + 1] = np.where(pays[:, qi] & (prior > 0), payout[:, qi] * prior, 0.0)

    growth_q = np.log1p(roe - div_rate)
    cum = np.cumsum(growth_q, axis=1)
    ref_day = np.maximum(lst.list_date, dates[0])
    ref_q = np.clip(np.searchsorted(periods, ref_day, side="left") - 1, 0, nq - 1)
    bp = fp.bp_median * np.exp(rng.standard_normal(len(params.industries))[lst.industry] * fp.industry_bp_sd
                               + rng.standard_normal(n) * fp.bp_log_sd)
    e_ref = cap_ref * bp
    equity = e_ref[:, None] * np.exp(cum - np.take_along_axis(cum, ref_q[:, None], axis=1))
    prev_equity = np.concatenate([(equity[:, :1] / np.exp(growth_q[:, :1])), equity[:, :-1]], axis=1)
    np_q = roe * prev_equity
    revenue_q = prev_equity * fp.sales_to_equity * np.exp(
        rng.standard_normal(n)[:, None] * fp.sales_log_sd + rng.standard_normal((n, nq)) * 0.12)

    year = periods.astype("datetime64[Y]").astype(int)
    np_ytd = _ytd(np_q, year)
    revenue_ytd = _ytd(revenue_q, year)

    ttm = pd.DataFrame(np_q).T.rolling(4).sum().T.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        roe_ttm = ttm / equity
        growth = np.full_like(ttm, np.nan)
        growth[:, 4:] = (ttm[:, 4:] - ttm[:, :-4]) / equity[:, 4:]
        diff = np.full_like(np_q, np.nan)
        diff[:, 4:] = np_q[:, 4:] - np_q[:, :-4]
        padded = np.concatenate([np.full((n, 7), np.nan), diff], axis=1)
        win = sliding_window_view(padded, 8, axis=1)
        count = np.sum(~np.isnan(win), axis=2)
        sd = np.nanstd(np.where(count[..., None] >= 4, win, 0.0), axis=2)
        sue = np.where((count >= 4) & (sd > 0), diff / np.where(sd > 0, sd, 1.0), np.nan)

    # Published rows: from history_quarters before listing; announced by the end and before delisting.
    first_pub = lst.list_date - np.timedelta64(int(_quarters_to_days(fp.history_quarters)), "D")
    last_ann = np.where(delisted, delist_day, np.datetime64(end, "D"))
    published = (periods[None, :] >= first_pub[:, None]) & (ann <= last_ann[:, None]) & (ann > periods[None, :])
    return Fundamentals(periods=periods, ann=ann, published=published, equity=equity, np_q=np_q, np_ytd=np_ytd,
                        revenue_ytd=revenue_ytd, roe_ttm=roe_ttm, growth=growth, sue=sue, div_rate=div_rate)


def _quarters_to_days(quarters: int) -> float:
    return quarters * 91.3


def _ytd(values: np.ndarray, year: np.ndarray) -> np.ndarray:
    cum = np.cumsum(values, axis=1)
    first_of_year = np.r_[True, year[1:] != year[:-1]]
    base_idx = np.maximum.accumulate(np.where(first_of_year, np.arange(len(year)), 0))
    before = np.concatenate([np.zeros((values.shape[0], 1)), cum[:, :-1]], axis=1)
    return cum - before[:, base_idx]


@dataclass
class Announced:
    """Published reports mapped onto the calendar (usable from the day after ann_date)."""
    row_sid: np.ndarray        # (R,) firm of each kept report
    row_q: np.ndarray          # (R,) quarter of each kept report
    row_t: np.ndarray          # (R,) first trading day it is usable
    row_at: np.ndarray         # (T, N) int32 index into rows of the latest usable report, -1 none

    def panel(self, values: np.ndarray) -> np.ndarray:
        """(T, N) float32 of per-report `values` (N, Q) as known each day; NaN before any report."""
        per_row = values[self.row_sid, self.row_q].astype(np.float32)
        out = per_row[np.maximum(self.row_at, 0)]
        out[self.row_at < 0] = np.nan
        return out


def announced_rows(dates: np.ndarray, f: Fundamentals) -> Announced:
    n = f.ann.shape[0]
    sid, q = np.nonzero(f.published)
    t_use = np.searchsorted(dates, f.ann[sid, q], side="right")
    keep = t_use < len(dates)
    sid, q, t_use = sid[keep], q[keep], t_use[keep]
    # Several reports usable the same day (Q4 with Q1): the latest period wins.
    order = np.lexsort((-q, t_use, sid))
    sid, q, t_use = sid[order], q[order], t_use[order]
    first = np.r_[True, (sid[1:] != sid[:-1]) | (t_use[1:] != t_use[:-1])]
    sid, q, t_use = sid[first], q[first], t_use[first]
    # A report for an older period than one already known adds nothing.
    newer = np.ones(len(q), dtype=bool)
    if len(q):
        best = pd.Series(q).groupby(sid).cummax().to_numpy()
        prev_best = np.r_[-1, best[:-1]]
        prev_best[np.r_[True, sid[1:] != sid[:-1]]] = -1
        newer = q > prev_best
    sid, q, t_use = sid[newer], q[newer], t_use[newer]
    src = np.full((len(dates), n), -1, dtype=np.int32)
    src[t_use, sid] = np.arange(len(sid), dtype=np.int32)
    idx = derive.ffill_index(src >= 0)
    cols = np.arange(n)[None, :]
    row_at = src[np.maximum(idx, 0), cols]
    row_at[idx < 0] = -1
    return Announced(row_sid=sid, row_q=q, row_t=t_use, row_at=row_at)


def fundamentals_table(f: Fundamentals, lst: Listings) -> pd.DataFrame:
    sid, q = np.nonzero(f.published)
    df = pd.DataFrame({
        "symbol": lst.symbols[sid].astype(str),
        "period_end": f.periods[q],
        "ann_date": f.ann[sid, q],
        "total_equity": np.round(f.equity[sid, q], 2),
        "net_profit": np.round(f.np_ytd[sid, q], 2),
        "revenue": np.round(f.revenue_ytd[sid, q], 2),
    })
    return df.sort_values(["symbol", "period_end"], kind="stable").reset_index(drop=True)
