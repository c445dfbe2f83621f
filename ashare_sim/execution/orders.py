"""An order request, its outcome, and the rows the execution core logs (orders.csv, trades.csv).

A request is a day order: it executes on one trading day at that day's deal price, and whatever is
not filled that day lapses (a retry on a later day is a new request with `attempt` + 1).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from ashare_sim.execution.models.costs import Costs

FILLED, PARTIAL, REJECTED = "filled", "partial", "rejected"


@dataclass(slots=True)
class OrderRequest:
    sid: int
    symbol: str
    side: str                              # buy | sell
    qty: int                               # shares requested
    rebalance: dt.date | None = None       # the rebalance this order serves (None: not from a plan)
    attempt: int = 0                       # 0 = first attempt, 1.. = retries on later days
    key: object = None                     # the order's identity for the per-order commission minimum


@dataclass(slots=True)
class Fill:
    qty: int
    price: float                           # after slippage, on the tick
    deal: float                            # the deal price before slippage
    costs: Costs
    participation: float                   # qty / the day's volume
    size_after: int = 0                    # the position after this fill
    cost_after: float = 0.0                # its average cost after
    cost_before: float = 0.0               # its average cost before
    opened: int = 0                        # shares of the fill that opened / increased (signed)
    closed: int = 0                        # shares that closed / reduced (signed)


@dataclass(slots=True)
class OrderOutcome:
    request: OrderRequest
    status: str                            # filled | partial | rejected
    reason: str                            # empty when filled
    fill: Fill | None = None

    @property
    def filled_qty(self) -> int:
        return self.fill.qty if self.fill else 0

    @property
    def price(self) -> float:
        return self.fill.price if self.fill else math.nan


@dataclass
class OrderRow:
    date: dt.date
    symbol: str
    side: str
    requested_qty: int
    filled_qty: int
    price: float
    status: str                           # filled | partial | rejected
    reason: str
    rebalance_date: dt.date | None = None  # the rebalance this attempt serves (None: not from a plan)
    attempt: int = 0                      # 0 = first attempt, 1.. = retries on later days
    ref: int = 0


@dataclass
class TradeRow:
    date: dt.date
    symbol: str
    side: str
    qty: int
    price: float
    commission: float
    stamp_duty: float
    transfer_fee: float
    slippage: float
    kind: str = "fill"                    # fill | delist
    participation: float = float("nan")   # qty / the day's volume (NaN for settlements)
    ref: int = 0


@dataclass
class DayEvents:
    """What happened before a day's trading: delisted holdings settled, dividends and bonus shares."""
    settlements: list = field(default_factory=list)     # corporate_actions.Settlement
    entitlements: list = field(default_factory=list)    # corporate_actions.Entitlement
