"""Corporate actions on raw prices, and delisting settlement.

One registered class per source of events, each `entitlements(t, held) -> list[Entitlement]`
(or `settlements` for delisting), applied by the execution core before the day's trading:

- `DividendTable`: the market's `dividends` table. Holders at the close before
  `ex_date` receive `cash_per_share x qty` (less dividend tax by holding period
  when `broker.dividend_tax` is on; rates from the rules table, holding period
  counted in calendar days from when the position was opened) and
  `bonus_per_share x qty` new shares (rounded down to whole shares; the
  fraction is paid in cash at the ex-date reference price), sellable the next
  trading day. An ex_date that is not a trading day applies on the next one.
- `AdjFactorShares`: no `dividends` table. A rise of the cumulative backward
  `adj_factor` between a held stock's bars is turned into extra shares
  (qty x adj[t] / adj[prev] - qty, whole shares, the fraction in cash at the
  ex-date pre_close): a total-return adjustment; the log says it was inferred.
- `DelistingSettlement`: a position still held after the stock's last listed
  day is settled at its last close x (1 - `broker.delist_haircut`), and
  reported as a trade.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from loguru import logger

from ashare_sim.common.registry import Registry
from ashare_sim.common.text import pct_text
from ashare_sim.common.typed import Section, key
from ashare_sim.execution.context import market_lookups
from ashare_sim.execution.models.base import ExecutionModel

CORPORATE_ACTIONS = Registry("corporate action model", "", "broker")


@dataclass(frozen=True, slots=True)
class Entitlement:
    sid: int
    cash: float            # CNY credited, after tax
    tax: float             # CNY withheld
    shares: int            # new shares (not sellable until the next trading day)


@dataclass(frozen=True, slots=True)
class Settlement:
    sid: int
    qty: int
    price: float           # CNY per share paid out


@dataclass(frozen=True)
class _DividendTax(Section):
    dividend_tax: bool = key(True, "withhold dividend tax by holding period")


@CORPORATE_ACTIONS.register
class DividendTable(ExecutionModel):
    name = "dividends"
    description = "cash dividends (less dividend tax by holding period) and bonus shares on their ex-dates"
    Params = _DividendTax

    @classmethod
    def build(cls, params, env):
        return cls(params, env) if env.market.dividends is not None else None

    @classmethod
    def describe(cls, params, rules) -> str:
        if not params.dividend_tax:
            return "off (dividends paid gross)"
        today = [r for r in rules.schedule_rows("dividend_tax") if r.end >= dt.date(2999, 1, 1)]
        today.sort(key=lambda r: r.values.get("max_days", float("inf")))
        parts = [(f"{pct_text(float(r.values['rate']), 0)} held <= {r.values['max_days']} days"
                  if "max_days" in r.values else f"{pct_text(float(r.values['rate']), 0)} after") for r in today]
        return "withheld by holding period (" + ", ".join(parts) + ")"

    def __init__(self, params, env):
        super().__init__(params, env)
        market = env.market
        self.market = market
        self.tax = params.dividend_tax
        # Read-only after building: kept with the market for every scenario of a grid.
        self._events = market.memo("dividend_events_by_day", lambda: _events_by_day(market))

    def entitlements(self, t: int, held: dict) -> list[Entitlement]:
        events = self._events.get(t)
        if not events:
            return []
        out = []
        day = self.market.date_at(t)
        for sid, cash_ps, bonus_ps in events:
            h = held.get(sid)
            if h is None or h.qty <= 0:
                continue
            gross = cash_ps * h.qty
            tax = 0.0
            if self.tax and gross > 0:
                tax = gross * self.market.rules.dividend_tax(day, (day - h.opened).days)
            new = bonus_ps * h.qty
            whole = int(math.floor(new + 1e-6))
            frac_cash = (new - whole) * _ref_price(self.market, t, sid)
            out.append(Entitlement(sid, gross - tax + frac_cash, tax, whole))
        return out


@CORPORATE_ACTIONS.register
class AdjFactorShares(ExecutionModel):
    name = "adj_factor_shares"
    description = ("without a dividends table: a rise of adj_factor between a held stock's bars becomes extra "
                   "shares (total return, no dividend tax)")
    Params = _DividendTax

    @classmethod
    def build(cls, params, env):
        return cls(params, env) if env.market.dividends is None else None

    def __init__(self, params, env):
        super().__init__(params, env)
        market = env.market
        self.market = market
        self.used = False
        self._adj = market.panels["adj_factor"]
        self._last = np.full(market.n_symbols, np.nan)      # last adj_factor seen per symbol while held

    def entitlements(self, t: int, held: dict) -> list[Entitlement]:
        if not held:
            return []
        sids = np.fromiter(held.keys(), dtype=np.int64, count=len(held))
        a1 = self._adj[t, sids].astype(np.float64)
        a0 = self._last[sids]
        for k in np.flatnonzero(np.isnan(a0)):           # newly held: the last bar before today
            sid = sids[k]
            bars = np.flatnonzero(self.market.has_bar[:t, sid] & ~np.isnan(self.market.panels["close"][:t, sid]))
            if len(bars):
                a0[k] = self._adj[bars[-1], sid]
        ok = ~np.isnan(a1)
        self._last[sids[ok]] = a1[ok]
        with np.errstate(invalid="ignore"):
            events = np.flatnonzero(ok & (a0 > 0) & (a1 > a0 * (1 + 1e-6)))
        out = []
        for k in events:
            sid = int(sids[k])
            h = held[sid]
            new = h.qty * (a1[k] / a0[k]) - h.qty
            whole = int(math.floor(new + 1e-6))
            cash = (new - whole) * _ref_price(self.market, t, sid)
            if not self.used:
                logger.info("no dividends table: corporate actions inferred from adj_factor "
                            "(held shares scaled by the adj_factor ratio on ex-dates; total return)")
                self.used = True
            out.append(Entitlement(sid, cash, 0.0, whole))
        return out

    def forget(self, sid: int) -> None:
        """The position was closed: start afresh when it is bought again."""
        self._last[sid] = np.nan


@CORPORATE_ACTIONS.register
class DelistingSettlement(ExecutionModel):
    name = "delisting"
    description = "a holding past its stock's last listed day is settled at the last close less a haircut"

    @dataclass(frozen=True)
    class Params(Section):
        delist_haircut: float = key(0.0, "fraction lost when settling a delisted holding", ge=0, le=1)

    @classmethod
    def describe(cls, params, rules) -> str:
        return f"holdings settled at the last close less {pct_text(params.delist_haircut, 1)}"

    def __init__(self, params, env):
        super().__init__(params, env)
        self.market = env.market
        self.haircut = float(params.delist_haircut)
        self._last_day = market_lookups(env.market).delist_index     # asked of every holding every day

    def settlements(self, t: int, held: dict) -> list[Settlement]:
        out = []
        last_day = self._last_day
        for sid, h in held.items():
            if h.qty > 0 and t > last_day[sid]:
                last = float(self.market.value_close[min(t, self.market.delist_index[sid]), sid])
                if math.isnan(last):
                    last = 0.0
                out.append(Settlement(sid, h.qty, last * (1.0 - self.haircut)))
        return out


def _events_by_day(market) -> dict[int, list[tuple[int, float, float]]]:
    """Calendar index -> (sid, cash per share, bonus shares per share) of the dividends table."""
    events: dict[int, list[tuple[int, float, float]]] = {}
    div = market.dividends
    if div is None or not len(div):
        return events
    ex = div["ex_date"].to_numpy().astype("datetime64[D]")
    t_idx = np.searchsorted(market.dates, ex, side="left")
    for t, sid, cash, bonus in zip(t_idx, div["sid"].to_numpy(), div["cash_per_share"].to_numpy(dtype=float),
                                   div["bonus_per_share"].to_numpy(dtype=float)):
        if t < len(market.dates) and (cash > 0 or bonus > 0):
            events.setdefault(int(t), []).append((int(sid), float(cash), float(bonus)))
    return events


def _ref_price(market, t: int, sid: int) -> float:
    pc = float(market.panels["pre_close"][t, sid])
    if math.isnan(pc):
        pc = float(market.last_close[max(t - 1, 0), sid])
    return 0.0 if math.isnan(pc) else pc

