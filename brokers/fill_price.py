"""The reference (deal) price an order fills at before slippage, by name.

`broker.deal_price`: open | close | vwap (= amount / volume, kept inside
[low, high]). One class each, `price(ctx) -> float`.
"""
from __future__ import annotations

import math

from brokers.context import OrderContext
from core.errors import ConfigError


class OpenPrice:
    name = "open"

    def price(self, ctx: OrderContext) -> float:
        return ctx.open


class ClosePrice:
    name = "close"

    def price(self, ctx: OrderContext) -> float:
        return ctx.close


class VwapPrice:
    """The day's average traded price, amount / volume, clamped to [low, high]."""
    name = "vwap"

    def price(self, ctx: OrderContext) -> float:
        if not ctx.volume or math.isnan(ctx.amount) or ctx.volume <= 0:
            return ctx.close
        return min(max(ctx.amount / ctx.volume, ctx.low), ctx.high)


FILL_PRICES = {c.name: c for c in (OpenPrice, ClosePrice, VwapPrice)}


def fill_price_model(name: str):
    try:
        return FILL_PRICES[name]()
    except KeyError:
        raise ConfigError("broker.deal_price", f"'{name}' is not one of {', '.join(FILL_PRICES)}") from None
