"""Total-return prices and returns from the raw panels (adj_factor carries dividends and bonus shares).

Step: returns
  requires: market.close/open/pre_close/adj_factor/has_bar
  sets:     daily total returns (close / pre_close - 1; pre_close is ex-rights adjusted),
            a total-return price at any close or open (the last close while suspended),
            forward returns between two rebalance opens.

Conventions
- A day's return exists only when the stock traded (a bar with volume > 0) and it
  is not its listing day (the listing day's pre_close is the issue price).
- The value of a position while suspended or after delisting is its last close:
  `close_tr` forward-fills close x adj_factor; returns over those days are 0.
"""
from __future__ import annotations

import numpy as np

from ashare_sim.data.derive import ffill_index


def traded(market, rows) -> np.ndarray:
    """(len(rows), N) bool: a bar with positive volume."""
    vol = market.volume[rows]
    return market.has_bar[rows] & (np.nan_to_num(vol) > 0)


def daily_returns(market, rows) -> np.ndarray:
    """(len(rows), N) float64 daily total returns, NaN on days without a trade or on the listing day."""
    close = market.close[rows].astype(np.float64)
    pre = market.pre_close[rows].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = close / pre - 1.0
    ok = traded(market, rows) & (market.days_listed[rows] >= 1) & np.isfinite(r) & (pre > 0)
    return np.where(ok, r, np.nan)


def total_return_price(market) -> "TotalReturnPrice":
    """The market's TotalReturnPrice, built once and kept on the market object
    (build_targets and pool_benchmark share it)."""
    return market.memo("total_return_price", lambda: TotalReturnPrice(market))


class TotalReturnPrice:
    """Total-return price (raw price x adj_factor) at any day, held flat over suspensions.

    Built once per market: one (T, N) int32 index of the last day with a close.
    """

    def __init__(self, market):
        self.market = market
        valid = market.has_bar & np.isfinite(market.close)
        self.last = ffill_index(valid)                  # (T, N) int32, -1 before the first close

    def close_tr(self, rows) -> np.ndarray:
        """Total-return close at `rows` (int or array), last close while suspended; NaN before the first bar."""
        last = self.last[rows]
        cols = np.arange(last.shape[-1])
        safe = np.maximum(last, 0)
        m = self.market
        out = m.close[safe, cols].astype(np.float64) * m.adj_factor[safe, cols].astype(np.float64)
        return np.where(last >= 0, out, np.nan)

    def open_tr(self, row: int) -> np.ndarray:
        """(N,) total-return open on `row`; the last close (unchanged value) when there is no bar."""
        m = self.market
        op = m.open[row].astype(np.float64) * m.adj_factor[row].astype(np.float64)
        bar = m.has_bar[row] & np.isfinite(op) & (op > 0)
        return np.where(bar, op, self.close_tr(row))

    def forward_return(self, entry: int, exit: int) -> np.ndarray:
        """(N,) open(entry) -> open(exit) total return; NaN when there was no bar to buy at on `entry`.

        A stock suspended on `exit` is valued at its last close; one delisted in between
        at its last close before delisting (the value a holder is settled at)."""
        m = self.market
        if exit < 0:
            return np.full(m.n_symbols, np.nan)
        a = self.open_tr(entry)
        bought = m.has_bar[entry] & np.isfinite(m.open[entry])
        b = self.open_tr(exit)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = b / a - 1.0
        return np.where(bought & np.isfinite(r), r, np.nan)
