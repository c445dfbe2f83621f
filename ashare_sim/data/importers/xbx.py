"""xbx daily CSVs (one file per stock, a note line before the header, GBK or UTF-8):

    股票代码 股票名称 交易日期 开盘价 最高价 最低价 收盘价 前收盘价 成交量 成交额 流通市值 总市值
    sh600000 浦发银行 2019-03-01 ...      成交量 shares, 成交额 CNY, caps CNY

or their flattened long table (date, symbol, open, high, low, close, pre_close, volume, amount,
total_shares, float_shares, name). Gives bars (adj_factor from 前收盘价, shares from caps / close),
instruments (latest name, first and last day), and ST / *ST / delisting spells from the names.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.common.logs import progress
from ashare_sim.data.importers.base import IMPORTERS, Bars, Importer, ImportLog, Tables
from ashare_sim.data.importers.common.adjust import factor_from_pre_close
from ashare_sim.data.importers.common.files import (
    Col,
    drop_exact_duplicates,
    has_cjk,
    header_of,
    read_mapped,
    source_name,
    table_files,
)
from ashare_sim.data.importers.common.names import spells_from_daily_names
from ashare_sim.data.importers.common.shares import shares_from_caps
from ashare_sim.data.importers.common.units import Xbx, check_turnover

ZH = [Col.of("symbol", "股票代码", kind="symbol"), Col.of("name", "股票名称", kind="text"),
      Col.of("date", "交易日期", kind="date"), Col.of("open", "开盘价"), Col.of("high", "最高价"),
      Col.of("low", "最低价"), Col.of("close", "收盘价"), Col.of("pre_close", "前收盘价"),
      Col.of("volume", "成交量", unit=Xbx.VOLUME), Col.of("amount", "成交额", unit=Xbx.AMOUNT),
      Col.of("float_cap", "流通市值", unit=Xbx.CAP, required=False),
      Col.of("total_cap", "总市值", unit=Xbx.CAP, required=False)]
FLAT = [Col.of("symbol", kind="symbol"), Col.of("name", kind="text", required=False), Col.of("date", kind="date"),
        Col.of("open"), Col.of("high"), Col.of("low"), Col.of("close"), Col.of("pre_close"), Col.of("volume"),
        Col.of("amount"), Col.of("total_shares", required=False), Col.of("float_shares", required=False)]


@IMPORTERS.register
class XbxImporter(Importer):
    name = "xbx"
    description = "XBX (邢不行) per-stock daily CSVs with caps and names"
    gives = ("bars", "instruments", "st")
    expects = "per-stock CSVs 股票代码 股票名称 交易日期 开盘价 ... 流通市值 总市值 (or their flattened table)"

    def read(self, path: Path, log: ImportLog) -> Tables:
        files = table_files(path, "xbx daily files")
        frames = [self._file(f, log) for f in progress(files, desc="xbx files", total=len(files))]
        df = pd.concat([f for f in frames if len(f)], ignore_index=True) if frames else pd.DataFrame()
        df = df.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)
        codes, uniques = pd.factorize(df["symbol"])
        df["adj_factor"] = factor_from_pre_close(codes, df["close"].to_numpy(), df["pre_close"].to_numpy())
        if "total_cap" in df.columns and "total_shares" not in df.columns:
            df["total_shares"] = shares_from_caps(df["total_cap"].to_numpy(), df["close"].to_numpy())
            df["float_shares"] = shares_from_caps(df["float_cap"].to_numpy(), df["close"].to_numpy())
            log.note("xbx: total / float shares = 总市值 / 流通市值 / 收盘价")
        traded = df["volume"].to_numpy() > 0
        log.skip(path, "suspended (volume 0): no bar row, read as suspended", int((~traded).sum()))
        out: Tables = {"instruments": self._instruments(df)}
        if "name" in df.columns:
            out["st"] = spells_from_daily_names(df["symbol"], df["date"], df["name"])
        out["bars"] = Bars.from_frame(df[traded], str(path))
        logger.info(f"xbx {path}: {int(traded.sum()):,} bars, {len(uniques):,} stocks")
        return out

    def _file(self, f: Path, log: ImportLog) -> pd.DataFrame:
        header = header_of(f, [c.source[0] for c in ZH])
        cols = ZH if any(has_cjk(str(h)) for h in header) else FLAT
        df = read_mapped(f, cols, "xbx", language="zh" if cols is ZH else "en")
        df = drop_exact_duplicates(df, ["date", "symbol"], str(f), log, "bars")
        traded = df["volume"] > 0
        rows = np.flatnonzero(traded.to_numpy()) + 1
        t = df[traded]
        check_turnover(str(f), t["amount"].to_numpy(), t["volume"].to_numpy(), t["high"].to_numpy(),
                       t["low"].to_numpy(), t["close"].to_numpy(), source_name(cols, "amount"),
                       source_name(cols, "volume"), rows)
        return df

    @staticmethod
    def _instruments(df: pd.DataFrame) -> pd.DataFrame:
        g = df.groupby("symbol", sort=True)
        first, last = g["date"].min(), g["date"].max()
        end = df["date"].max()
        inst = pd.DataFrame({"symbol": first.index, "list_date": first.to_numpy(),
                             "delist_date": last.where(last < end).to_numpy()})
        inst["name"] = g["name"].last().to_numpy() if "name" in df.columns else inst["symbol"]
        return inst
