"""Trading costs: one registered class per fee, each the column of trades.csv it fills.

- `commission` (broker.commission: rate, min): rate x turnover, at least `min` CNY per order, charged
  once across the order's partial fills in the day: `fee` returns the increment for one fill, so the
  cumulative charge is max(rate x cumulative turnover, min). A retry on a later day is a new order.
- `stamp_duty` (broker.stamp_duty): from the dated rules table by (day, side), or a config rate (sells).
- `transfer_fee` (broker.transfer_fee): from the dated rules table by (day, exchange) as a rate of
  turnover plus CNY per share, or a config rate of turnover (both sides).

`CostModel` runs them all: `fill_costs(...) -> Costs` (`Costs.charged` is what leaves the cash; slippage
is already in the fill price and only shown) and `affordable(...)`, the largest buy the cash covers.
`fees_many(...)` gives each fee of a day's fills at once, number for number what `fee` gives one by one;
`charged_many(...)` then records them (the commission minimum is per order and day).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Sequence, Union

import numpy as np

from ashare_sim.common.registry import Registry
from ashare_sim.common.text import pct_text
from ashare_sim.common.typed import Section, key
from ashare_sim.execution.models.base import Env, ExecutionModel, build_all
from ashare_sim.execution.orders import FEE_KINDS, Costs, Side

COSTS = Registry("trading cost", "", "broker")
FAR_PAST, FAR_FUTURE, THIS_CENTURY = dt.date(1900, 1, 1), dt.date(2999, 12, 31), dt.date(2000, 1, 1)


class Fee(ExecutionModel):
    """One fee of a fill; `name` is its column in trades.csv."""

    def rates(self, day: dt.date, side: str, exchange: str) -> tuple[float, float]:
        """(fraction of turnover, CNY per share) before any per-order minimum."""
        raise NotImplementedError

    def fee(self, order_key, day: dt.date, side: str, exchange: str, qty: int, notional: float,
            preview: bool = False) -> float:
        rate, per_share = self.rates(day, side, exchange)
        return rate * notional + per_share * qty

    def fee_many(self, keys: Sequence, day: dt.date, is_buy: np.ndarray, exchanges: Sequence[str], qty: np.ndarray,
                 notional: np.ndarray) -> np.ndarray:
        """`fee` of each of a day's fills (nothing recorded: `charged_many` does that for the fills made)."""
        pairs = list(zip(is_buy.tolist(), exchanges))
        rates = {(buy, exchange): self.rates(day, Side.BUY if buy else Side.SELL, exchange)
                 for buy, exchange in set(pairs)}
        each = [rates[p] for p in pairs]
        rate = np.fromiter([r[0] for r in each], dtype=np.float64, count=len(each))
        per_share = np.fromiter([r[1] for r in each], dtype=np.float64, count=len(each))
        return rate * notional + per_share * qty

    def charged_many(self, keys: Sequence, notional: Sequence[float]) -> None:
        """Fills of `fee_many`'s orders made: what a per-order charge remembers of them (nothing here)."""

    def end_day(self) -> None:
        """A new trading day (per-order minimums start again)."""


@COSTS.register
class Commission(Fee):
    name = "commission"
    description = "the broker's commission: a rate of turnover with a minimum per order"
    subsection = "commission"

    @dataclass(frozen=True)
    class Params(Section):
        rate: float = key(0.0003, "fraction of turnover", ge=0, lt=0.01)
        min: float = key(5.0, "CNY per order, charged once per order", ge=0)

    @classmethod
    def describe(cls, params, rules) -> str:
        return f"{pct_text(params.rate, 4)} a side, minimum {params.min:g} CNY per order"

    def __init__(self, params, env=None):
        super().__init__(params, env)
        self.rate = float(params.rate)
        self.minimum = float(params.min)
        self._orders: dict[object, tuple[float, float]] = {}   # key -> (turnover, charged)

    def rates(self, day, side, exchange) -> tuple[float, float]:
        return self.rate, 0.0

    def fee(self, order_key, day, side, exchange, qty, notional, preview=False) -> float:
        turnover, charged = self._orders.get(order_key, (0.0, 0.0))
        turnover += notional
        total = max(self.rate * turnover, self.minimum) if turnover > 0 else 0.0
        if not preview:
            self._orders[order_key] = (turnover, total)
        return total - charged

    def fee_many(self, keys, day, is_buy, exchanges, qty, notional) -> np.ndarray:
        if not self._orders:            # no order charged yet today: turnover 0.0 + notional, charged 0.0
            return np.where(notional > 0, np.where(self.minimum > self.rate * notional, self.minimum,
                                                   self.rate * notional), 0.0)
        before = [self._orders.get(k, (0.0, 0.0)) for k in keys]
        turnover = np.fromiter((b[0] for b in before), dtype=np.float64, count=len(keys)) + notional
        charged = np.fromiter((b[1] for b in before), dtype=np.float64, count=len(keys))
        total = np.where(turnover > 0, np.where(self.minimum > self.rate * turnover, self.minimum,
                                                self.rate * turnover), 0.0)
        return total - charged

    def charged_many(self, keys, notional) -> None:
        orders = self._orders
        for k, amount in zip(keys, notional):
            turnover, _ = orders.get(k, (0.0, 0.0))
            turnover += amount
            orders[k] = (turnover, max(self.rate * turnover, self.minimum) if turnover > 0 else 0.0)

    def end_day(self) -> None:
        self._orders.clear()


