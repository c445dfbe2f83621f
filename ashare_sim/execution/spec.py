"""Column lists of the output files (SPEC §4): the contract, in one place.

Writers, analyzers and the scoring pipeline all build their tables from these.
"""
from enum import StrEnum

EQUITY_COLUMNS = ["date", "value", "cash", "benchmark"]
ORDER_COLUMNS = ["date", "symbol", "side", "requested_qty", "filled_qty", "price", "status", "reason"]
TRADE_COLUMNS = ["date", "symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee", "slippage"]
HOLDING_COLUMNS = ["date", "symbol", "qty", "sellable_qty", "close", "value"]
TARGET_COLUMNS = ["rebalance_date", "symbol", "rank", "score", "weight"]


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


# The reasons of the contract (each gets a blocked_<reason> figure, zero or not), and the ones a retry
# can never cure.
SPEC_REASONS = tuple(r.value for r in Reason if r not in (Reason.NO_POSITION, Reason.UNFILLED))
PERMANENT_REASONS = frozenset({Reason.LOT_SIZE, Reason.DELISTED, Reason.NO_POSITION})
