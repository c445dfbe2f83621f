"""Valuation and size factors at a signal day (all oriented: higher is better).

- book_to_price: equity of the latest quarter known point in time (fundamentals.Snapshot.equity)
  over total market cap at the signal close. Higher is better.
- dividend_yield: cash dividends per share with ex_date in (signal date - 365 days, signal
  date], each restated to today's share count (x shares the day before its ex_date / shares
  now, so bonus issues do not inflate it; the first day of the data stands in for an
  ex_date before it; ratio 1 when shares are unknown), over the signal
  close: the trailing 12-month yield as the expected-yield proxy. 0 for a stock with no
  dividend in the window. Higher is better.
- size: -log(total market cap); the smaller the cap the higher the value.
"""
from __future__ import annotations

import numpy as np

TRAILING_DAYS = 365        # the trailing 12-month window of dividends, calendar days


def book_to_price(equity: np.ndarray, market_cap: np.ndarray) -> np.ndarray:
    cap = market_cap.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = equity / cap
    return np.where(np.isfinite(cap) & (cap > 0), out, np.nan)


def size(market_cap: np.ndarray) -> np.ndarray:
    cap = market_cap.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isfinite(cap) & (cap > 0), -np.log(cap), np.nan)


class DividendBook:
    """Cash dividends indexed for fast trailing sums at any signal day."""

    def __init__(self, market, last_close_index: np.ndarray | None = None):
        d = market.dividends
        d = d[d["sid"] >= 0]
        self.market = market
        self.ex = d["ex_date"].to_numpy().astype("datetime64[D]")
        self.sid = d["sid"].to_numpy().astype(np.int64)
        self.cash = d["cash_per_share"].to_numpy(dtype=np.float64)
        # shares held by the entitled holders: total shares on the last bar before ex_date
        # (the first day of the data for an ex_date before it)
        before = np.clip(np.searchsorted(market.dates, self.ex, side="left") - 1, 0, max(market.n_days - 1, 0))
        shares = np.full(len(self.ex), np.nan)
        if market.n_days and len(self.ex):
            rows = before
            if last_close_index is not None:
                li = last_close_index[before, self.sid]
                rows = np.where(li >= 0, li, before)
            shares = market.total_shares[rows, self.sid].astype(np.float64)
        self.shares_before = shares
        keep = np.isfinite(self.cash) & (self.cash > 0) & ~np.isnat(self.ex)
        for name in ("ex", "sid", "cash", "shares_before"):
            setattr(self, name, getattr(self, name)[keep])

    def trailing_dps(self, day, shares_now: np.ndarray) -> np.ndarray:
        """(N,) cash per current share paid with ex_date in (day - 365d, day]."""
        day = np.datetime64(day, "D")
        sel = (self.ex <= day) & (self.ex > day - np.timedelta64(TRAILING_DAYS, "D"))
        sid = self.sid[sel]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = self.shares_before[sel] / shares_now[sid].astype(np.float64)
        ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, 1.0)
        return np.bincount(sid, weights=self.cash[sel] * ratio, minlength=self.market.n_symbols)

    def dividend_yield(self, day, price: np.ndarray, shares_now: np.ndarray) -> np.ndarray:
        p = price.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = self.trailing_dps(day, shares_now) / p
        return np.where(np.isfinite(p) & (p > 0), out, np.nan)
