"""Tables already shaped like ours (the companion files of ../shared/real and hand-made ones):

    st                symbol, start_date[, end_date, kind, name]
    shares            symbol, date, total_shares[, float_shares]        (change points, shares)
    amount            symbol, date, amount                              (CNY)
    listing           symbol, list_date[, delist_date]
    instruments       symbol, name[, industry, list_date, delist_date]
    fundamentals      symbol, period_end, ann_date, net_profit[, total_equity, revenue]
    dividends         symbol, ex_date[, cash_per_share, bonus_per_share]
    benchmark         date, close[, index]
    industry_history  symbol, start_date[, industry_code, industry]

Symbols in any spelling rules.symbols knows; dates as in data.importers.common.dates. The kind comes from
the companion it is given for (`--st table:FILE`), or the option kind=...
"""
from __future__ import annotations

from pathlib import Path

from ashare_sim.common.errors import UserError
from ashare_sim.data.importers.base import IMPORTERS, Importer, ImportLog, Tables
from ashare_sim.data.importers.common.files import (
    Col,
    drop_exact_duplicates,
    read_mapped,
    table_files,
)

S, D, T = "symbol", "date", "text"
SHAPES: dict[str, tuple[list[Col], list[str]]] = {
    "st": ([Col.of("symbol", kind=S), Col.of("start_date", kind=D), Col.of("end_date", kind=D, required=False),
            Col.of("kind", kind=T, required=False), Col.of("name", kind=T, required=False)],
           ["symbol", "start_date"]),
    "shares": ([Col.of("symbol", kind=S), Col.of("date", kind=D), Col.of("total_shares"),
                Col.of("float_shares", required=False)], ["symbol", "date"]),
    "amount": ([Col.of("symbol", kind=S), Col.of("date", kind=D), Col.of("amount")], ["symbol", "date"]),
    "listing": ([Col.of("symbol", kind=S), Col.of("list_date", kind=D),
                 Col.of("delist_date", kind=D, required=False)], ["symbol"]),
    "instruments": ([Col.of("symbol", kind=S), Col.of("name", kind=T), Col.of("industry", kind=T, required=False),
                     Col.of("list_date", kind=D, required=False), Col.of("delist_date", kind=D, required=False)],
                    ["symbol"]),
    "fundamentals": ([Col.of("symbol", kind=S), Col.of("period_end", kind=D),
                      Col.of("ann_date", kind=D, required=False), Col.of("net_profit"),
                      Col.of("total_equity", required=False), Col.of("revenue", required=False)],
                     ["symbol", "period_end", "ann_date"]),
    "dividends": ([Col.of("symbol", kind=S), Col.of("ex_date", kind=D), Col.of("cash_per_share", required=False),
                   Col.of("bonus_per_share", required=False)], ["symbol", "ex_date"]),
    "benchmark": ([Col.of("date", kind=D), Col.of("close"), Col.of("index", kind=T, required=False)],
                  ["index", "date"]),
    "industry_history": ([Col.of("symbol", kind=S), Col.of("start_date", kind=D),
                          Col.of("industry_code", kind=T, required=False), Col.of("industry", kind=T, required=False)],
                         ["symbol", "start_date"]),
}


@IMPORTERS.register
class TableImporter(Importer):
    name = "table"
    description = "any table already in this simulator's column names (CSV or Parquet)"
    gives = tuple(SHAPES)
    options = {"kind": f"which table the file holds: {', '.join(SHAPES)} (set from the companion flag)"}
    expects = "a CSV / Parquet file with our column names"

    def read(self, path: Path, log: ImportLog) -> Tables:
        kind = self.option("kind")
        if kind not in SHAPES:
            raise UserError(f"source 'table' {path}: say which table it holds (kind: {', '.join(SHAPES)})")
        cols, key = SHAPES[kind]
        frames = []
        for f in table_files(path, f"{kind} table"):
            df = read_mapped(f, cols, f"table ({kind})")
            frames.append(drop_exact_duplicates(df, [k for k in key if k in df.columns], str(f), log, kind))
        import pandas as pd

        return {kind: pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]}