class DatedFee(Fee):
    """A fee from the dated rules table (`schedule`), or a flat rate of turnover given in the config."""
    side_only: str | None = None          # the side a flat rate applies to (None: both)

    def __init__(self, params, env):
        super().__init__(params, env)
        self.rules = env.rules
        setting = getattr(params, self.name)
        self.rate = None if setting == "schedule" else float(setting)
        self._cache: dict[tuple, tuple[float, float]] = {}

    def rates(self, day, side, exchange) -> tuple[float, float]:
        if self.rate is not None:
            return (self.rate if self.side_only in (None, side) else 0.0), 0.0
        k = (day, side, exchange)
        r = self._cache.get(k)
        if r is None:
            r = self._cache[k] = self.scheduled(day, side, exchange)
        return r

    def scheduled(self, day, side, exchange) -> tuple[float, float]:
        raise NotImplementedError


@COSTS.register
class StampDuty(DatedFee):
    name = "stamp_duty"
    description = "stamp duty on sells, at the dated rate of the rules table (or a flat rate)"
    side_only = Side.SELL

    @dataclass(frozen=True)
    class Params(Section):
        stamp_duty: Union[Literal["schedule"], float] = key("schedule", "schedule or a rate", ge=0, lt=0.01)

    @classmethod
    def describe(cls, params, rules) -> str:
        if params.stamp_duty != "schedule":
            return f"{pct_text(float(params.stamp_duty))} of sells"
        rows = [(r.start, r.end, float(r.values["rate"])) for r in rules.schedule_rows("stamp_duty")
                if r.match.get("side") == Side.SELL]
        return f"sells, dated table ({dated_text(rows)})"

    def scheduled(self, day, side, exchange) -> tuple[float, float]:
        return self.rules.stamp_duty(day, side), 0.0


@COSTS.register
class TransferFee(DatedFee):
    name = "transfer_fee"
    description = "the exchanges' transfer fee, at the dated rates of the rules table (or a flat rate)"

    @dataclass(frozen=True)
    class Params(Section):
        transfer_fee: Union[Literal["schedule"], float] = key("schedule", "schedule or a rate", ge=0, lt=0.01)

    @classmethod
    def describe(cls, params, rules) -> str:
        if params.transfer_fee != "schedule":
            return f"{pct_text(float(params.transfer_fee), 4)} of turnover, both sides"
        rows = rules.schedule_rows("transfer_fee")
        rates = [(r.start, r.end, float(r.values["rate"])) for r in rows
                 if r.match.get("exchange") == "SH" and "rate" in r.values]
        per_share = [(r.start, r.end, float(r.values["per_share"])) for r in rows
                     if r.match.get("exchange") == "SH" and "per_share" in r.values]
        text = f"both sides, dated table (SH/SZ {dated_text(rates, lambda x: pct_text(x, 4))}"
        if per_share:
            text += f"; SH {dated_text(per_share, lambda x: f'{x:g} CNY per share')}"
        return text + ")"

    def scheduled(self, day, side, exchange) -> tuple[float, float]:
        fee = self.rules.transfer_fee(day, exchange)
        return fee.rate, fee.per_share


def dated_text(rows: list[tuple[dt.date, dt.date, float]], unit=pct_text) -> str:
    """'0.1% to <date>, 0.05% from <date>' for the rows that reach into this century."""
    parts = []
    for start, end, rate in rows:
        if end < THIS_CENTURY:
            continue
        if start <= FAR_PAST and end >= FAR_FUTURE:
            parts.append(unit(rate))
        elif start <= FAR_PAST:
            parts.append(f"{unit(rate)} to {end}")
        elif end >= FAR_FUTURE:
            parts.append(f"{unit(rate)} from {start}")
        else:
            parts.append(f"{unit(rate)} {start}..{end}")
    return ", ".join(parts)


