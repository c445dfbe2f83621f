"""The reference (deal) price an order fills at before slippage, by name (`broker.deal_price`).

open | close | vwap (= amount / volume, kept inside [low, high] and rounded half up to the tick: a
price one can trade at, so tick rounding is never reported as slippage). One class each,
`price(ctx) -> float`, and `price_many(orders)` for a day's orders at once.
"""
from __future__ import annotations

import math

import numpy as np

from ashare_sim.common.registry import Registry
from ashare_sim.execution.context import DayOrders, OrderContext, py_max, py_min
from ashare_sim.execution.models.base import ExecutionModel
from ashare_sim.rules.table import on_tick, round_to_tick

DEAL_PRICES = Registry("deal price", "broker.deal_price", "broker")


@DEAL_PRICES.register
class OpenPrice(ExecutionModel):
    name = "open"
    description = "the day's open"

    def price(self, ctx: OrderContext) -> float:
        return ctx.open

    def price_many(self, orders: DayOrders) -> np.ndarray:
        return orders.open


@DEAL_PRICES.register
class ClosePrice(ExecutionModel):
    name = "close"
    description = "the day's close"

    def price(self, ctx: OrderContext) -> float:
        return ctx.close

    def price_many(self, orders: DayOrders) -> np.ndarray:
        return orders.close


@DEAL_PRICES.register
class VwapPrice(ExecutionModel):
    """The day's average traded price, amount / volume, on the tick and inside [low, high]."""
    name = "vwap"
    description = "the day's VWAP (amount / volume, on the tick)"

    def __init__(self, params=None, env=None):
        super().__init__(params, env)
        self.tick = env.rules.tick if env is not None else 0.01

    def price(self, ctx: OrderContext) -> float:
        if not ctx.volume or math.isnan(ctx.amount) or ctx.volume <= 0:
            return ctx.close
        return min(max(round_to_tick(ctx.amount / ctx.volume, self.tick), ctx.low), ctx.high)

    def price_many(self, orders: DayOrders) -> np.ndarray:
        vol, amount = orders.volume, orders.amount
        average = (vol > 0) & ~np.isnan(amount)       # no bar, volume 0 or no amount: the close
        with np.errstate(divide="ignore", invalid="ignore"):
            vwap = py_min(py_max(on_tick(amount / vol, self.tick), orders.low), orders.high)
        return np.where(average, vwap, orders.close)
