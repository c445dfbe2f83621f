"""The smallest-N portfolio against the small-cap pool and the benchmark table, by year.

Step: levels
  requires: the schedule and pool rules of the backtest (strategy.universe), total-return
            prices, research.smallest_n, market.benchmark (optional)
  sets:     daily levels over [backtest.start, backtest.end] of
            - smallest<N>: the N smallest names by total cap among those the pool could
              hold (same eligibility: listed >= min_listed_days, not ST, trading), formed
              at each signal close, bought in equal value at the rebalance open and held to
              the next (signals.universe.pool_benchmark with another member rule)
            - pool: the strategy's small-cap pool, held the same way (its benchmark)
            - one column per index of the data's `benchmark` table (`benchmark` when it has no `index` column)

Step: by_year
  requires: the levels
  sets:     each column's calendar-year return, compounded from daily returns; the first
            year counts from the day before the window (the pools' base 1.0, the index's
            last close before the window, or its first close when the data starts there).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ashare_sim.metrics.performance import benchmark_returns
from ashare_sim.signals.calendar import window_indices
from ashare_sim.signals.returns import total_return_price
from ashare_sim.signals.universe import pool_benchmark, smallest_mask


def smallest_name(cfg) -> str:
    return f"smallest{int(cfg.research.smallest_n)}"


def levels(market, cfg) -> tuple[pd.DataFrame, pd.Series]:
    """(daily levels over the window, the base row the day before it)."""
    trp = total_return_price(market)
    n, ucfg = int(cfg.research.smallest_n), cfg.strategy.universe
    small = pool_benchmark(market, cfg, trp, members=lambda t: smallest_mask(market, t, ucfg, n),
                           name=smallest_name(cfg))
    pool = pool_benchmark(market, cfg, trp)
    out = pd.DataFrame({small.name: small, "pool": pool})
    base = pd.Series({small.name: 1.0, "pool": 1.0})
    window = window_indices(market.dates, cfg.backtest.start, cfg.backtest.end)
    indices = getattr(market, "benchmarks", None)
    if indices is None and market.benchmark is not None:
        indices = pd.DataFrame({"benchmark": market.benchmark})
    if indices is not None and len(window):
        for name in indices.columns:               # one column per index of the benchmark table
            bench = indices[name].to_numpy(dtype=np.float64)
            out[name] = bench[window]
            eve = bench[window[0] - 1] if window[0] > 0 else np.nan
            # No close before the window because it starts with the data: the first close is the base. An
            # index that starts later has no base: its years begin with its first close, earlier ones are empty.
            starts_with_window = np.isfinite(bench[window[0]])
            base[name] = eve if np.isfinite(eve) else (bench[window[0]] if starts_with_window else np.nan)
    return out, base


def by_year(levels_: pd.DataFrame, base: pd.Series) -> pd.DataFrame:
    """year, then one column per level series: calendar-year return (NaN when none that year)."""
    if len(levels_) == 0:
        return pd.DataFrame(columns=["year", *levels_.columns])
    eve = levels_.index[0] - pd.Timedelta(days=1)
    ext = pd.concat([pd.DataFrame([base.reindex(levels_.columns).to_numpy()], index=[eve],
                                  columns=levels_.columns), levels_])
    years = levels_.index.year
    out = {}
    for col in levels_.columns:
        r = benchmark_returns(ext[col])
        if r is None:
            out[col] = pd.Series(np.nan, index=sorted(set(years)))
            continue
        r = r.iloc[1:]
        out[col] = (1.0 + r).groupby(years).prod(min_count=1) - 1.0
    table = pd.DataFrame(out)
    table.index.name = "year"
    return table.reset_index()


def annual_rates(levels_: pd.DataFrame, base: pd.Series) -> pd.Series:
    """Each column's compound annual rate over the window, from its base the day before it
    (calendar years of 365.25 days, as metrics.json's annual_return)."""
    out = {}
    for col in levels_.columns:
        s = levels_[col].dropna()
        b = float(base.get(col, np.nan))
        days = (s.index[-1] - levels_.index[0]).days + 1 if len(s) else 0
        out[col] = (float(s.iloc[-1]) / b) ** (365.25 / days) - 1.0 if days > 0 and np.isfinite(b) and b > 0 \
            else np.nan
    return pd.Series(out)
