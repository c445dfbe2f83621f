"""What the rules see about one order on one day: `OrderContext`.

Built once per order attempt by the broker from the market panels; every
validator, quantity limit, fill-price and slippage model reads it and nothing
else, so each can be tested with a hand-made context.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ashare_sim.execution.orders import Side
from ashare_sim.rules.table import round_to_tick


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

    @property
    def is_buy(self) -> bool:
        return self.side == Side.BUY

    @property
    def traded(self) -> bool:
        """A bar with volume: the stock traded today."""
        return self.has_bar and self.volume > 0 and not math.isnan(self.open)


def context_from_market(market, t: int, sid: int, side: str, qty: int, position: int = 0,
                        sellable: int = 0) -> OrderContext:
    """Context for one order of `side` on calendar day `t` from the market panels."""
    p = market.panels
    tick = market.rules.tick
    # float32 panels hold cents to ~1e-7; prices go back to exact ticks (NaN stays NaN). One read per panel:
    # this runs for every order attempt of every scenario.
    o, h, lo, c, hl, ll = (float(p[name][t, sid]) for name in _PRICES)
    return OrderContext(
        day=market.date_at(t), t=t, sid=sid, symbol=str(market.symbols[sid]), board=str(market.board[sid]),
        exchange=str(market.exchange[sid]), side=side, qty=int(qty),
        open=_tick(o, tick), high=_tick(h, tick), low=_tick(lo, tick), close=_tick(c, tick),
        volume=float(p["volume"][t, sid]), amount=float(p["amount"][t, sid]),
        high_limit=_tick(hl, tick), low_limit=_tick(ll, tick),
        has_bar=bool(market.has_bar[t, sid]), listed=bool(market.is_listed[t, sid]),
        delisted=bool(t > market.delist_index[sid]), position=int(position), sellable=int(sellable))


_PRICES = ("open", "high", "low", "close", "high_limit", "low_limit")


def _tick(price: float, tick: float) -> float:
    return round_to_tick(price, tick) if price == price else math.nan
