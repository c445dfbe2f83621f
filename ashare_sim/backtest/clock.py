"""The run's single Backtrader feed: one bar per trading day, nothing else.

Backtrader's event loop costs about 8 us per feed per bar whatever the feed
holds (docs/architecture.md), so the engine adds exactly one feed, the clock, and
reads prices for every symbol from the `Market` panels through light proxies
(`backtest.proxy`). The clock is explicit: it is not "the first stock added".

    clock = ClockFeed(dates=market.dates[i0:i1 + 1], first_index=i0)
    cerebro.adddata(clock, name="clock")
    t = clock.market_index()      # calendar index of the current bar in the market panels

Bar lines: datetime (the day at `session` time), open/high/low/close = the
benchmark level when one is given (else 0), volume 0, openinterest = the
market calendar index of the bar (float).
"""
from __future__ import annotations

import datetime as dt

import backtrader as bt
import numpy as np

SESSION_END = dt.time(15, 0)          # A-share continuous trading ends at 15:00


class ClockFeed(bt.feed.DataBase):
    params = (
        ("dates", None),          # datetime64[D] array: the run's trading days
        ("first_index", 0),       # calendar index in the market of dates[0]
        ("levels", None),         # optional float array (same length): a level shown as the bar's prices
    )

    def __init__(self):
        super().__init__()
        if self.p.dates is None or len(self.p.dates) == 0:
            raise ValueError("ClockFeed needs at least one trading day")
        days = np.asarray(self.p.dates).astype("datetime64[D]")
        # date2num = proleptic ordinal + fraction of the day (Backtrader's float time).
        ordinals = days.astype(np.int64) + dt.date(1970, 1, 1).toordinal()
        frac = (SESSION_END.hour * 3600 + SESSION_END.minute * 60) / 86400.0
        self._nums = ordinals.astype(np.float64) + frac
        self._levels = (np.zeros(len(days)) if self.p.levels is None
                        else np.nan_to_num(np.asarray(self.p.levels, dtype=np.float64)))
        self._i = 0

    def start(self):
        super().start()
        self._i = 0

    def _load(self):
        i = self._i
        if i >= len(self._nums):
            return False
        lines = self.lines
        lines.datetime[0] = self._nums[i]
        self._fill(i)
        lines.openinterest[0] = float(self.p.first_index + i)
        self._i = i + 1
        return True

    def _fill(self, i: int) -> None:
        """The bar's values besides its time and calendar index (a stock feed gives its prices here)."""
        lines = self.lines
        level = self._levels[i]
        lines.open[0] = lines.high[0] = lines.low[0] = lines.close[0] = level
        lines.volume[0] = 0.0

    # ----- helpers --------------------------------------------------------
    def bar(self) -> int:
        """0-based index of the current bar within the run."""
        return len(self) - 1

    def market_index(self) -> int:
        """Calendar index of the current bar in the market panels."""
        return self.p.first_index + len(self) - 1

    def n_bars(self) -> int:
        return len(self._nums)
