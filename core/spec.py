"""Column lists of the output files (SPEC §4): the contract, in one place.

Writers, analyzers and the scoring pipeline all build their tables from these.
"""

EQUITY_COLUMNS = ["date", "value", "cash", "benchmark"]
ORDER_COLUMNS = ["date", "symbol", "side", "requested_qty", "filled_qty", "price", "status", "reason"]
TRADE_COLUMNS = ["date", "symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee", "slippage"]
HOLDING_COLUMNS = ["date", "symbol", "qty", "sellable_qty", "close", "value"]
TARGET_COLUMNS = ["rebalance_date", "symbol", "rank", "score", "weight"]
