"""The reference (deal) price an order fills at before slippage, by name.

`broker.deal_price`: open | close | vwap (= amount / volume, kept inside
[low, high] and rounded half up to the tick: a price one can trade at, so
tick rounding is never reported as slippage). One class each, `price(ctx) -> float`.
"""
from __future__ import annotations

import math

from ashare_sim.common.registry import Registry
from ashare_sim.execution.context import OrderContext
from ashare_sim.rules.table import round_to_tick

DEAL_PRICES: Registry = Registry("deal price", "broker.deal_price")


@DEAL_PRICES.register("open")
class OpenPrice:
    name = "open"

    def price(self, ctx: OrderContext) -> float:
        return ctx.open


@DEAL_PRICES.register("close")
class ClosePrice:
    name = "close"

    def price(self, ctx: OrderContext) -> float:
        return ctx.close


@DEAL_PRICES.register("vwap")
class VwapPrice:
    """The day's average traded price, amount / volume, on the tick and inside [low, high]."""
    name = "vwap"

    def __init__(self, tick: float = 0.01):
        self.tick = tick

    def price(self, ctx: OrderContext) -> float:
        if not ctx.volume or math.isnan(ctx.amount) or ctx.volume <= 0:
            return ctx.close
        return min(max(round_to_tick(ctx.amount / ctx.volume, self.tick), ctx.low), ctx.high)


def fill_price_model(name: str, tick: float = 0.01):
    cls = DEAL_PRICES.get(name)
    return cls(tick) if cls is VwapPrice else cls()
