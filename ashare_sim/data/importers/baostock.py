"""BaoStock query results saved to CSV (every field a string), one or many files, recognised by columns:

    query_history_k_data_plus   date, code sh.600000, open, high, low, close, preclose, volume (shares),
                                amount (CNY), adjustflag (must be 3 = raw), turn, tradestatus (1 / 0), isST
    query_profit_data           code, pubDate, statDate, netProfit (YTD), MBRevenue, totalShare, liqaShare
    query_stock_basic           code, code_name, ipoDate, outDate

Gives bars (suspended rows left out; adj_factor from preclose), ST spells from isST (kind ST: BaoStock
does not tell ST from *ST), fundamentals (no equity in BaoStock's profit data) and share-count change
points from totalShare / liqaShare as of pubDate.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.base import IMPORTERS, Bars, Importer, ImportLog, Tables
from ashare_sim.data.importers.common.adjust import factor_from_pre_close
from ashare_sim.data.importers.common.files import (
    Col,
    drop_exact_duplicates,
    header_of,
    read_mapped,
    source_name,
    table_files,
)
from ashare_sim.data.importers.common.names import spells_from_daily_kinds
from ashare_sim.data.importers.common.shares import points_at_announcement
from ashare_sim.data.importers.common.units import BaoStock, check_turnover

RAW_PRICES = "3"
KDATA = [Col.of("date", kind="date"), Col.of("symbol", "code", kind="symbol"), Col.of("open"), Col.of("high"),
         Col.of("low"), Col.of("close"), Col.of("pre_close", "preclose"), Col.of("volume", unit=BaoStock.VOLUME),
         Col.of("amount", unit=BaoStock.AMOUNT), Col.of("adjustflag", kind="text", required=False),
         Col.of("tradestatus", kind="text", required=False), Col.of("isST", kind="text", required=False)]
PROFIT = [Col.of("symbol", "code", kind="symbol"), Col.of("ann_date", "pubDate", kind="date", required=False),
          Col.of("period_end", "statDate", kind="date"), Col.of("net_profit", "netProfit"),
          Col.of("revenue", "MBRevenue", required=False),
          Col.of("total_shares", "totalShare", unit=BaoStock.SHARE, required=False),
          Col.of("float_shares", "liqaShare", unit=BaoStock.SHARE, required=False)]
BASIC = [Col.of("symbol", "code", kind="symbol"), Col.of("name", "code_name", kind="text"),
         Col.of("list_date", "ipoDate", kind="date", required=False),
         Col.of("delist_date", "outDate", kind="date", required=False)]


def _kind(header: list[str]) -> str | None:
    h = set(header)
    if {"date", "code"} <= h and ("preclose" in h or "adjustflag" in h):
        return "kdata"
    if {"code", "pubDate", "statDate"} <= h:
        return "profit"
    if {"code", "code_name"} <= h:
        return "basic"
    return None


@IMPORTERS.register
class BaoStockImporter(Importer):
    name = "baostock"
    description = "BaoStock query results saved as CSV (daily bars, profit data, stock basics)"
    gives = ("bars", "instruments", "st", "fundamentals", "shares")
    expects = "query_history_k_data_plus / query_profit_data / query_stock_basic CSVs"

    def read(self, path: Path, log: ImportLog) -> Tables:
        parts: dict[str, list[pd.DataFrame]] = {}
        for f in table_files(path, "BaoStock query results"):
            kind = _kind(header_of(f, ["date", "code"]))
            if kind is None:
                log.skip(f, "not a BaoStock k-data, profit or stock_basic table (whole file)", 1)
                continue
            cols = {"kdata": KDATA, "profit": PROFIT, "basic": BASIC}[kind]
            df = read_mapped(f, cols, f"baostock {kind}")
            if kind == "kdata":
                df = self._kdata(df, f, log)
            parts.setdefault(kind, []).append(df)
        out: Tables = {}
        if "kdata" in parts:
            k = pd.concat(parts["kdata"], ignore_index=True).sort_values(["symbol", "date"], kind="stable")
            codes, uniques = pd.factorize(k["symbol"])
            k["adj_factor"] = factor_from_pre_close(codes, k["close"].to_numpy(), k["pre_close"].to_numpy())
            if "isST" in k.columns:
                kind = k["isST"].map(lambda v: "ST" if str(v).strip() == "1" else None)
                out["st"] = spells_from_daily_kinds(k["symbol"], k["date"], kind)
            out["bars"] = Bars.from_frame(k.reset_index(drop=True), str(path))
            out["instruments"] = pd.DataFrame({"symbol": uniques, "name": uniques})
            logger.info(f"baostock {path}: {len(k):,} bars, {len(uniques):,} stocks")
        if "basic" in parts:
            out["instruments"] = pd.concat(parts["basic"], ignore_index=True)
        if "profit" in parts:
            p = pd.concat(parts["profit"], ignore_index=True)
            p = drop_exact_duplicates(p, ["symbol", "period_end", "ann_date"], str(path), log, "profit")
            p["total_equity"] = np.nan
            log.lack("baostock profit data has no equity: book_to_price and roe lose their input where it is the "
                     "only fundamentals source")
            out["fundamentals"] = p[["symbol", "period_end", "ann_date", "total_equity", "net_profit", "revenue"]]
            if "total_shares" in p.columns:
                out["shares"] = points_at_announcement(p, "total_shares", "float_shares")
        return out

    @staticmethod
    def _kdata(df: pd.DataFrame, f: Path, log: ImportLog) -> pd.DataFrame:
        if "adjustflag" in df.columns:
            flag = df["adjustflag"].astype(str).str.strip()
            bad = flag.ne(RAW_PRICES) & df["adjustflag"].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(f"{f} row {row + 1} column 'adjustflag': {df['adjustflag'].iloc[row]!r} means "
                                "adjusted prices; the simulator needs raw ones: query with adjustflag='3'")
        df = drop_exact_duplicates(df.drop(columns=["adjustflag"], errors="ignore"), ["date", "symbol"], str(f),
                                   log, "k-data")
        halted = df["tradestatus"].astype(str).str.strip().eq("0") if "tradestatus" in df.columns else False
        traded = ~halted & (df["volume"].fillna(0) > 0)
        log.skip(f, "suspended (tradestatus 0 or volume 0): no bar row", int((~traded).sum()))
        df = df[traded]
        empty = df[["open", "high", "low", "close"]].isna().any(axis=1)
        log.skip(f, "traded but an empty price", int(empty.sum()))
        df = df[~empty]
        check_turnover(str(f), df["amount"].to_numpy(), df["volume"].to_numpy(), df["high"].to_numpy(),
                       df["low"].to_numpy(), df["close"].to_numpy(), source_name(KDATA, "amount"),
                       source_name(KDATA, "volume"), df.index.to_numpy() + 1)
        return df.drop(columns=["tradestatus"], errors="ignore")
