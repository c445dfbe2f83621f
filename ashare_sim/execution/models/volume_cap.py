"""Quantity limits: how much of an order may fill today, before lot rounding (`allowed(ctx) -> shares`;
`allowed_many(orders)` for a day's orders at once).

`VolumeCap`: the stock's fills of the day together take at most `broker.volume_cap` of its volume (the
core counts what earlier orders took), split evenly among `broker.crowd` funds trading the same names;
reason `volume_cap` when it binds. `broker.volume_cap: null` switches it off.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ashare_sim.common.registry import Registry
from ashare_sim.common.text import pct_text
from ashare_sim.common.typed import Section, key
from ashare_sim.execution.context import DayOrders, OrderContext
from ashare_sim.execution.models.base import ExecutionModel
from ashare_sim.execution.orders import Reason

QUANTITY_LIMITS = Registry("quantity limit", "", "broker")
UNLIMITED = 2 ** 62                       # shares: no limit binds


@QUANTITY_LIMITS.register
class VolumeCap(ExecutionModel):
    """At most `share` of the day's volume, split evenly among `crowd` funds trading the same names."""
    name = "volume_cap"
    description = "a stock's fills of the day take at most a share of its volume (split among crowded funds)"
    reason = Reason.VOLUME_CAP

    @dataclass(frozen=True)
    class Params(Section):
        volume_cap: Optional[float] = key(0.10, "max share of day volume per stock per day", gt=0, le=1)

    @classmethod
    def build(cls, params, env):
        return None if params.volume_cap is None else cls(params, env)

    @classmethod
    def describe(cls, params, rules) -> str:
        cap = params.volume_cap
        return "none" if cap is None else f"{pct_text(cap, 2)} of the day's volume per stock"

    def __init__(self, params, env):
        super().__init__(params, env)
        self.share = float(params.volume_cap)
        self.crowd = max(int(env.crowd), 1)

    def allowed(self, ctx: OrderContext) -> int:
        if math.isnan(ctx.volume):
            return 0
        return int(math.floor(ctx.volume * self.share / self.crowd + 1e-9))

    def allowed_many(self, orders: DayOrders) -> np.ndarray:
        vol = orders.volume
        shares = np.floor(np.nan_to_num(vol) * self.share / self.crowd + 1e-9)
        return np.where(np.isnan(vol), 0, shares).astype(np.int64)
