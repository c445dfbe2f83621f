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

from ashare_sim.backtest.clock import ClockFeed
from ashare_sim.data import derive


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


class _ClockDateTime:
    """The clock's datetime line for proxies, with the current bar's datetime cached
    (many orders are created per bar and each asks for it)."""

    __slots__ = ("_clock", "_line", "_key", "_value")

    def __init__(self, clock: ClockFeed):
        self._clock = clock
        self._line = clock.datetime
        self._key = None
        self._value = None

    def __getitem__(self, ago: int) -> float:
        return self._line[ago]

    def __len__(self) -> int:
        return len(self._line)

    def datetime(self, ago: int = 0, tz=None, naive: bool = True):
        if ago or tz is not None or not naive:
            return self._line.datetime(ago, tz=tz, naive=naive)
        num = self._line[0]
        if num != self._key:
            self._key, self._value = num, self._line.datetime(0)
        return self._value

    def date(self, ago: int = 0, tz=None, naive: bool = True):
        return self.datetime(ago, tz=tz, naive=naive).date()

    def time(self, ago: int = 0, tz=None, naive: bool = True):
        return self.datetime(ago, tz=tz, naive=naive).time()


class SymbolProxy:
    """One symbol seen as a Backtrader data feed; hashable by identity."""

    _compensate = None

    def __init__(self, market, clock: ClockFeed, sid: int, book_datetime: _ClockDateTime | None = None):
        self.market = market
        self.clock = clock
        self.sid = int(sid)
        self._name = str(market.symbols[sid])
        self.symbol = self._name
        self._tz = clock._tz
        self.p = self.params = clock.p
        self.datetime = book_datetime if book_datetime is not None else _ClockDateTime(clock)
        panels = market.panels
        self.open = _PanelLine(self, panels["open"])
        self.high = _PanelLine(self, panels["high"])
        self.low = _PanelLine(self, panels["low"])
        self.close = _PanelLine(self, panels["close"])
        self.volume = _PanelLine(self, panels["volume"])
        self._has_bar, self._close, self._n = market.has_bar, panels["close"], market.has_bar.shape[0]
        self._last_row: np.ndarray | None = None      # made when first needed (_rows)
        self._first_row = 0

    def last_bar_row(self, t: int) -> int:
        t = min(max(t, 0), self._n - 1)
        sid = self.sid
        close = self._close[t, sid]
        if self._has_bar[t, sid] and close == close:
            return t                     # a bar that day: most reads, and no column scan for them
        if self._last_row is None:
            self._rows()
        row = int(self._last_row[t])
        return row if row >= 0 else self._first_row

    def _rows(self) -> None:
        """Row of the last bar at or before each calendar day (-1 before the first bar). Made on the first day
        without a bar: a column of each panel is a strided read of the whole calendar (0.1 ms a symbol, most
        of the cost of the thousand proxies of a full-market run)."""
        valid = self._has_bar[:, self.sid] & ~np.isnan(self._close[:, self.sid])
        self._last_row = derive.ffill_index(valid[:, None])[:, 0]
        first = np.flatnonzero(valid)
        self._first_row = int(first[0]) if len(first) else 0

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
        self._datetime = _ClockDateTime(clock)

    def by_sid(self, sid: int) -> SymbolProxy:
        proxy = self._by_sid.get(sid)
        if proxy is None:
            proxy = self._by_sid[sid] = SymbolProxy(self.market, self.clock, sid, self._datetime)
        return proxy

    def get(self, symbol: str) -> SymbolProxy:
        return self.by_sid(self.market.symbol_index[symbol])
