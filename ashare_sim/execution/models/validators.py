"""Pre-trade rules: one registered class per rule, `check(ctx) -> reason | None`.

A validator refuses a whole order; the reason is the `reason` column of orders.csv. Each rule is on
unless its own config key switches it off (`build` returns None then). `check_many(orders) -> reasons`
judges a day's orders at once (`DayOrders`; None where the rule lets an order pass), each as `check` would.

Order of checks (first reason wins): delisted, suspended, price limit, lot size, T+1. Prices are
float32 cents, so limit comparisons use half a tick (rules.table.at_up_limit / at_down_limit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np

from ashare_sim.common.registry import Registry
from ashare_sim.common.typed import Section, key
from ashare_sim.execution.context import DayOrders, OrderContext
from ashare_sim.execution.models.base import ExecutionModel
from ashare_sim.execution.orders import Reason
from ashare_sim.rules.table import Lot, at_down_limit, at_up_limit

# In checking order.
VALIDATORS = Registry("order validator", "", "broker")


class Validator(ExecutionModel):
    def check(self, ctx: OrderContext) -> Optional[str]:
        raise NotImplementedError


def refusals(refused: np.ndarray, reason) -> np.ndarray:
    """A day's reasons: `reason` where `refused`, None elsewhere."""
    out = np.full(len(refused), None, dtype=object)
    out[refused] = reason
    return out


@VALIDATORS.register
class Delisted(Validator):
    name = "delisted"
    description = "no order in a stock after its last listed day"
    reason = Reason.DELISTED

    def check(self, ctx: OrderContext) -> Optional[str]:
        return self.reason if ctx.delisted else None

    def check_many(self, orders: DayOrders) -> np.ndarray:
        return refusals(orders.delisted, self.reason)


@VALIDATORS.register
class Suspended(Validator):
    name = "suspended"
    description = "no fill on a day without a bar or with volume 0 (suspended, or not listed yet)"
    reason = Reason.SUSPENDED

    def check(self, ctx: OrderContext) -> Optional[str]:
        return None if ctx.traded else self.reason

    def check_many(self, orders: DayOrders) -> np.ndarray:
        return refusals(~orders.traded, self.reason)


@VALIDATORS.register
class PriceLimit(Validator):
    """Limit-up blocks buys, limit-down blocks sells.

    strict: refuse a buy when the deal price is at or above high_limit, a sell when it is at or below
    low_limit. locked: refuse only a one-price bar at the limit (open = high = low = close = limit).
    NaN limits: no limit today."""
    name = "price_limit"
    description = "the day's price limits block buys at the up limit and sells at the down limit"
    reason = (Reason.LIMIT_UP, Reason.LIMIT_DOWN)

    @dataclass(frozen=True)
    class Params(Section):
        limit_rule: Literal["strict", "locked", "off"] = key("strict", "price-limit blocking")

    TEXT = {"strict": "strict: no buy at or above the up limit, no sell at or below the down limit",
            "locked": "locked: refused only on a one-price bar at the limit",
            "off": "off (limits ignored)"}

    @classmethod
    def build(cls, params, env):
        return None if params.limit_rule == "off" else cls(params, env)

    @classmethod
    def describe(cls, params, rules) -> str:
        return cls.TEXT[params.limit_rule]

    def __init__(self, params, env):
        super().__init__(params, env)
        self.rule = params.limit_rule
        self.tick = env.rules.tick
        self.deal_price = env.deal

    def check(self, ctx: OrderContext) -> Optional[str]:
        limit = ctx.high_limit if ctx.is_buy else ctx.low_limit
        if math.isnan(limit):
            return None
        at = at_up_limit if ctx.is_buy else at_down_limit
        if self.rule == "strict":
            hit = at(self.deal_price.price(ctx), limit, self.tick)
        else:
            hit = all(at(x, limit, self.tick) for x in (ctx.open, ctx.high, ctx.low, ctx.close))
        if hit:
            return Reason.LIMIT_UP if ctx.is_buy else Reason.LIMIT_DOWN
        return None

    def check_many(self, orders: DayOrders) -> np.ndarray:
        buy = orders.is_buy
        limit = np.where(buy, orders.high_limit, orders.low_limit)      # NaN: no limit, never hit
        tick = self.tick
        if self.rule == "strict":
            deal = self.deal_price.price_many(orders)
            hit = np.where(buy, at_up_limit(deal, limit, tick), at_down_limit(deal, limit, tick))
        else:
            hit = np.ones(len(orders), dtype=bool)
            for x in (orders.open, orders.high, orders.low, orders.close):
                hit &= np.where(buy, at_up_limit(x, limit, tick), at_down_limit(x, limit, tick))
        out = refusals(hit & buy, Reason.LIMIT_UP)
        out[hit & ~buy] = Reason.LIMIT_DOWN
        return out


