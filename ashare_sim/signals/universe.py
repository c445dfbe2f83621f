"""The small-cap pool and its equal-weight benchmark.

Step: universe_mask
  requires: market.is_listed / is_suspended / has_bar / is_st / market_cap and
            instruments.list_date at the signal day t; the universe config
  sets:     (N,) bool pool: listed at least `min_listed_days` calendar days before
            the signal date, not ST / *ST (when `exclude_st`), trading on the signal
            date, with a known total market cap, then the smallest `cap_fraction`
            of those eligible names by total market cap (ceil of fraction x count;
            ties broken by symbol order). When the data has no total_shares at all
            the cap cut cannot be made and is skipped.

Step: smallest_mask
  requires: as universe_mask, and a count n
  sets:     (N,) bool: the n smallest eligible names by total market cap (the study's
            "smallest 100": same eligibility as the pool, a fixed count instead of a fraction).

Step: pool_benchmark
  requires: the schedule and universe above (or any monthly member rule), total-return prices
  sets:     a daily index level over the backtest window. On each rebalance day the
            pool formed at the signal close is bought in equal value at the open
            (the price the strategy deals at) and held: buy and hold within the
            month, equal weights restored monthly. A suspended stock keeps its value
            (return 0); a delisted one its last close (it contributes its last return,
            then its value sits idle until the next rebalance drops it). The level is
            1.0 before the window's first day; days before the first rebalance hold
            cash (level 1.0); a rebalance day's value includes its open-to-close move.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ashare_sim.signals.calendar import schedule, window_indices
from ashare_sim.signals.returns import TotalReturnPrice, total_return_price


def list_dates(market) -> np.ndarray:
    """(N,) listing dates (datetime64[D]); the first bar's day when the instrument gives none."""
    def compute() -> np.ndarray:
        given = market.instruments["list_date"].to_numpy().astype("datetime64[D]")
        first = np.clip(market.list_index, 0, max(market.n_days - 1, 0))
        return np.where(np.isnat(given), market.dates[first], given)
    return market.memo("list_dates", compute)


def eligible_mask(market, t: int, ucfg) -> np.ndarray:
    """(N,) listed long enough, not ST (if configured), trading on day t."""
    ok = market.is_listed[t] & market.has_bar[t] & ~market.is_suspended[t]
    if ucfg.exclude_st:
        ok &= ~market.is_st[t]
    age_days = (market.dates[t] - list_dates(market)).astype(np.int64)
    ok &= age_days >= int(ucfg.min_listed_days)
    return ok


def bottom_fraction(values: np.ndarray, mask: np.ndarray, fraction: float) -> np.ndarray:
    """(N,) the ceil(fraction x count) smallest finite `values` among `mask` (stable by position)."""
    count = int((mask & np.isfinite(values)).sum())
    return bottom_count(values, mask, int(np.ceil(fraction * count - 1e-9)))


def bottom_count(values: np.ndarray, mask: np.ndarray, keep: int) -> np.ndarray:
    """(N,) the `keep` smallest finite `values` among `mask` (stable by position)."""
    idx = np.flatnonzero(mask & np.isfinite(values))
    out = np.zeros(mask.shape, dtype=bool)
    if keep <= 0:
        return out
    order = np.argsort(values[idx], kind="stable")
    out[idx[order[:keep]]] = True
    return out


def universe_mask(market, t: int, ucfg) -> np.ndarray:
    """(N,) bool: the small-cap pool at the close of signal day index `t`."""
    ok = eligible_mask(market, t, ucfg)
    cap = market.cap_for_universe(ucfg.cap)[t]
    if not np.isfinite(cap).any():          # no total_shares in the data: no cap cut possible
        return ok
    ok &= np.isfinite(cap) & (cap > 0)
    return bottom_fraction(cap.astype(np.float64), ok, float(ucfg.cap_fraction))


def smallest_mask(market, t: int, ucfg, n: int) -> np.ndarray:
    """(N,) bool: the `n` smallest eligible names by total market cap at the close of day `t`."""
    cap = market.market_cap[t].astype(np.float64)
    ok = eligible_mask(market, t, ucfg) & np.isfinite(cap) & (cap > 0)
    return bottom_count(cap, ok, int(n))


def pool_benchmark(market, cfg, trp: TotalReturnPrice | None = None,
                   members: Callable[[int], np.ndarray] | None = None, name: str = "pool") -> pd.Series:
    """Daily level of the equal-weight small-cap pool over [backtest.start, backtest.end].

    `members(t)` -> (N,) bool replaces the pool rule (universe_mask) with another monthly
    selection held the same way (the research's smallest-N portfolio)."""
    members = members or (lambda t: universe_mask(market, t, cfg.strategy.universe))
    window = window_indices(market.dates, cfg.backtest.start, cfg.backtest.end)
    index = pd.DatetimeIndex(market.dates[window].astype("datetime64[ns]"), name="date")
    if len(window) == 0:
        return pd.Series([], index=index, dtype=float, name=name)
    sch = schedule(market.dates, cfg.backtest.start, cfg.backtest.end)
    trp = trp or total_return_price(market)
    w0, w1 = int(window[0]), int(window[-1])
    level = np.ones(w1 - w0 + 1)            # cash (1.0) until the first rebalance
    held = None                              # (members, entry prices, level at entry) of the current month
    for k in range(len(sch)):
        r = int(sch.rebalance[k])
        end = int(sch.rebalance[k + 1]) if k + 1 < len(sch) else w1 + 1    # this block = days [r, end)
        base = _value_at_open(held, trp, r) if held is not None else 1.0
        held_now = np.flatnonzero(members(int(sch.signal[k])))
        if len(held_now) == 0:
            level[r - w0: end - w0] = base
            held = (held_now, np.zeros(0), base)    # an empty pool holds cash
            continue
        entry = trp.open_tr(r)[held_now]
        growth = trp.close_tr(np.arange(r, end))[:, held_now] / entry[None, :]
        level[r - w0: end - w0] = base * np.where(np.isfinite(growth), growth, 1.0).mean(axis=1)
        held = (held_now, entry, base)
    return pd.Series(level, index=index, name=name)


def cached_pool_benchmark(market, cfg) -> pd.Series:
    """`pool_benchmark(market, cfg)`, kept between runs (common.cache) when the market was read from a data
    directory: keyed by the directory's files, the rules table, the universe rule, the window and the
    source of the code that computes it, so every run of the same market and pool reuses one computation."""
    if not Path(str(market.source)).is_dir():
        return pool_benchmark(market, cfg)
    from ashare_sim.common import cache
    from ashare_sim.common.typed import to_plain
    from ashare_sim.data import derive, tables
    from ashare_sim.data import market as market_module
    from ashare_sim.rules import table
    from ashare_sim.signals import calendar, returns

    key = {"data": cache.file_stamp(market.source), "rules": cache.file_stamp(cfg.rules.table or table.SHIPPED_TABLE),
           "universe": to_plain(cfg.strategy.universe), "window": [str(cfg.backtest.start), str(cfg.backtest.end)],
           "code": cache.source_stamp(sys.modules[__name__], calendar, returns, derive, market_module, tables)}
    return cache.cached_series("pool_benchmark", key, lambda: pool_benchmark(market, cfg))


def _value_at_open(held, trp: TotalReturnPrice, r: int) -> float:
    """Level of last month's pool at the open of rebalance day r (bought at `entry`, held)."""
    members, entry, base = held
    if len(members) == 0:
        return base
    rel = trp.open_tr(r)[members] / entry
    return base * float(np.where(np.isfinite(rel), rel, 1.0).mean())
