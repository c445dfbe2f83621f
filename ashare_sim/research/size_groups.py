"""The size structure of the market: size groups by month, their excess by era.

Step: monthly_group_returns
  requires: the schedule over [backtest.start, backtest.end], market caps at each signal
            close, total-return prices, research.size_groups / size_exclude_st
  sets:     per month k (index: rebalance date r_k), the equal-weight return of each size
            group from the open of r_k to the open of r_{k+1} (signals.returns'
            forward_return, the window the strategy holds), and of the whole cut
            ("market"). The cut is every stock listed and trading at the signal close with
            a known total cap (ex ST when size_exclude_st), ranked by that cap: group
            g = 1 + floor(G x rank / n), 1 = smallest. A name that cannot be bought at the
            open of r_k (no bar) is left out of the averages. Months without a following
            rebalance in the data, or with fewer names than groups, are left out.

Step: era_excess
  requires: the monthly table, the eras
  sets:     per era and group, the annualised return (compounded months, ^(12 / months))
            less that of the equal-weight market: the difference of compound annual rates,
            as metrics.json's excess_annual_return. A month belongs to the era holding its
            rebalance date.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ashare_sim.config.schema import UniverseConfig
from ashare_sim.signals.calendar import schedule
from ashare_sim.signals.returns import total_return_price
from ashare_sim.signals.universe import eligible_mask

MONTHS_PER_YEAR = 12


def size_cut(market, t: int, exclude_st: bool) -> np.ndarray:
    """(N,) bool: listed and trading at the close of day t with a known cap (ex ST when asked)."""
    ok = eligible_mask(market, t, UniverseConfig(min_listed_days=0, exclude_st=exclude_st))
    cap = market.market_cap[t]
    return ok & np.isfinite(cap) & (cap > 0)


def group_of(cap: np.ndarray, mask: np.ndarray, groups: int) -> np.ndarray:
    """(N,) int group 1..groups by cap among `mask` (1 = smallest), 0 outside it."""
    idx = np.flatnonzero(mask)
    order = idx[np.argsort(cap[idx], kind="stable")]
    out = np.zeros(len(mask), dtype=np.int64)
    out[order] = 1 + (np.arange(len(order)) * groups) // max(len(order), 1)
    return out


def monthly_group_returns(market, cfg) -> pd.DataFrame:
    rcfg = cfg.research
    G = int(rcfg.size_groups)
    sch = schedule(market.dates, cfg.backtest.start, cfg.backtest.end)
    trp = total_return_price(market)
    rows, index = [], []
    for k in range(len(sch)):
        t, r, nxt = int(sch.signal[k]), int(sch.rebalance[k]), int(sch.next_rebalance[k])
        if nxt < 0:
            continue
        cut = size_cut(market, t, rcfg.size_exclude_st)
        if cut.sum() < G:
            continue
        group = group_of(market.market_cap[t].astype(np.float64), cut, G)
        fwd = trp.forward_return(r, nxt)
        ok = cut & np.isfinite(fwd)
        sums = np.bincount(group[ok], weights=fwd[ok], minlength=G + 1)
        counts = np.bincount(group[ok], minlength=G + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums[1:] / counts[1:]
        rows.append(np.r_[means, fwd[ok].mean() if ok.any() else np.nan])
        index.append(market.dates[r])
    cols = list(range(1, G + 1)) + ["market"]
    out = pd.DataFrame(rows, columns=cols, index=pd.DatetimeIndex(np.array(index, dtype="datetime64[ns]"),
                                                                  name="date"))
    return out


def annualised(monthly: pd.DataFrame) -> pd.Series:
    """Compound annual rate of each column's monthly returns (NaN months skipped)."""
    def rate(col: pd.Series) -> float:
        r = col.dropna().to_numpy()
        if len(r) == 0:
            return np.nan
        growth = float(np.prod(1.0 + r))
        return growth ** (MONTHS_PER_YEAR / len(r)) - 1.0 if growth > 0 else -1.0
    return monthly.apply(rate)


def era_excess(monthly: pd.DataFrame, eras) -> pd.DataFrame:
    """era, group, excess_annual_return, annual_return, market_annual_return, months."""
    rows = []
    groups = [c for c in monthly.columns if c != "market"]
    for era in eras:
        lo = pd.Timestamp(era.start)
        hi = pd.Timestamp(era.end) if era.end is not None else pd.Timestamp.max
        part = monthly[(monthly.index >= lo) & (monthly.index <= hi)]
        if len(part) == 0:
            continue
        rates = annualised(part)
        for g in groups:
            rows.append({"era": era.name, "group": int(g), "excess_annual_return": rates[g] - rates["market"],
                         "annual_return": rates[g], "market_annual_return": rates["market"],
                         "months": int(part[g].notna().sum())})
    return pd.DataFrame(rows, columns=["era", "group", "excess_annual_return", "annual_return",
                                       "market_annual_return", "months"])
