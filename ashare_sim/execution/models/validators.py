"""Pre-trade rules: one class per rule, `check(ctx) -> reason | None`.

A validator refuses a whole order; the reason is the `reason` column of
`orders.csv` (SPEC §4). `TPlusOne` is the one rule that limits a quantity
rather than refusing outright: `allowed(ctx)` is the sellable quantity, and
`check` refuses only when nothing is sellable.

Order of checks (first reason wins): delisted, suspended, price limit, lot size,
T+1. Prices are float32 cents, so limit comparisons use half a tick.
"""
from __future__ import annotations

import math
from typing import Optional, Protocol

from ashare_sim.common.errors import ConfigError
from ashare_sim.common.registry import Registry
from ashare_sim.execution.context import OrderContext
from ashare_sim.execution.orders import Reason

# In checking order; each class says from the config whether it is on (`from_config` -> instance or None).
VALIDATORS: Registry = Registry("order validator", "broker")


class Validator(Protocol):
    reason: str

    def check(self, ctx: OrderContext) -> Optional[str]: ...


@VALIDATORS.register("delisted")
class Delisted:
    """No order in a stock after its last listed day."""
    reason = Reason.DELISTED

    @classmethod
    def from_config(cls, cfg_broker, rules, deal_price):
        return cls()

    def check(self, ctx: OrderContext) -> Optional[str]:
        return self.reason if ctx.delisted else None


@VALIDATORS.register("suspended")
class Suspended:
    """No bar or volume 0 (or not listed yet): no fill on either side."""
    reason = Reason.SUSPENDED

    @classmethod
    def from_config(cls, cfg_broker, rules, deal_price):
        return cls()

    def check(self, ctx: OrderContext) -> Optional[str]:
        return None if ctx.traded else self.reason


@VALIDATORS.register("price_limit")
class PriceLimit:
    """Limit-up blocks buys, limit-down blocks sells.

    strict: refuse a buy when the deal price is at or above high_limit, a sell
    when it is at or below low_limit. locked: refuse only a one-price bar at
    the limit (open = high = low = close = limit). NaN limits: no limit today.
    """

    @classmethod
    def from_config(cls, cfg_broker, rules, deal_price):
        return None if cfg_broker.limit_rule == "off" else cls(cfg_broker.limit_rule, rules.tick, deal_price)

    def __init__(self, rule: str, tick: float, deal_price):
        if rule not in ("strict", "locked"):
            raise ConfigError("broker.limit_rule", f"'{rule}' is not strict, locked or off")
        self.rule = rule
        self.half_tick = tick / 2
        self.deal_price = deal_price

    def check(self, ctx: OrderContext) -> Optional[str]:
        limit = ctx.high_limit if ctx.is_buy else ctx.low_limit
        if math.isnan(limit):
            return None
        at = self._at_up if ctx.is_buy else self._at_down
        if self.rule == "strict":
            hit = at(self.deal_price.price(ctx), limit)
        else:
            hit = all(at(x, limit) for x in (ctx.open, ctx.high, ctx.low, ctx.close))
        if hit:
            return Reason.LIMIT_UP if ctx.is_buy else Reason.LIMIT_DOWN
        return None

    def _at_up(self, price: float, limit: float) -> bool:
        return price >= limit - self.half_tick

    def _at_down(self, price: float, limit: float) -> bool:
        return price <= limit + self.half_tick


@VALIDATORS.register("lot_size")
class LotSize:
    """Buys: at least the board's minimum, then its step (main 100/100, STAR
    200/1). Sells: the same, or exactly the whole position (odd lots)."""
    reason = Reason.LOT_SIZE

    @classmethod
    def from_config(cls, cfg_broker, rules, deal_price):
        return cls(rules) if cfg_broker.lot_size else None

    def __init__(self, rules):
        self.rules = rules
        self._lots: dict[tuple, object] = {}

    def lot(self, board: str, day=None):
        key = (board, day)
        lot = self._lots.get(key)
        if lot is None:
            lot = self._lots[key] = self.rules.lot(board, day)
        return lot

    def check(self, ctx: OrderContext) -> Optional[str]:
        lot = self.lot(ctx.board, ctx.day)
        if ctx.is_buy:
            return None if lot.is_valid_buy(ctx.qty) else self.reason
        if ctx.qty >= ctx.position or lot.is_valid_buy(ctx.qty):
            return None
        return self.reason


@VALIDATORS.register("t_plus_1")
class TPlusOne:
    """Shares bought (or received as bonus) today are not sellable today."""
    reason = Reason.T_PLUS_1

    @classmethod
    def from_config(cls, cfg_broker, rules, deal_price):
        return cls() if cfg_broker.t_plus_1 else None

    def allowed(self, ctx: OrderContext) -> int:
        return ctx.sellable if not ctx.is_buy else ctx.qty

    def check(self, ctx: OrderContext) -> Optional[str]:
        if not ctx.is_buy and ctx.position > 0 and ctx.sellable <= 0:
            return self.reason
        return None


def build_validators(cfg_broker, rules, deal_price) -> list:
    """Validators switched on by config, in registry (checking) order."""
    built = (VALIDATORS.get(name).from_config(cfg_broker, rules, deal_price) for name in VALIDATORS.names())
    return [v for v in built if v is not None]
