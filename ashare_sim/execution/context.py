"""What the rules see about one order on one day (`OrderContext`), or about a day's orders at once
(`DayOrders`, the same fields as arrays, one entry per order).

Built by the execution core from the market panels; every validator, quantity limit, fill-price and
slippage model reads one of them and nothing else, so each can be tested with a hand-made context. A
model's array form (`check_many`, `allowed_many`, `price_many`) gives, order for order, what its one-order
form gives: the core judges a day's orders together only with models that have both (a test holds them
equal), and one at a time otherwise.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ashare_sim.data.market import kept
from ashare_sim.execution.orders import Side
from ashare_sim.rules.table import on_tick, round_to_tick


@dataclass(slots=True)
class OrderContext:
    day: dt.date
    t: int                    # calendar index in the market
    sid: int
    symbol: str
    board: str
    exchange: str
    side: str                 # Side.BUY | Side.SELL
    qty: int                  # shares requested
    open: float               # the day's bar (NaN without a bar)
    high: float
    low: float
    close: float
    volume: float
    amount: float
    high_limit: float         # NaN = no limit that day
    low_limit: float
    has_bar: bool
    listed: bool
    delisted: bool            # past the last listed day
    position: int = 0         # shares held before this order
    sellable: int = 0         # shares that may be sold today (T+1)
    is_buy: bool = field(init=False, repr=False)     # from side (the rules ask it several times an order)

    def __post_init__(self) -> None:
        self.is_buy = self.side == Side.BUY

    @property
    def traded(self) -> bool:
        """A bar with volume: the stock traded today."""
        return self.has_bar and self.volume > 0 and not math.isnan(self.open)


def context_from_market(market, t: int, sid: int, side: str, qty: int, position: int = 0,
                        sellable: int = 0) -> OrderContext:
    """Context for one order of `side` on calendar day `t` from the market panels."""
    look = market_lookups(market)
    o, h, lo, c, hl, ll, vol, amt, has_bar, listed = look.panels
    ticked = look.ticked
    # float32 panels hold cents to ~1e-7; prices go back to exact ticks (NaN stays NaN). Positional, and the
    # panels fetched once per market: this runs for every order attempt of every scenario.
    return OrderContext(
        market.date_at(t), t, sid, look.symbols[sid], look.boards[sid], look.exchanges[sid], side, int(qty),
        ticked(float(o[t, sid])), ticked(float(h[t, sid])), ticked(float(lo[t, sid])), ticked(float(c[t, sid])),
        float(vol[t, sid]), float(amt[t, sid]), ticked(float(hl[t, sid])), ticked(float(ll[t, sid])),
        bool(has_bar[t, sid]), bool(listed[t, sid]), bool(t > look.delist_index[sid]), int(position),
        int(sellable))


@dataclass(slots=True, eq=False)
class DayOrders:
    """`OrderContext`'s fields for a day's orders, as arrays (one entry per order, in the order sent)."""
    day: dt.date
    t: int
    sid: np.ndarray             # int64
    symbols: list[str]
    boards: list[str]
    exchanges: list[str]
    is_buy: np.ndarray          # bool
    qty: np.ndarray             # int64, shares requested
    open: np.ndarray            # float64, on the tick (NaN without a bar)
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    amount: np.ndarray
    high_limit: np.ndarray
    low_limit: np.ndarray
    has_bar: np.ndarray         # bool
    listed: np.ndarray
    delisted: np.ndarray
    position: np.ndarray        # int64
    sellable: np.ndarray
    locked: np.ndarray          # int64, shares of the position not sellable today
    lots: tuple | None = None   # (minimum, step) of each order's board lot, once asked (validators.lots_of)

    def __len__(self) -> int:
        return len(self.sid)

    @property
    def traded(self) -> np.ndarray:
        return self.has_bar & (self.volume > 0) & ~np.isnan(self.open)

    @property
    def sign(self) -> np.ndarray:
        """+1.0 for a buy, -1.0 for a sell: the side the price moves against."""
        return np.where(self.is_buy, 1.0, -1.0)


def day_orders_from_market(market, t: int, sids: Sequence[int], sides: Sequence[str], qtys: Sequence[int],
                           account) -> DayOrders:
    """`DayOrders` for orders of (sid, side, qty) on calendar day t, with `account`'s holdings."""
    look = market_lookups(market)
    o, h, lo, c, hl, ll, vol, amt, has_bar, listed = look.panels
    n = len(sids)
    sid = np.fromiter(sids, dtype=np.int64, count=n)
    prices = on_tick(np.stack([p[t, sid] for p in (o, h, lo, c, hl, ll)]), look.tick)
    held = [account.positions.get(s) for s in sids]
    position = np.fromiter([p.qty if p else 0 for p in held], dtype=np.int64, count=n)
    locked = np.fromiter([p.locked if p else 0 for p in held], dtype=np.int64, count=n)
    sid_list = sid.tolist()
    return DayOrders(
        market.date_at(t), t, sid, [look.symbols[s] for s in sid_list], [look.boards[s] for s in sid_list],
        [look.exchanges[s] for s in sid_list], np.fromiter([x == Side.BUY for x in sides], dtype=bool, count=n),
        np.fromiter(qtys, dtype=np.int64, count=n), *prices[:4], vol[t, sid].astype(np.float64),
        amt[t, sid].astype(np.float64), prices[4], prices[5], has_bar[t, sid].astype(bool),
        listed[t, sid].astype(bool), t > market.delist_index[sid], position, np.maximum(position - locked, 0), locked)


def py_max(a, b):
    """Python's max(a, b) element-wise: b only where b > a (so a NaN b keeps a, a NaN a stays NaN)."""
    return np.where(b > a, b, a)


def py_min(a, b):
    """Python's min(a, b) element-wise: b only where b < a."""
    return np.where(b < a, b, a)


_PRICES = ("open", "high", "low", "close", "high_limit", "low_limit")


def market_lookups(market) -> "MarketLookups":
    """Per-market lookups every order reads, and the planner and the delisting settlement with them (kept with
    the market: every scenario of a grid reads them)."""
    return kept(market, "order_context.lookups", lambda: MarketLookups(market))


class MarketLookups:
    """The panels an order reads, symbol / board / exchange as text, and panel prices on the tick."""

    def __init__(self, market):
        p = market.panels
        self.panels = tuple(p[name] for name in _PRICES) + (p["volume"], p["amount"], market.has_bar,
                                                            market.is_listed)
        self.delist_index = [int(x) for x in market.delist_index]      # as a list: read for one stock at a time
        self.symbols = [str(x) for x in market.symbols]
        self.boards = [str(x) for x in market.board]
        self.exchanges = [str(x) for x in market.exchange]
        self.tick = market.rules.tick
        self._on_tick: dict[float, float] = {}      # a panel price -> the same on the tick (prices repeat a lot)

    def ticked(self, price: float) -> float:
        out = self._on_tick.get(price)
        if out is None:
            if price != price:          # NaN: no price (a NaN key never matches again)
                return math.nan
            if len(self._on_tick) > 1_000_000:
                self._on_tick.clear()
            out = self._on_tick[price] = round_to_tick(price, self.tick)
        return out