class CostModel:
    """Every fee of `COSTS`, applied to one fill at a time."""

    def __init__(self, fees: list[Fee]):
        self.fees = fees
        unknown = [f.name for f in fees if f.name not in FEE_KINDS]
        if unknown:
            raise ValueError(f"fees {unknown} are not columns of trades.csv ({', '.join(FEE_KINDS)})")
        self._columns = [FEE_KINDS.index(f.name) for f in fees]      # each fee's place in Costs
        self._rates: dict[tuple, tuple[float, float]] = {}            # (day, exchange) -> a buy's summed rates

    @classmethod
    def from_config(cls, broker, env: Env) -> "CostModel":
        return cls(build_all(COSTS, broker, env))

    def fill_costs(self, order_key, day: dt.date, side: str, exchange: str, qty: int, price: float,
                   deal: float) -> Costs:
        notional = qty * price
        fees = [0.0, 0.0, 0.0]
        for f, column in zip(self.fees, self._columns):
            fees[column] = f.fee(order_key, day, side, exchange, qty, notional)
        return Costs(fees[0], fees[1], fees[2], (price - deal) * qty * (1.0 if side == Side.BUY else -1.0))

    def fees_many(self, keys: Sequence, day: dt.date, is_buy: np.ndarray, exchanges: Sequence[str], qty: np.ndarray,
                  price: np.ndarray, deal: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
        """For a day's fills of `qty` at `price`, as `fill_costs` and `total` give them one by one: (notional,
        the total a buy takes from the cash, each fee kind in `FEE_KINDS` order, the slippage cost); nothing
        recorded."""
        notional = qty * price
        total = notional
        columns = [np.zeros(len(qty))] * len(FEE_KINDS)
        for f, column in zip(self.fees, self._columns):
            fee = f.fee_many(keys, day, is_buy, exchanges, qty, notional)
            total = total + fee
            columns[column] = fee
        return notional, total, columns, (price - deal) * qty * np.where(is_buy, 1.0, -1.0)

    def charged_many(self, keys: Sequence, notional: Sequence[float]) -> None:
        """Record fills `fees_many` priced (the fees that remember an order's charges)."""
        for f in self.fees:
            f.charged_many(keys, notional)

    def buy_rates(self, day: dt.date, exchange: str) -> tuple[float, float]:
        """A buy's fees summed: (fraction of turnover, CNY per share), before any per-order minimum."""
        rates = self._rates.get((day, exchange))
        if rates is None:
            if len(self._rates) > 100_000:
                self._rates.clear()
            rate, per_share = 0.0, 0.0
            for f in self.fees:
                r, s = f.rates(day, Side.BUY, exchange)
                rate, per_share = rate + r, per_share + s
            rates = self._rates[(day, exchange)] = (rate, per_share)
        return rates

    def unit_cost(self, day: dt.date, exchange: str, price: float) -> float:
        """What a bought share takes from the cash, its fees included, before any per-order minimum."""
        rate, per_share = self.buy_rates(day, exchange)
        return price * (1.0 + rate) + per_share

    def unit_cost_many(self, day: dt.date, exchanges: Sequence[str], price: np.ndarray) -> np.ndarray:
        """`unit_cost` of each of a day's buys, to the bit."""
        rates = {e: self.buy_rates(day, e) for e in set(exchanges)}
        rate = np.array([rates[e][0] for e in exchanges], dtype=np.float64)
        per_share = np.array([rates[e][1] for e in exchanges], dtype=np.float64)
        return price * (1.0 + rate) + per_share

    def total(self, order_key, day: dt.date, side: str, exchange: str, qty: int, price: float) -> float:
        """What a buy of `qty` at `price` would take from the cash, fees included (nothing recorded)."""
        notional = qty * price
        total = notional
        for f in self.fees:
            total += f.fee(order_key, day, side, exchange, qty, notional, preview=True)
        return total

    def affordable(self, order_key, day: dt.date, exchange: str, price: float, cash: float, lot) -> int:
        """Largest valid buy quantity (per `lot`) whose cost and fees fit in `cash`."""
        unit = self.unit_cost(day, exchange, price)
        if unit <= 0:
            return 0
        qty = lot.round_down(cash / unit)
        while qty > 0:
            if self.total(order_key, day, Side.BUY, exchange, qty, price) <= cash + 1e-9:
                return qty
            qty = lot.round_down(qty - lot.step) if qty - lot.step >= lot.min else 0
        return 0

    def end_day(self) -> None:
        for f in self.fees:
            f.end_day()
