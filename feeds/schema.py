"""The market data directory's tables (SPEC §2): columns, kinds, which are required."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableSchema:
    name: str
    required: dict[str, str]                    # column -> kind: str | date | float
    optional: dict[str, str] = field(default_factory=dict)
    key: tuple[str, ...] = ()                   # columns unique together
    required_table: bool = False

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}


PRICE_FIELDS = ("open", "high", "low", "close")

SCHEMAS: dict[str, TableSchema] = {
    s.name: s
    for s in (
        TableSchema(
            "instruments",
            required={"symbol": "str", "name": "str", "list_date": "date"},
            optional={"industry": "str", "board": "str", "delist_date": "date"},
            key=("symbol",), required_table=True,
        ),
        TableSchema(
            "bars",
            required={"date": "date", "symbol": "str", "open": "float", "high": "float", "low": "float",
                      "close": "float", "volume": "float"},
            optional={"pre_close": "float", "amount": "float", "adj_factor": "float", "total_shares": "float",
                      "float_shares": "float", "high_limit": "float", "low_limit": "float"},
            key=("date", "symbol"), required_table=True,
        ),
        TableSchema("calendar", required={"date": "date"}, key=("date",)),
        TableSchema("st", required={"symbol": "str", "start_date": "date"},
                    optional={"end_date": "date", "kind": "str"}),
        TableSchema("fundamentals",
                    required={"symbol": "str", "period_end": "date", "ann_date": "date",
                              "total_equity": "float", "net_profit": "float"},
                    optional={"revenue": "float"}, key=("symbol", "period_end", "ann_date")),
        TableSchema("dividends",
                    required={"symbol": "str", "ex_date": "date"},
                    optional={"cash_per_share": "float", "bonus_per_share": "float"},
                    key=("symbol", "ex_date")),
        TableSchema("benchmark", required={"date": "date", "close": "float"}, key=("date",)),
    )
}

# Bar fields held as (dates x symbols) float32 panels in memory.
BAR_PANEL_FIELDS = ("open", "high", "low", "close", "pre_close", "volume", "amount", "adj_factor",
                    "total_shares", "float_shares", "high_limit", "low_limit")
