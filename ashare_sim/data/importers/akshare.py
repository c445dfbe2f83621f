"""AKShare `stock_zh_a_hist` exports: one file per stock, Chinese columns.

    日期 开盘 收盘 最高 最低 成交量 (lots) 成交额 (CNY) [振幅 涨跌幅 涨跌额 换手率 股票代码]

The symbol comes from 股票代码 or the file name (600000.csv, sh600000.csv, 600000_daily.csv). Prices
must be the raw ones (adjust=""). pre_close = 收盘 - 涨跌额 and adj_factor follows from it; without
涨跌额 there is no factor (the loader then assumes 1: no corporate actions in returns).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from loguru import logger

from ashare_sim.common.errors import DataError
from ashare_sim.common.logs import progress
from ashare_sim.data.importers.base import IMPORTERS, Bars, Importer, ImportLog, Tables
from ashare_sim.data.importers.common.adjust import (
    factor_from_pre_close,
    pre_close_from_change,
)
from ashare_sim.data.importers.common.files import (
    Col,
    code_from_name,
    drop_exact_duplicates,
    read_mapped,
    source_name,
    table_files,
)
from ashare_sim.data.importers.common.units import AKShare, check_turnover
from ashare_sim.rules import RulesTable
from ashare_sim.rules.symbols import parse_symbol

HIST = [Col.of("date", "日期", kind="date"), Col.of("symbol", "股票代码", kind="symbol", required=False),
        Col.of("open", "开盘"), Col.of("close", "收盘"), Col.of("high", "最高"), Col.of("low", "最低"),
        Col.of("volume", "成交量", unit=AKShare.VOLUME), Col.of("amount", "成交额", unit=AKShare.AMOUNT),
        Col.of("change", "涨跌额", required=False)]


@IMPORTERS.register
class AKShareImporter(Importer):
    name = "akshare"
    description = "AKShare's stock_zh_a_hist downloads (one CSV per stock)"
    gives = ("bars", "instruments")
    expects = "stock_zh_a_hist files: 日期 开盘 收盘 最高 最低 成交量 成交额 [涨跌额 股票代码]"

    def read(self, path: Path, log: ImportLog) -> Tables:
        tick = RulesTable.load().tick
        files = table_files(path, "AKShare stock_zh_a_hist files")
        frames = [self._file(f, tick, log) for f in progress(files, desc="akshare files", total=len(files))]
        df = pd.concat(frames, ignore_index=True).sort_values(["symbol", "date"], kind="stable")
        if "pre_close" in df.columns:
            codes, _ = pd.factorize(df["symbol"])
            df["adj_factor"] = factor_from_pre_close(codes, df["close"].to_numpy(), df["pre_close"].to_numpy())
        else:
            log.lack("akshare: no 涨跌额 column: no pre_close and no adj_factor (returns ignore dividends and splits)")
        bars = Bars.from_frame(df.reset_index(drop=True), str(path))
        logger.info(f"akshare {path}: {len(bars):,} bars, {len(bars.symbols):,} stocks")
        return {"bars": bars, "instruments": pd.DataFrame({"symbol": bars.symbols, "name": bars.symbols})}

    @staticmethod
    def _file(f: Path, tick: float, log: ImportLog) -> pd.DataFrame:
        df = read_mapped(f, HIST, "akshare stock_zh_a_hist", language="zh")
        if "symbol" not in df.columns:
            code = parse_symbol(code_from_name(f))
            if code is None:
                raise DataError(f"{f}: no 股票代码 column and no stock code in the file name; name the file "
                                "after its code (600000.csv) or keep the 股票代码 column")
            df["symbol"] = code
        df = drop_exact_duplicates(df, ["date", "symbol"], str(f), log, "bars")
        traded = df["volume"] > 0
        log.skip(f, "suspended (成交量 0): no bar row", int((~traded).sum()))
        df = df[traded]
        check_turnover(str(f), df["amount"].to_numpy(), df["volume"].to_numpy(), df["high"].to_numpy(),
                       df["low"].to_numpy(), df["close"].to_numpy(), source_name(HIST, "amount"),
                       source_name(HIST, "volume"), df.index.to_numpy() + 1)
        if "change" in df.columns:
            df["pre_close"] = pre_close_from_change(df["close"].to_numpy(), df["change"].to_numpy(), tick)
        return df.drop(columns=["change"], errors="ignore")
