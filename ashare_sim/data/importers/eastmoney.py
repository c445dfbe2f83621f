"""EastMoney financial statements, year to date, point in time.

Raw datacenter fields (one or several files, e.g. income and balance sheet exports):
    SECUCODE 600000.SH, REPORT_DATE, NOTICE_DATE, UPDATE_DATE, PARENT_NETPROFIT, TOTAL_PARENT_EQUITY,
    OPERATE_INCOME, SHARE_CAPITAL (CNY; shares)
or the flattened table (symbol, period_end, ann_date, net_profit_parent_ytd, total_equity_parent,
revenue_ytd, share_capital, ...).

ann_date is the first disclosure: per file the earliest NOTICE_DATE of a period (its latest
UPDATE_DATE among equal ones); across statements the later of them, because a row is usable only
once all its figures are public. Gives fundamentals and share-count change points (SHARE_CAPITAL as
of ann_date; float shares unknown there).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ashare_sim.data.importers.base import IMPORTERS, Importer, ImportLog, Tables
from ashare_sim.data.importers.common.files import (
    Col,
    drop_exact_duplicates,
    header_of,
    read_mapped,
    table_files,
)
from ashare_sim.data.importers.common.shares import points_at_announcement
from ashare_sim.data.importers.common.statements import (
    VALUES,
    first_disclosure,
    side_by_side,
)
from ashare_sim.data.importers.common.units import EastMoney

RAW = [Col.of("symbol", "SECUCODE", kind="symbol"), Col.of("period_end", "REPORT_DATE", kind="date"),
       Col.of("ann_date", "NOTICE_DATE", kind="date", required=False),
       Col.of("update_date", "UPDATE_DATE", kind="date", required=False),
       Col.of("net_profit", "PARENT_NETPROFIT", unit=EastMoney.VALUE, required=False),
       Col.of("total_equity", "TOTAL_PARENT_EQUITY", unit=EastMoney.VALUE, required=False),
       Col.of("revenue", "OPERATE_INCOME", unit=EastMoney.VALUE, required=False),
       Col.of("share_capital", "SHARE_CAPITAL", unit=EastMoney.SHARE, required=False)]
FLAT = [Col.of("symbol", kind="symbol"), Col.of("period_end", kind="date"),
        Col.of("ann_date", kind="date", required=False),
        Col.of("net_profit", "net_profit_parent_ytd"), Col.of("total_equity", "total_equity_parent", required=False),
        Col.of("revenue", "revenue_ytd", required=False), Col.of("share_capital", required=False)]


@IMPORTERS.register
class EastMoneyImporter(Importer):
    name = "eastmoney"
    description = "East Money (东方财富) financial statement exports: fundamentals and share counts"
    gives = ("fundamentals", "shares")
    expects = "SECUCODE REPORT_DATE NOTICE_DATE ... PARENT_NETPROFIT TOTAL_PARENT_EQUITY (or the flattened table)"

    def read(self, path: Path, log: ImportLog) -> Tables:
        frames = []
        for f in table_files(path, "EastMoney statements"):
            raw = "SECUCODE" in header_of(f, ["SECUCODE", "symbol"])
            df = read_mapped(f, RAW if raw else FLAT, "eastmoney")
            if raw:
                df = first_disclosure(df, str(f), log, revision="update_date")
            else:
                df = drop_exact_duplicates(df, ["symbol", "period_end", "ann_date"], str(f), log, "statements")
            frames.append(df)
        df = side_by_side(frames)
        for c in VALUES:
            if c not in df.columns:
                df[c] = np.nan
        fundamentals = df[["symbol", "period_end", "ann_date", "total_equity", "net_profit", "revenue"]]
        return {"fundamentals": fundamentals.reset_index(drop=True),
                "shares": points_at_announcement(df, "share_capital")}
