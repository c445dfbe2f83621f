"""Corporate actions and share structure: cash dividends, bonus / transfer shares, lock-ups.

Dividends are decided at the annual report (profitable firms, most of them
paying) and go ex one to three months later (mostly May-July) on a day the
stock trades. Float shares rise in two steps as lock-ups expire.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ashare_sim.data.synthetic.fundamentals import Fundamentals
from ashare_sim.data.synthetic.listings import Listings
from ashare_sim.data.synthetic.params import GeneratorParams


@dataclass
class DividendEvents:
    t: np.ndarray          # (E,) calendar index of the ex-date, sorted
    sid: np.ndarray        # (E,)
    cash: np.ndarray       # (E,) CNY per share before tax (planned; the path may cap it)
    bonus: np.ndarray      # (E,) new shares per share

    def day_slices(self, n_days: int) -> np.ndarray:
        """bounds[t]:bounds[t+1] are the events of day t."""
        return np.searchsorted(self.t, np.arange(n_days + 1))


@dataclass
class ShareStructure:
    shares0: np.ndarray    # (N,) total shares at the first bar (before any bonus in the calendar)
    base: np.ndarray       # (N,) float share at listing
    step1: np.ndarray      # (N,) added at the first lock-up expiry
    step2: np.ndarray      # (N,) added at the second
    lockup: tuple[int, int]

    def float_fraction(self, days_listed: np.ndarray) -> np.ndarray:
        frac = self.base + self.step1 * (days_listed >= self.lockup[0]) + self.step2 * (days_listed >= self.lockup[1])
        return np.minimum(frac, 1.0)


def share_structure(lst: Listings, cap_ref: np.ndarray, price_ref: np.ndarray, params: GeneratorParams,
                    rng: np.random.Generator) -> ShareStructure:
    sp = params.size
    shares0 = np.maximum(np.round(cap_ref / price_ref / 1e4), 100) * 1e4
    return ShareStructure(shares0=shares0, base=rng.uniform(*sp.float_ipo, size=lst.n),
                          step1=rng.uniform(*sp.lockup_step_1, size=lst.n),
                          step2=rng.uniform(*sp.lockup_step_2, size=lst.n), lockup=sp.lockup_days)


def dividend_events(dates: np.ndarray, lst: Listings, f: Fundamentals, traded: np.ndarray,
                    shares: ShareStructure, params: GeneratorParams, rng: np.random.Generator) -> DividendEvents:
    fp = params.fundamentals
    n_days = len(dates)
    month = f.periods.astype("datetime64[M]").astype(int) % 12
    q2 = np.flatnonzero((month == 5) & (np.arange(len(month)) >= 2))
    sid_l, t_l, cash_l, bonus_l = [], [], [], []
    rows = np.arange(n_days, dtype=np.int32)[:, None]
    next_traded = np.where(traded, rows, np.int32(n_days))
    next_traded = np.minimum.accumulate(next_traded[::-1], axis=0)[::-1]
    for qi in q2:     # one decision per year, vectorized over firms
        q4 = qi - 2
        pay = (f.div_rate[:, qi] > 0) & f.published[:, q4]
        s = np.flatnonzero(pay)
        if not len(s):
            continue
        lag = rng.integers(fp.ex_lag_days[0], fp.ex_lag_days[1] + 1, size=len(s)).astype("timedelta64[D]")
        day = f.ann[s, q4] + lag
        target = np.searchsorted(dates, day, side="left")
        ok = (target < n_days) & (day >= dates[0])
        s, target = s[ok], target[ok]
        t = next_traded[target, s]
        ok = (t < n_days) & (t > lst.list_idx[s]) & (t <= lst.delist_idx[s])
        s, t = s[ok], t[ok]
        total_cash = f.div_rate[s, qi] * f.equity[s, qi - 1]
        bonus = np.where(rng.random(len(s)) < fp.bonus_share, rng.choice(fp.bonus_sizes, size=len(s)), 0.0)
        sid_l.append(s), t_l.append(t), cash_l.append(total_cash), bonus_l.append(bonus)
    if not sid_l:
        empty = np.array([], dtype=np.int64)
        return DividendEvents(empty, empty, np.array([]), np.array([]))
    sid = np.concatenate(sid_l)
    t = np.concatenate(t_l).astype(np.int64)
    total_cash = np.concatenate(cash_l)
    bonus = np.concatenate(bonus_l)
    # Shares before each event: shares0 times the earlier bonus factors of the firm.
    order = np.lexsort((t, sid))
    sid, t, total_cash, bonus = sid[order], t[order], total_cash[order], bonus[order]
    logb = np.log1p(bonus)
    cum = np.cumsum(logb) - logb
    group_start = np.r_[True, sid[1:] != sid[:-1]]
    cum = cum - np.maximum.accumulate(np.where(group_start, cum, -np.inf))
    shares_before = shares.shares0[sid] * np.exp(cum)
    cash = np.floor(total_cash / shares_before * 1e4) / 1e4
    keep = (cash >= 0.001) | (bonus > 0)
    sid, t, cash, bonus = sid[keep], t[keep], cash[keep], bonus[keep]
    # Two years' dividends on one day (after a long suspension): one event paying both.
    key = pd.DataFrame({"sid": sid, "t": t, "cash": cash, "log_bonus": np.log1p(bonus)})
    merged = key.groupby(["sid", "t"], sort=True, as_index=False).sum()
    sid, t = merged["sid"].to_numpy(), merged["t"].to_numpy()
    cash, bonus = merged["cash"].to_numpy(), np.round(np.expm1(merged["log_bonus"].to_numpy()), 6)
    order = np.lexsort((sid, t))
    return DividendEvents(t=t[order], sid=sid[order], cash=cash[order], bonus=bonus[order])


def dividends_table(ev: DividendEvents, cash_used: np.ndarray, bonus_used: np.ndarray, dates: np.ndarray,
                    lst: Listings) -> pd.DataFrame:
    keep = (cash_used > 0) | (bonus_used > 0)
    df = pd.DataFrame({"symbol": lst.symbols[ev.sid[keep]].astype(str), "ex_date": dates[ev.t[keep]],
                       "cash_per_share": cash_used[keep], "bonus_per_share": bonus_used[keep]})
    return df.sort_values(["symbol", "ex_date"], kind="stable").reset_index(drop=True)
