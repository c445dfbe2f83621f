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
  for the full metaorder; the default k = 0.3 is argued in docs/execution.md). With `broker.crowd` = N similar funds trading the same lists, the
  impact is that of their combined size: sqrt(N x qty / day_volume).

Every model's price is rounded to the tick and clamped so that no fill is ever
outside [low, high] of the day or outside its price limits: `clamp(ctx, p)`.
One registered class each, `price(ctx, deal, qty) -> float`, and `price_many(orders, deal, qty)` for a
day's orders at once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ashare_sim.common.registry import Registry
from ashare_sim.common.typed import Section, key
from ashare_sim.data.market import kept
from ashare_sim.execution.context import DayOrders, OrderContext, py_max, py_min
from ashare_sim.execution.models.base import ExecutionModel
from ashare_sim.rules.table import on_tick, round_to_tick

SLIPPAGE = Registry("slippage model", "broker.slippage.model", "broker")


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


def clamp_many(orders: DayOrders, price: np.ndarray, tick: float) -> np.ndarray:
    """`clamp` of each order's price (a NaN bound or limit binds nothing)."""
    lo = py_max(orders.low, orders.low_limit)
    hi = py_min(orders.high, orders.high_limit)
    return py_max(py_min(on_tick(price, tick), hi), lo)


class SlippageModel(ExecutionModel):
    subsection = "slippage"

    def __init__(self, params=None, env=None):
        super().__init__(params, env)
        self.tick = env.rules.tick

    def price(self, ctx: OrderContext, deal: float, qty: int) -> float:
        raise NotImplementedError


@SLIPPAGE.register
class FixedBps(SlippageModel):
    name = "fixed_bps"
    description = "a fixed number of basis points against the trader"

    @dataclass(frozen=True)
    class Params(Section):
        bps: float = key(0.0, "fixed_bps: basis points against the trader", ge=0)

    @classmethod
    def describe(cls, params, rules) -> str:
        return "none" if params.bps == 0 else f"{params.bps:g} bp against the trader"

    def __init__(self, params, env):
        super().__init__(params, env)
        self.frac = params.bps / 10_000.0

    def price(self, ctx: OrderContext, deal: float, qty: int) -> float:
        sign = 1.0 if ctx.is_buy else -1.0
        return clamp(ctx, deal * (1.0 + sign * self.frac), self.tick)

    def price_many(self, orders: DayOrders, deal: np.ndarray, qty: np.ndarray) -> np.ndarray:
        return clamp_many(orders, deal * (1.0 + orders.sign * self.frac), self.tick)


@SLIPPAGE.register
class Ticks(SlippageModel):
    name = "ticks"
    description = "a fixed number of price ticks against the trader"

    @dataclass(frozen=True)
    class Params(Section):
        ticks: int = key(1, "ticks: ticks against the trader", ge=0)

    @classmethod
    def describe(cls, params, rules) -> str:
        return "none" if params.ticks == 0 else f"{params.ticks} tick(s) against the trader"

    def __init__(self, params, env):
        super().__init__(params, env)
        self.ticks = int(params.ticks)

    def price(self, ctx: OrderContext, deal: float, qty: int) -> float:
        sign = 1.0 if ctx.is_buy else -1.0
        return clamp(ctx, deal + sign * self.ticks * self.tick, self.tick)

    def price_many(self, orders: DayOrders, deal: np.ndarray, qty: np.ndarray) -> np.ndarray:
        return clamp_many(orders, deal + orders.sign * self.ticks * self.tick, self.tick)


@SLIPPAGE.register
class SqrtImpact(SlippageModel):
    name = "sqrt_impact"
    description = "the square-root law of market impact: k x daily vol x sqrt(qty / day volume)"

    @dataclass(frozen=True)
    class Params(Section):
        impact: float = key(0.3, "sqrt_impact: k in k*sigma*sqrt(qty/volume)", ge=0)
        vol_days: int = key(20, "sqrt_impact: days of daily volatility", ge=2)

    @classmethod
    def describe(cls, params, rules) -> str:
        return (f"square-root impact: {params.impact:g} x daily vol ({params.vol_days} days) x sqrt(qty / day "
                "volume) against the trader")

    def __init__(self, params, env):
        super().__init__(params, env)
        self.k = float(params.impact)
        self.crowd = max(int(env.crowd), 1)       # funds trading alongside: impact is on their combined size
        self.vol_days = int(params.vol_days)
        self.market = env.market
        self._cache: dict = kept(self.market, f"sqrt_impact.sigma.{self.vol_days}", dict)   # {(t, sid): sigma}

    def sigma(self, t: int, sid: int) -> float:
        """Daily log-return volatility over the `vol_days` days before t (0 when unknown); kept on the market,
        as it depends on nothing else (the scenarios of a grid ask for the same orders' sigma)."""
        cache = self._cache
        key = (t, sid)
        if key not in cache:
            if len(cache) > 2_000_000:              # about 200 MB: start again rather than grow without end
                cache.clear()
            cache[key] = self._sigma(t, sid)
        return cache[key]

    def sigmas(self, t: int, sids: list[int]) -> None:
        """`sigma(t, sid)` of each of `sids` into the cache, the stocks with a price on every day of the window
        at once: NumPy's per-row log, difference and standard deviation give the one-stock result to the bit
        (a test holds them equal); a stock with a gap goes one at a time."""
        cache = self._cache
        if len(cache) > 2_000_000:
            cache.clear()
        a = max(0, t - self.vol_days - 1)
        panels = self.market.panels
        px = np.ascontiguousarray((panels["close"][a:t, sids].astype(np.float64)
                                   * panels["adj_factor"][a:t, sids].astype(np.float64)).T)
        whole = ~np.isnan(px).any(axis=1)
        if px.shape[1] < 3 or not whole.any():
            whole[:] = False
        else:
            values = np.std(np.diff(np.log(px[whole]), axis=1), axis=1, ddof=1).tolist()
            for sid, value in zip((s for s, w in zip(sids, whole.tolist()) if w), values):
                cache[t, sid] = value
        for sid, w in zip(sids, whole.tolist()):
            if not w:
                cache[t, sid] = self._sigma(t, sid)

    def _sigma(self, t: int, sid: int) -> float:
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

    def price_many(self, orders: DayOrders, deal: np.ndarray, qty: np.ndarray) -> np.ndarray:
        vol = orders.volume
        moves = ~(vol <= 0) & ~(qty <= 0)
        t = orders.t
        known = self._cache
        missing = [s for s, m in zip(orders.sid.tolist(), moves.tolist()) if m and (t, s) not in known]
        if missing:
            self.sigmas(t, missing)
        sigma = np.fromiter([(known[t, s] if (t, s) in known else self.sigma(t, s)) if m else 0.0
                             for s, m in zip(orders.sid.tolist(), moves.tolist())], dtype=np.float64, count=len(orders))
        with np.errstate(divide="ignore", invalid="ignore"):
            move = self.k * sigma * np.sqrt(qty * self.crowd / vol)
            moved = deal * (1.0 + orders.sign * move)
        return clamp_many(orders, np.where(moves, moved, deal), self.tick)