class Switched(Validator):
    """A rule its own boolean key switches on and off."""
    switch: str = ""                   # the key
    label: str = ""                    # how the execution-assumptions block names it

    @classmethod
    def build(cls, params, env):
        return cls(params, env) if getattr(params, cls.switch) else None

    @classmethod
    def describe(cls, params, rules) -> str:
        return f"{cls.label} {'on' if getattr(params, cls.switch) else 'off'}"


@VALIDATORS.register
class LotSize(Switched):
    """Buys: at least the board's minimum, then its step (main 100/100, STAR 200/1). Sells: the same, or
    exactly the whole position (odd lots)."""
    name = "lot_size"
    description = "board lots: buys in whole lots, odd lots only to close a position"
    reason = Reason.LOT_SIZE
    switch, label = "lot_size", "board lots"

    @dataclass(frozen=True)
    class Params(Section):
        lot_size: bool = key(True, "board lot rules")

    def __init__(self, params, env):
        super().__init__(params, env)
        self.rules = env.rules

    def check(self, ctx: OrderContext) -> Optional[str]:
        lot = self.rules.lot(ctx.board, ctx.day)
        if ctx.is_buy:
            return None if lot.is_valid_buy(ctx.qty) else self.reason
        if ctx.qty >= ctx.position or lot.is_valid_buy(ctx.qty):
            return None
        return self.reason

    def check_many(self, orders: DayOrders) -> np.ndarray:
        lot_min, lot_step = lots_of(self.rules, orders)
        qty = orders.qty
        valid = Lot.is_valid_buy_many(qty, lot_min, lot_step)
        return refusals(~valid & (orders.is_buy | (qty < orders.position)), self.reason)


@VALIDATORS.register
class TPlusOne(Switched):
    """Shares bought (or received as bonus) today are not sellable today: a sell is refused when nothing is
    sellable (the core cuts a larger sell to what is)."""
    name = "t_plus_1"
    description = "T+1: shares bought today are sellable from the next trading day"
    reason = Reason.T_PLUS_1
    switch, label = "t_plus_1", "T+1"

    @dataclass(frozen=True)
    class Params(Section):
        t_plus_1: bool = key(True, "shares bought today are not sellable today")

    def check(self, ctx: OrderContext) -> Optional[str]:
        if not ctx.is_buy and ctx.position > 0 and ctx.sellable <= 0:
            return self.reason
        return None

    def check_many(self, orders: DayOrders) -> np.ndarray:
        return refusals(~orders.is_buy & (orders.position > 0) & (orders.sellable <= 0), self.reason)


def lots_of(rules, orders: DayOrders) -> tuple[np.ndarray, np.ndarray]:
    """(minimum, step) of each order's board lot on its day (worked out once for a day's orders)."""
    if orders.lots is None:
        by_board = {b: rules.lot(b, orders.day) for b in set(orders.boards)}
        n = len(orders)
        lot_min = np.fromiter([by_board[b].min for b in orders.boards], dtype=np.int64, count=n)
        lot_step = np.fromiter([by_board[b].step for b in orders.boards], dtype=np.int64, count=n)
        orders.lots = (lot_min, lot_step)
    return orders.lots
