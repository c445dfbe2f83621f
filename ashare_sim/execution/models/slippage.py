"""Slippage: the fill price moved against the trader from the deal price, by name.

`broker.slippage.model`:
- `fixed_bps`: price x (1 +/- bps / 10,000).
- `ticks`: price +/- ticks x tick (0.01 CNY).
- `sqrt_impact`: the square-root market-impact law,
      price x (1 +/- impact x sigma x sqrt(qty / day_volume)),
  sigma = standard deviation of daily log returns of the adjusted close over
  the `vol_days` trading days before the order's day (information known at
  sizing time), `impact` = k. Source: Almgren, Thum, Hauptmann and Li (2005),
  "Direct Estimation of Equity Market Impact", Risk 18(7); Toth et al. (2011),
  "Anomalous price impact and the critical nature of liquidity in financial
  markets", Phys. Rev. X 1, 021006 (impact ~ Y sigma sqrt(Q / V), Y of order 1
  for the full metaorder; the default k = 0.3 is argued at broker.slippage.impact in
  config.yaml). With `broker.crowd` = N similar funds trading the same lists, the
  impact is that of their combined size: sqrt(N x qty / day_volume).

Every model's price is rounded to the tick and clamped so that no fill is ever
outside [low, high] of the day or outside its price limits: `clamp(ctx, p)`.
One class each, `price(ctx, deal, qty) -> float`.
"""
from __future__ import annotations

import math

import numpy as np

from ashare_sim.common.registry import Registry
from ashare_sim.execution.context import OrderContext
from ashare_sim.rules.table import round_to_tick

SLIPPAGE: Registry = Registry("slippage model", "broker.slippage.model")


def clamp(ctx: OrderContext, price: float, tick: float) -> float:
    """Round to the tick and keep inside [low, high] and the day's limits."""
    if math.isnan(price):
        return price
    p = round_to_tick(price, tick)
    lo, hi = ctx.low, ctx.high
    if not math.isnan(ctx.low_limit):
        lo = max(lo, ctx.low_limit)
    if not math.isnan(ctx.high_limit):
        hi = min(hi, ctx.high_limit)
    if not math.isnan(hi):
        p = min(p, hi)
    if not math.isnan(lo):
        p = max(p, lo)
    return p


@SLIPPAGE.register("fixed_bps")
class FixedBps:
    name = "fixed_bps"

    @classmethod
    def from_config(cls, c, tick: float, market, crowd: int = 1) -> "FixedBps":
        return cls(c.bps, tick)

    def __init__(self, bps: float, tick: float):
        self.frac = bps / 10_000.0
        self.tick = tick

    def price(self, ctx: OrderContext, deal: float, qty: int) -> float:
        sign = 1.0 if ctx.is_buy else -1.0
        return clamp(ctx, deal * (1.0 + sign * self.frac), self.tick)


@SLIPPAGE.register("ticks")
class Ticks:
    name = "ticks"

    @classmethod
    def from_config(cls, c, tick: float, market, crowd: int = 1) -> "Ticks":
        return cls(c.ticks, tick)

    def __init__(self, ticks: int, tick: float):
        self.ticks = int(ticks)
        self.tick = tick

    def price(self, ctx: OrderContext, deal: float, qty: int) -> float:
        sign = 1.0 if ctx.is_buy else -1.0
        return clamp(ctx, deal + sign * self.ticks * self.tick, self.tick)


@SLIPPAGE.register("sqrt_impact")
class SqrtImpact:
    name = "sqrt_impact"

    @classmethod
    def from_config(cls, c, tick: float, market, crowd: int = 1) -> "SqrtImpact":
        return cls(c.impact, c.vol_days, tick, market, crowd)

    def __init__(self, impact: float, vol_days: int, tick: float, market, crowd: int = 1):
        self.k = float(impact)
        self.crowd = max(int(crowd), 1)       # funds trading alongside: impact is on their combined size
        self.vol_days = int(vol_days)
        self.tick = tick
        self.market = market

    def sigma(self, t: int, sid: int) -> float:
        """Daily log-return volatility over the `vol_days` days before t (0 when unknown)."""
        a = max(0, t - self.vol_days - 1)
        close = self.market.panels["close"][a:t, sid].astype(np.float64)
        adj = self.market.panels["adj_factor"][a:t, sid].astype(np.float64)
        px = close * adj
        px = px[~np.isnan(px)]
        if len(px) < 3:
            return 0.0
        return float(np.std(np.diff(np.log(px)), ddof=1))

    def price(self, ctx: OrderContext, deal: float, qty: int) -> float:
        if ctx.volume <= 0 or qty <= 0:
            return clamp(ctx, deal, self.tick)
        move = self.k * self.sigma(ctx.t, ctx.sid) * math.sqrt(qty * self.crowd / ctx.volume)
        sign = 1.0 if ctx.is_buy else -1.0
        return clamp(ctx, deal * (1.0 + sign * move), self.tick)


def slippage_model(cfg_slippage, tick: float, market, crowd: int = 1):
    """The configured model (`broker.slippage.model`), built from its own keys."""
    return SLIPPAGE.get(cfg_slippage.model).from_config(cfg_slippage, tick, market, crowd)
