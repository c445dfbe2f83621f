"""The reference (deal) price an order fills at before slippage, by name.

`broker.deal_price`: open | close | vwap (= amount / volume, kept inside
[low, high] and rounded half up to the tick: a price one can trade at, so
tick rounding is never reported as slippage). One class each, `price(ctx) -> float`.
"""
from __future__ import annotations

import math

from brokers.context import OrderContext
from core.errors import ConfigError
from rules.table import round_to_tick


class OpenPrice:
    name = "open"

    def price(self, ctx: OrderContext) -> float:
        return ctx.open


class ClosePrice:
    name = "close"

    def price(self, ctx: OrderContext) -> float:
        return ctx.close


class VwapPrice:
    """The day's average traded price, amount / volume, on the tick and inside [low, high]."""
    name = "vwap"

    def __init__(self, tick: float = 0.01):
        self.tick = tick

    def price(self, ctx: OrderContext) -> float:
        if not ctx.volume or math.isnan(ctx.amount) or ctx.volume <= 0:
            return ctx.close
        return min(max(round_to_tick(ctx.amount / ctx.volume, self.tick), ctx.low), ctx.high)


FILL_PRICES = {c.name: c for c in (OpenPrice, ClosePrice, VwapPrice)}


def fill_price_model(name: str, tick: float = 0.01):
    try:
        cls = FILL_PRICES[name]
    except KeyError:
        raise ConfigError("broker.deal_price", f"'{name}' is not one of {', '.join(FILL_PRICES)}") from None
    return cls(tick) if cls is VwapPrice else cls()
