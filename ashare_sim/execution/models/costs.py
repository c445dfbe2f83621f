"""Trading costs as a typed value: commission, stamp duty, transfer fee, slippage.

- `Commission(rate, min)`: rate x turnover, at least `min` CNY per order,
  charged once across the order's partial fills in the day:
  `charge(order_key, notional)` returns the increment for one fill, so the
  cumulative charge is max(rate x cumulative turnover, min). A retry on a
  later day is a new order (a new key).
- `StampDuty`: from the dated rules table by (day, side), or a config rate
  (sell side only).
- `TransferFee`: from the dated rules table by (day, exchange) as a rate of
  turnover plus CNY per share, or a config rate of turnover (both sides).
`CostModel.fill_costs(...) -> Costs`; `Costs.charged` is what leaves the cash
(slippage is already in the fill price and only shown).
"""
from __future__ import annotations

import datetime as dt

from ashare_sim.execution.orders import Costs, Side


class Commission:
    def __init__(self, rate: float, minimum: float):
        self.rate = float(rate)
        self.minimum = float(minimum)
        self._orders: dict[object, tuple[float, float]] = {}   # key -> (turnover, charged)

    def charge(self, order_key, notional: float) -> float:
        turnover, charged = self._orders.get(order_key, (0.0, 0.0))
        turnover += notional
        total = max(self.rate * turnover, self.minimum) if turnover > 0 else 0.0
        self._orders[order_key] = (turnover, total)
        return total - charged

    def preview(self, order_key, notional: float) -> float:
        """What `charge` would return, without recording it."""
        turnover, charged = self._orders.get(order_key, (0.0, 0.0))
        turnover += notional
        return (max(self.rate * turnover, self.minimum) if turnover > 0 else 0.0) - charged

    def end_day(self) -> None:
        self._orders.clear()


class StampDuty:
    def __init__(self, setting, rules):
        self.rules = rules
        self.rate = None if setting == "schedule" else float(setting)
        self._cache: dict[tuple, float] = {}

    def rate_for(self, day: dt.date, side: str) -> float:
        if self.rate is not None:
            return self.rate if side == Side.SELL else 0.0
        key = (day, side)
        r = self._cache.get(key)
        if r is None:
            r = self._cache[key] = self.rules.stamp_duty(day, side)
        return r

    def fee(self, day: dt.date, side: str, notional: float) -> float:
        return self.rate_for(day, side) * notional


class TransferFee:
    def __init__(self, setting, rules):
        self.rules = rules
        self.rate = None if setting == "schedule" else float(setting)
        self._cache: dict[tuple, tuple[float, float]] = {}

    def rates_for(self, day: dt.date, exchange: str) -> tuple[float, float]:
        """(rate of turnover, CNY per share)."""
        if self.rate is not None:
            return self.rate, 0.0
        key = (day, exchange)
        r = self._cache.get(key)
        if r is None:
            fee = self.rules.transfer_fee(day, exchange)
            r = self._cache[key] = (fee.rate, fee.per_share)
        return r

    def fee(self, day: dt.date, exchange: str, qty: int, notional: float) -> float:
        rate, per_share = self.rates_for(day, exchange)
        return rate * notional + per_share * qty


class CostModel:
    def __init__(self, commission: Commission, stamp_duty: StampDuty, transfer_fee: TransferFee):
        self.commission = commission
        self.stamp_duty = stamp_duty
        self.transfer_fee = transfer_fee

    @classmethod
    def from_config(cls, cfg_broker, rules) -> "CostModel":
        c = cfg_broker.commission
        return cls(Commission(c.rate, c.min), StampDuty(cfg_broker.stamp_duty, rules),
                   TransferFee(cfg_broker.transfer_fee, rules))

    def fill_costs(self, order_key, day: dt.date, side: str, exchange: str, qty: int, price: float,
                   deal: float) -> Costs:
        notional = qty * price
        return Costs(commission=self.commission.charge(order_key, notional),
                     stamp_duty=self.stamp_duty.fee(day, side, notional),
                     transfer_fee=self.transfer_fee.fee(day, exchange, qty, notional),
                     slippage=(price - deal) * qty * (1.0 if side == Side.BUY else -1.0))

    def affordable(self, order_key, day: dt.date, exchange: str, price: float, cash: float, lot) -> int:
        """Largest valid buy quantity (per `lot`) whose cost and fees fit in `cash`."""
        rate = self.commission.rate + self.stamp_duty.rate_for(day, Side.BUY)
        tf_rate, tf_share = self.transfer_fee.rates_for(day, exchange)
        unit = price * (1.0 + rate + tf_rate) + tf_share
        if unit <= 0:
            return 0
        qty = lot.round_down(cash / unit)
        while qty > 0:
            notional = qty * price
            total = (notional + self.commission.preview(order_key, notional)
                     + self.stamp_duty.fee(day, Side.BUY, notional) + self.transfer_fee.fee(day, exchange, qty, notional))
            if total <= cash + 1e-9:
                return qty
            qty = lot.round_down(qty - lot.step) if qty - lot.step >= lot.min else 0
        return 0

    def end_day(self) -> None:
        self.commission.end_day()
