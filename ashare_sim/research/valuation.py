"""Valuations of the small-cap pool through time, point in time.

Step: pool_valuation
  requires: the schedule and pool of the backtest (signals.universe.universe_mask), total
            market caps at each signal close, the fundamentals table read point in time
            by signals.fundamentals.PointInTime (rows announced before the signal date;
            book = total_equity of the latest quarter known; TTM net profit = the last four
            single quarters derived from the year-to-date figures)
  sets:     per signal date, over the pool's members:
            - pb_median: median of cap / book over names with book > 0
            - pe_ttm_median: median of cap / TTM profit over names with TTM profit > 0
              (loss makers have no meaningful PE and are left out, as index providers do)
            - pb_aggregate / pe_ttm_aggregate: sum of cap / sum of book (TTM profit) over
              the names where it is known, losses included (the pool as one company)
            - *_percentile: history.expanding_percentile of each, 0..100
            - names, names_pb, names_pe: the pool size and the names behind the medians
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.research.history import expanding_percentile
from ashare_sim.signals.calendar import schedule
from ashare_sim.signals.fundamentals import PointInTime, fill_ann_dates
from ashare_sim.signals.universe import universe_mask

FIGURES = ("pb_median", "pe_ttm_median", "pb_aggregate", "pe_ttm_aggregate")
COLUMNS = ["date", "pb_median", "pe_ttm_median", "pb_percentile", "pe_ttm_percentile", "pb_aggregate",
           "pe_ttm_aggregate", "pb_aggregate_percentile", "pe_ttm_aggregate_percentile", "names", "names_pb",
           "names_pe"]


def _ratio(num: float, den: float) -> float:
    return num / den if np.isfinite(den) and den > 0 else np.nan


def valuation_at(cap: np.ndarray, book: np.ndarray, ttm: np.ndarray, pool: np.ndarray) -> dict:
    """The figures of one date from (N,) caps, book values, TTM profits and the pool mask."""
    have = pool & np.isfinite(cap) & (cap > 0)
    pos_b, pos_e = have & (book > 0), have & (ttm > 0)
    known_b, known_e = have & np.isfinite(book), have & np.isfinite(ttm)
    return {
        "pb_median": float(np.median(cap[pos_b] / book[pos_b])) if pos_b.any() else np.nan,
        "pe_ttm_median": float(np.median(cap[pos_e] / ttm[pos_e])) if pos_e.any() else np.nan,
        "pb_aggregate": _ratio(cap[known_b].sum(), book[known_b].sum()) if known_b.any() else np.nan,
        "pe_ttm_aggregate": _ratio(cap[known_e].sum(), ttm[known_e].sum()) if known_e.any() else np.nan,
        "names": int(pool.sum()), "names_pb": int(pos_b.sum()), "names_pe": int(pos_e.sum()),
    }


def pool_valuation(market, cfg) -> pd.DataFrame:
    if market.fundamentals is None or len(market.fundamentals) == 0:
        logger.warning(f"research: {market.source} has no fundamentals table: no pool valuations (PB, PE-TTM)")
        return pd.DataFrame(columns=COLUMNS)
    sch = schedule(market.dates, cfg.backtest.start, cfg.backtest.end)
    pit = PointInTime(fill_ann_dates(market.fundamentals, market.rules), market.n_symbols)
    rows = []
    for t in sch.signal:
        t = int(t)
        pit.advance(market.dates[t])
        snap = pit.snapshot()
        pool = universe_mask(market, t, cfg.strategy.universe)
        rows.append({"date": pd.Timestamp(market.dates[t]),
                     **valuation_at(market.market_cap[t].astype(np.float64), snap.equity, snap.ttm_profit, pool)})
    out = pd.DataFrame(rows)
    if len(out) == 0:
        return pd.DataFrame(columns=COLUMNS)
    months = int(cfg.research.min_history_months)
    for fig in FIGURES:
        name = fig.replace("_median", "") + "_percentile"
        out[name] = expanding_percentile(out[fig].to_numpy(), out["date"].to_numpy(), months)
    return out[COLUMNS]
