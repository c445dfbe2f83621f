"""Per-symbol stand-ins for Backtrader data feeds, reading the market panels.

An order's `data` must be hashable (positions are keyed by it) and offer what
`bt.Order`, `bt.Trade` and the Strategy read: `open/high/low/close/volume/
datetime[ago]`, `datetime.datetime()` / `.date()`, `len()`, `_name`,
`_compensate`, `_tz`, `p.sessionend`, `date2num` / `num2date`. A proxy gives
exactly that and no line buffers: `close[0]` is `market.close[t, sid]` with `t`
the clock's current calendar index. On a day without a bar (suspension) the
price lines show the last bar, never NaN.

    book = ProxyBook(market, clock)
    data = book.get("600000.SH")      # or book.by_sid(i); one proxy per symbol, made on first use
"""
from __future__ import annotations

import numpy as np

from feeds.clock import ClockFeed


class _PanelLine:
    """`line[ago]` over one column of a (T, N) panel at the clock's bar."""

    __slots__ = ("_proxy", "_panel")

    def __init__(self, proxy: "SymbolProxy", panel: np.ndarray):
        self._proxy = proxy
        self._panel = panel

    def __getitem__(self, ago: int) -> float:
        p = self._proxy
        t = p.clock.market_index() + ago
        return float(self._panel[p.last_bar_row(t), p.sid])

    def __len__(self) -> int:
        return len(self._proxy.clock)


class SymbolProxy:
    """One symbol seen as a Backtrader data feed; hashable by identity."""

    _compensate = None

    def __init__(self, market, clock: ClockFeed, sid: int):
        self.market = market
        self.clock = clock
        self.sid = int(sid)
        self._name = str(market.symbols[sid])
        self.symbol = self._name
        self._tz = clock._tz
        self.p = self.params = clock.p
        self.datetime = clock.datetime           # the shared datetime line
        panels = market.panels
        self.open = _PanelLine(self, panels["open"])
        self.high = _PanelLine(self, panels["high"])
        self.low = _PanelLine(self, panels["low"])
        self.close = _PanelLine(self, panels["close"])
        self.volume = _PanelLine(self, panels["volume"])
        # Row of the last bar at or before each calendar day (-1 before the first bar).
        valid = market.has_bar[:, sid] & ~np.isnan(panels["close"][:, sid])
        rows = np.where(valid, np.arange(len(valid), dtype=np.int32), np.int32(-1))
        self._last_row = np.maximum.accumulate(rows)
        first = np.flatnonzero(valid)
        self._first_row = int(first[0]) if len(first) else 0

    def last_bar_row(self, t: int) -> int:
        t = min(max(t, 0), len(self._last_row) - 1)
        row = int(self._last_row[t])
        return row if row >= 0 else self._first_row

    def __len__(self) -> int:
        return len(self.clock)

    def date2num(self, value):
        return self.clock.date2num(value)

    def num2date(self, value=None, tz=None, naive=True):
        return self.clock.num2date(value, tz=tz, naive=naive)

    def __repr__(self) -> str:
        return f"SymbolProxy({self._name})"

    __hash__ = object.__hash__


class ProxyBook:
    """One proxy per symbol, made on first use."""

    def __init__(self, market, clock: ClockFeed):
        self.market = market
        self.clock = clock
        self._by_sid: dict[int, SymbolProxy] = {}

    def by_sid(self, sid: int) -> SymbolProxy:
        proxy = self._by_sid.get(sid)
        if proxy is None:
            proxy = self._by_sid[sid] = SymbolProxy(self.market, self.clock, sid)
        return proxy

    def get(self, symbol: str) -> SymbolProxy:
        return self.by_sid(self.market.symbol_index[symbol])
