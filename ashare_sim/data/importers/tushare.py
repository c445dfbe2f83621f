"""Tushare Pro endpoints saved to CSV or Parquet: a directory of files (or one file), each recognised by
its columns, one file or a sub-directory of files per endpoint.

    daily         ts_code, trade_date 20190301, open, high, low, close, pre_close, vol (lots), amount (thousand CNY)
    adj_factor    ts_code, trade_date, adj_factor (cumulative backward: ours)
    daily_basic   ts_code, trade_date, total_share, float_share (10,000 shares)
    stock_basic   ts_code, name, industry, list_date, delist_date
    namechange    ts_code, name, start_date, end_date              -> ST / *ST / delisting spells
    dividend      ts_code (or code 002015.XSHE), div_proc, ex_date, cash_div_tax (per share, before tax), stk_div
    income        ts_code, end_date, f_ann_date / ann_date, n_income_attr_p, revenue[, report_type, update_flag]
    balancesheet  ts_code, end_date, f_ann_date / ann_date, total_hldr_eqy_exc_min_int[, report_type, update_flag]
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
from ashare_sim.data.importers.common.keys import SymbolIndex, frame_keys, lookup_exact
from ashare_sim.data.importers.common.names import spells_from_name_spells
from ashare_sim.data.importers.common.statements import first_disclosure, side_by_side
from ashare_sim.data.importers.common.units import Tushare, check_turnover

IMPLEMENTED = "实施"
CODE = ("ts_code", "code")


def _sym() -> Col:
    return Col("symbol", CODE, "symbol")


ENDPOINTS: dict[str, tuple[frozenset, list[Col]]] = {
    "daily": (frozenset({"trade_date", "vol", "amount", "open"}), [
        _sym(), Col.of("date", "trade_date", kind="date"), Col.of("open"), Col.of("high"), Col.of("low"),
        Col.of("close"), Col.of("pre_close", required=False), Col.of("volume", "vol", unit=Tushare.VOL),
        Col.of("amount", unit=Tushare.AMOUNT)]),
    "adj_factor": (frozenset({"trade_date", "adj_factor"}), [
        _sym(), Col.of("date", "trade_date", kind="date"), Col.of("adj_factor")]),
    "daily_basic": (frozenset({"trade_date", "total_share"}), [
        _sym(), Col.of("date", "trade_date", kind="date"), Col.of("total_shares", "total_share", unit=Tushare.SHARE),
        Col.of("float_shares", "float_share", unit=Tushare.SHARE, required=False)]),
    "stock_basic": (frozenset({"name", "list_date"}), [
        _sym(), Col.of("name", kind="text"), Col.of("industry", kind="text", required=False),
        Col.of("list_date", kind="date", required=False), Col.of("delist_date", kind="date", required=False)]),
    "namechange": (frozenset({"name", "start_date"}), [
        _sym(), Col.of("name", kind="text"), Col.of("start_date", kind="date"),
        Col.of("end_date", kind="date", required=False)]),
    "dividend": (frozenset({"div_proc"}), [
        _sym(), Col.of("div_proc", kind="text"), Col.of("ex_date", kind="date", required=False),
        Col.of("end_date", kind="date", required=False),
        Col.of("cash_per_share", "cash_div_tax", unit=Tushare.PER_SHARE, required=False),
        Col.of("bonus_per_share", "stk_div", unit=Tushare.PER_SHARE, required=False)]),
    "income": (frozenset({"n_income_attr_p"}), [
        _sym(), Col.of("period_end", "end_date", kind="date"),
        Col.of("ann_date", "f_ann_date", "ann_date", kind="date", required=False),
        Col.of("net_profit", "n_income_attr_p"), Col.of("revenue", "revenue", "total_revenue", required=False),
        Col.of("report_type", kind="text", required=False), Col.of("update_flag", kind="text", required=False)]),
    "balancesheet": (frozenset({"total_hldr_eqy_exc_min_int"}), [
        _sym(), Col.of("period_end", "end_date", kind="date"),
        Col.of("ann_date", "f_ann_date", "ann_date", kind="date", required=False),
        Col.of("total_equity", "total_hldr_eqy_exc_min_int"),
        Col.of("report_type", kind="text", required=False), Col.of("update_flag", kind="text", required=False)]),
}


def endpoint_of(columns: list[str]) -> str | None:
    """The endpoint whose signature columns a file has (namechange and stock_basic told apart by list_date)."""
    have = set(columns)
    if not have & set(CODE):
        return None
    for name, (signature, _) in ENDPOINTS.items():
        if signature <= have and not (name == "namechange" and "list_date" in have):
            return name
    return None


@IMPORTERS.register
class TushareImporter(Importer):
    name = "tushare"
    description = "Tushare Pro exports (daily, adj_factor, daily_basic, stock_basic, dividend, statements)"
    gives = ("bars", "instruments", "st", "dividends", "fundamentals", "shares")
    expects = "daily, adj_factor, daily_basic, stock_basic, namechange, dividend, income, balancesheet (CSV/Parquet)"

    def read(self, path: Path, log: ImportLog) -> Tables:
        found: dict[str, list[pd.DataFrame]] = {}
        files = [f for p in (sorted(path.iterdir()) if path.is_dir() else [path])
                 for f in (table_files(p, "tushare endpoint") if p.is_dir() else [p])
                 if f.suffix.lower() in (".csv", ".parquet")]
        if not files:
            raise DataError(f"{path}: no tushare .csv or .parquet files ({self.expects})")
        for f in files:
            header = header_of(f, ["ts_code", "code", "trade_date"])
            kind = endpoint_of(header)
            if kind is None:
                log.skip(f, "not a tushare endpoint table (columns match none; whole file)", 1)
                continue
            df = read_mapped(f, ENDPOINTS[kind][1], f"tushare {kind}")
            found.setdefault(kind, []).append(self._checked(kind, df, f, log))
        tables = {k: pd.concat(v, ignore_index=True) if len(v) > 1 else v[0] for k, v in found.items()}
        out: Tables = {}
        if "daily" in tables:
            out["bars"] = _bars(tables, str(path), log)
        if "stock_basic" in tables:
            sb = tables["stock_basic"]
            out["instruments"] = sb
        elif "bars" in out:
            out["instruments"] = pd.DataFrame({"symbol": out["bars"].symbols, "name": out["bars"].symbols})
        if "namechange" in tables:
            nc = tables["namechange"]
            out["st"] = spells_from_name_spells(nc["symbol"], nc["start_date"], nc["end_date"], nc["name"])
        if "dividend" in tables:
            out["dividends"] = implemented_dividends(tables["dividend"], str(path), log)
        statements = [first_disclosure(_consolidated(tables[k], str(path), log), str(path), log, "update_flag")
                      for k in ("income", "balancesheet") if k in tables]
        if statements:
            f = side_by_side(statements)
            for c in ("total_equity", "net_profit", "revenue"):
                if c not in f.columns:
                    f[c] = np.nan
            out["fundamentals"] = f[["symbol", "period_end", "ann_date", "total_equity", "net_profit", "revenue"]]
        if "daily_basic" in tables:
            db = tables["daily_basic"]
            out["shares"] = pd.DataFrame({"symbol": db["symbol"], "date": db["date"],
                                          "total_shares": db["total_shares"],
                                          "float_shares": db.get("float_shares", np.nan)})
        logger.info(f"tushare {path}: endpoints {', '.join(sorted(tables))}")
        return out

    @staticmethod
    def _checked(kind: str, df: pd.DataFrame, f: Path, log: ImportLog) -> pd.DataFrame:
        if kind in ("daily", "adj_factor", "daily_basic"):
            df = drop_exact_duplicates(df, ["symbol", "date"], str(f), log, kind)
        if kind == "daily":
            cols = ENDPOINTS["daily"][1]
            t = df["volume"] > 0
            check_turnover(str(f), df["amount"].to_numpy()[t], df["volume"].to_numpy()[t], df["high"].to_numpy()[t],
                           df["low"].to_numpy()[t], df["close"].to_numpy()[t], source_name(cols, "amount"),
                           source_name(cols, "volume"), np.flatnonzero(t.to_numpy()) + 1)
        return df


def _bars(tables: dict[str, pd.DataFrame], where: str, log: ImportLog) -> Bars:
    daily = tables["daily"]
    traded = daily["volume"] > 0
    log.skip(where, "daily rows with vol 0 (suspended): no bar row", int((~traded).sum()))
    daily = daily[traded].sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)
    index = SymbolIndex(daily["symbol"])
    keys, sid = frame_keys(index, daily["symbol"], daily["date"])
    if "adj_factor" in tables:
        a = tables["adj_factor"]
        akeys, _ = frame_keys(index, a["symbol"], a["date"])
        adj, hit = lookup_exact(keys, akeys, a["adj_factor"].to_numpy(dtype=np.float64))
        if not hit.all():
            # A day without its factor keeps the stock's neighbouring one (no event is that day's likeliest).
            s = pd.Series(adj).groupby(sid).transform(lambda x: x.ffill().bfill())
            log.note(f"tushare: {int((~hit).sum()):,} daily rows had no adj_factor row: the stock's previous "
                     "(or next) factor is used")
            adj = s.to_numpy()
        daily["adj_factor"] = adj
    elif "pre_close" in daily.columns:
        daily["adj_factor"] = factor_from_pre_close(sid, daily["close"].to_numpy(), daily["pre_close"].to_numpy())
        log.note("tushare: no adj_factor endpoint: adj_factor derived from pre_close")
    if "daily_basic" in tables:
        b = tables["daily_basic"]
        bkeys, _ = frame_keys(index, b["symbol"], b["date"])
        for c in ("total_shares", "float_shares"):
            if c in b.columns:
                daily[c], _ = lookup_exact(keys, bkeys, b[c].to_numpy(dtype=np.float64))
    return Bars.from_frame(daily, where)


def _consolidated(df: pd.DataFrame, where: str, log: ImportLog) -> pd.DataFrame:
    """Consolidated statements only (report_type 1) when the column is there."""
    if "report_type" not in df.columns:
        return df
    keep = df["report_type"].astype(str).str.strip().isin(["1", "1.0"])
    log.skip(where, "statements other than consolidated (report_type != 1)", int((~keep).sum()))
    return df[keep].drop(columns=["report_type"])


def implemented_dividends(dv: pd.DataFrame, where: str, log: ImportLog) -> pd.DataFrame:
    """Implemented (实施) rows with an ex_date: cash per share before tax, bonus + transfer shares per share.

    Rows of one stock on one ex_date: identical amounts are one event reported twice (kept once);
    different amounts keep the earliest report period's row (the others are counted).
    """
    done = dv["div_proc"].astype(str).str.strip() == IMPLEMENTED
    log.skip(where, "dividend plans not implemented (div_proc other than 实施)", int((~done).sum()))
    dv = dv[done]
    if "ex_date" not in dv.columns:
        raise DataError(f"{where}: dividend table has no ex_date column; export it with ex_date")
    log.skip(where, "implemented dividends without ex_date", int(dv["ex_date"].isna().sum()))
    dv = dv.dropna(subset=["ex_date"]).copy()
    for c in ("cash_per_share", "bonus_per_share"):
        dv[c] = dv[c].fillna(0.0) if c in dv.columns else 0.0
    nothing = (dv["cash_per_share"] <= 0) & (dv["bonus_per_share"] <= 0)
    log.skip(where, "implemented dividends with neither cash nor shares", int(nothing.sum()))
    dv = dv[~nothing].sort_values(["symbol", "ex_date"] + (["end_date"] if "end_date" in dv.columns else []),
                                  kind="stable")
    same = dv.duplicated(["symbol", "ex_date", "cash_per_share", "bonus_per_share"])
    log.skip(where, "the same dividend reported twice (same ex_date and amounts)", int(same.sum()))
    dv = dv[~same]
    clash = dv.duplicated(["symbol", "ex_date"])
    log.skip(where, "another amount on the same ex_date (the earliest period's row is kept)", int(clash.sum()))
    return dv[~clash][["symbol", "ex_date", "cash_per_share", "bonus_per_share"]].reset_index(drop=True)
