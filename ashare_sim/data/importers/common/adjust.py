"""Adjustment-factor conventions, in one place.

Ours (the bars' `adj_factor`): a cumulative *backward* factor, adjusted = raw x adj_factor, rising at
each ex-date; its scale per stock is free (returns use ratios). Sources:

    qlib        $factor is ours already (adjusted = raw x factor); raw = adjusted / factor
    tushare     adj_factor is ours already (后复权因子); its forward prices are raw x adj / adj_latest
    baostock    no factor in k-data: derived from preclose (below)
    akshare     no factor: derived from pre_close = close - 涨跌额 when that column is there
    xbx         no factor: derived from 前收盘价

A source that gives only pre_close (the exchange's ex-rights reference price) implies the factor:
adj[t] / adj[t-1] = close[t-1] / pre_close[t], the same relation the loader uses the other way round.
"""
from __future__ import annotations

import numpy as np

from ashare_sim.rules.table import round_to_tick


def raw_from_adjusted(adjusted: np.ndarray, factor: np.ndarray, tick: float) -> np.ndarray:
    """Raw exchange price = adjusted / factor, snapped to the tick (float32 sources are off by ~1e-6)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return on_tick(adjusted.astype(np.float64) / factor.astype(np.float64), tick)


def on_tick(price: np.ndarray, tick: float) -> np.ndarray:
    """Rounded half up to the tick as the exchange rounds (rules.table.round_to_tick: 9.2, not 9.200000000000001)."""
    return round_to_tick(price, tick)


def backward_from_divisor(factor: np.ndarray) -> np.ndarray:
    """A factor used as adjusted = raw / f (falling at ex-dates) turned into ours."""
    with np.errstate(divide="ignore"):
        return 1.0 / factor.astype(np.float64)


def factor_from_pre_close(sid: np.ndarray, close: np.ndarray, pre_close: np.ndarray) -> np.ndarray:
    """Cumulative backward factor per stock from consecutive rows (sorted by stock, then date), 1 on each
    stock's first row. A missing or non-positive pre_close counts as no corporate action that day."""
    n = len(sid)
    step = np.ones(n, dtype=np.float64)
    if n > 1:
        same = sid[1:] == sid[:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = close[:-1].astype(np.float64) / pre_close[1:].astype(np.float64)
        good = same & np.isfinite(ratio) & (ratio > 0)
        step[1:][good] = ratio[good]
    log = np.log(step)
    cum = np.cumsum(log)
    starts = np.r_[0, np.flatnonzero(sid[1:] != sid[:-1]) + 1] if n else np.zeros(0, dtype=np.int64)
    base = np.repeat(cum[starts] - log[starts], np.diff(np.r_[starts, n])) if n else cum
    # Ratios of exactly 1 stay exactly 1 after exp(0); rounding keeps 10 significant digits.
    return np.exp(cum - base)


def pre_close_from_change(close: np.ndarray, change: np.ndarray, tick: float) -> np.ndarray:
    """pre_close = close - change (akshare 涨跌额), on the tick."""
    return on_tick(close.astype(np.float64) - change.astype(np.float64), tick)
