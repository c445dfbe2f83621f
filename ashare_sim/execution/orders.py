"""Orders: sides, statuses and reason codes (each defined once), a request, its outcome, and the rows the
execution core logs (orders.csv, trades.csv, holdings.csv, equity.csv).

A request is a day order: it executes on one trading day at that day's deal price, and whatever is
not filled that day lapses (a retry on a later day is a new request with `attempt` + 1).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Mapping, NamedTuple


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


# The words fills exports and terminals write for a side (compared case-blind, spaces removed).
SIDE_WORDS = {"buy": ("buy", "b", "买", "买入", "证券买入"), "sell": ("sell", "s", "卖", "卖出", "证券卖出")}


def side_of(text: str, more: dict[str, tuple[str, ...]] | None = None) -> Side | None:
    """The side a fills file or a broker means by `text`; None when it names neither."""
    word = "".join(str(text).split()).lower()
    for side in Side:
        if word in SIDE_WORDS[side] or word in {w.lower() for w in (more or {}).get(side, ())}:
            return side
    return None


class Status(StrEnum):
    """The `status` column of orders.csv."""
    FILLED = "filled"
    PARTIAL = "partial"
    REJECTED = "rejected"


class Reason(StrEnum):
    """Why an order attempt was refused or cut: the `reason` column of orders.csv, defined once."""

    LIMIT_UP = "limit_up"
    LIMIT_DOWN = "limit_down"
    SUSPENDED = "suspended"
    T_PLUS_1 = "t_plus_1"
    LOT_SIZE = "lot_size"
    CASH = "cash"
    VOLUME_CAP = "volume_cap"
    DELISTED = "delisted"
    NO_POSITION = "no_position"          # a sell with nothing held
    UNFILLED = "unfilled"                # a paper broker (basket files) reported no fill for the rest


# The reasons of the output contract (each gets a blocked_<reason> figure, zero or not), and the ones a retry
# can never cure.
CONTRACT_REASONS = tuple(r.value for r in Reason if r not in (Reason.NO_POSITION, Reason.UNFILLED))
PERMANENT_REASONS = frozenset({Reason.LOT_SIZE, Reason.DELISTED, Reason.NO_POSITION})


# Columns of the output files the core's logs become (metrics and outputs build their tables from these).
EQUITY_COLUMNS = ["date", "value", "cash", "benchmark"]
ORDER_COLUMNS = ["date", "symbol", "side", "requested_qty", "filled_qty", "price", "status", "reason"]
TRADE_COLUMNS = ["date", "symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee", "slippage"]
HOLDING_COLUMNS = ["date", "symbol", "qty", "sellable_qty", "close", "value"]

FILLED, PARTIAL, REJECTED = Status.FILLED, Status.PARTIAL, Status.REJECTED

# The fees a fill charges on top of qty x price, each a column of trades.csv (slippage is inside the price).
FEE_KINDS = ("commission", "stamp_duty", "transfer_fee")


def fees_of(row) -> float:
    """The fees charged: commission + stamp duty + transfer fee of a Costs, a TradeRow or a mapping."""
    get = row.__getitem__ if isinstance(row, Mapping) else (lambda k: getattr(row, k))
    total = 0.0
    for kind in FEE_KINDS:
        total += get(kind)
    return total


@dataclass(frozen=True, slots=True)
class Costs:
    """What one fill cost, by kind (trades.csv); `charged` is what leaves the cash."""
    commission: float = 0.0
    stamp_duty: float = 0.0
    transfer_fee: float = 0.0
    slippage: float = 0.0            # CNY the fill price cost against the deal price: > 0 a cost, < 0 a gain
                                     # (inside the fill price: shown, not charged again)

    @property
    def charged(self) -> float:
        return fees_charged(self.commission, self.stamp_duty, self.transfer_fee)


def fees_charged(commission, stamp_duty, transfer_fee):
    """What a fill's fees take from the cash: fees_of's sum in FEE_KINDS order, spelt out (it runs for every
    fill), for one fill's floats or a day's arrays alike (the same sum, to the bit)."""
    return 0.0 + commission + stamp_duty + transfer_fee


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


class OrderRow(NamedTuple):
    """A row of orders.csv. Log rows are tuples: a busy stress scenario logs hundreds of thousands, and its
    tables are built by transposing them."""
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


class TradeRow(NamedTuple):
    """A row of trades.csv (a tuple, as `OrderRow`)."""
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

    @property
    def fees(self) -> float:
        return fees_of(self)


@dataclass
class DayEvents:
    """What happened before a day's trading: delisted holdings settled, dividends and bonus shares."""
    settlements: list = field(default_factory=list)     # corporate_actions.Settlement
    entitlements: list = field(default_factory=list)    # corporate_actions.Entitlement
