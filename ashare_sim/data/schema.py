"""The market data directory's tables (docs/data.md): columns, kinds, which are required."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableSchema:
    name: str
    required: dict[str, str]                    # column -> kind: str | date | float
    optional: dict[str, str] = field(default_factory=dict)
    key: tuple[str, ...] = ()                   # columns unique together (optional ones only when present)
    required_table: bool = False

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}

    def key_in(self, columns) -> tuple[str, ...]:
        """The key columns present in `columns` (an optional key column counts only when given)."""
        have = set(columns)
        return tuple(c for c in self.key if c in self.required or c in have)


PRICE_FIELDS = ("open", "high", "low", "close")

# `st.kind` values. `delisting` is the delisting consolidation period (退市整理期): not investable like
# ST, but it trades under the board's ordinary price limit, not the ST one.
ST_KINDS = ("ST", "*ST", "delisting")

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
        # Several indices in one table: an optional `index` column names each one (the first in the
        # file is the run's `benchmark: table`); without it the table is one series.
        TableSchema("benchmark", required={"date": "date", "close": "float"}, optional={"index": "str"},
                    key=("index", "date")),
        # Dated industry classification (the instruments `industry` column is the latest label).
        TableSchema("industry_history", required={"symbol": "str", "start_date": "date"},
                    optional={"industry_code": "str", "industry": "str"}, key=("symbol", "start_date")),
    )
}

# Bar fields held as (dates x symbols) float32 panels in memory.
BAR_PANEL_FIELDS = ("open", "high", "low", "close", "pre_close", "volume", "amount", "adj_factor",
                    "total_shares", "float_shares", "high_limit", "low_limit")

# Inputs each factor of the scoring pipeline needs beyond bars: a table or a bar column. Kept with
# the schema so that what writes a data directory (the importers) can say what a gap switches off.

