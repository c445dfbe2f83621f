"""qlib: the binary tree, its long-table conversion, or an instruments file.

    DIR/calendars/day.txt                  one date per line
    DIR/instruments/all.txt                symbol <tab> first date <tab> last date
    DIR/features/<sym>/<field>.day.bin     little-endian float32; value 0 = index of the first date in
                                           the calendar, then one value per day
        open high low close    back-adjusted prices (raw = adjusted / factor, snapped to the tick)
        factor                 adjustment factor (ours: adjusted = raw x factor)
        volume                 shares, raw (option volume=lots | adjusted for other conversions)

A .parquet / .csv long table (date, symbol, open/high/low/close as *_raw_cents integers or adjusted
values, volume, factor) reads the same way; a .txt file is an instruments file (listing dates).
Index codes (SH000300, SZ399303) are not stocks: they become `benchmark` rows.
Suspended days (volume 0 or NaN) get no bar row: the loader reads a missing row as suspended.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from loguru import logger

from ashare_sim.common.errors import DataError
from ashare_sim.common.logs import progress
from ashare_sim.data.importers.base import (
    IMPORTERS,
    Bars,
    Importer,
    ImportLog,
    Tables,
    one_of,
)
from ashare_sim.data.importers.common.adjust import raw_from_adjusted
from ashare_sim.data.importers.common.dates import parse_dates
from ashare_sim.data.importers.common.files import read_file
from ashare_sim.data.importers.common.units import Qlib
from ashare_sim.rules import RulesTable
from ashare_sim.rules.symbols import parse_symbol

PRICES = ("open", "high", "low", "close")
REQUIRED_FIELDS = (*PRICES, "volume", "factor")
VOLUME_UNITS = ("shares", "lots", "adjusted")


@IMPORTERS.register
class QlibImporter(Importer):
    name = "qlib"
    description = "a qlib data folder (binary features) or a long table of its fields"
    gives = ("bars", "instruments", "listing", "calendar", "benchmark")
    options = {"volume": "unit of the volume field: shares (default), lots, or adjusted (shares / factor)",
               "instruments": "instruments file under instruments/ (default all.txt)"}
    expects = "calendars/day.txt, instruments/all.txt, features/<SYM>/<field>.day.bin (or a long table)"

    def read(self, path: Path, log: ImportLog) -> Tables:
        self.volume_unit = one_of(str(self.option("volume", "shares")), VOLUME_UNITS, "qlib option volume")
        rules = RulesTable.load()
        if path.is_dir():
            return _Tree(path, self, rules).read(log)
        if path.suffix.lower() == ".txt":
            return {"listing": read_instruments(path, rules)[0]}
        return _LongTable(path, self, rules).read(log)

    def raw_volume(self, volume: np.ndarray, factor: np.ndarray) -> np.ndarray:
        if self.volume_unit == "adjusted":
            return volume.astype(np.float64) * factor
        return volume.astype(np.float64) * Qlib.VOLUME[self.volume_unit]


def read_instruments(path: Path, rules: RulesTable) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(listing of stocks, index rows) from symbol <tab> first <tab> last; the last date of the file
    counts as still listed (delist_date empty)."""
    try:
        df = pd.read_csv(path, sep="\t", header=None, names=["symbol", "first", "last"], dtype=str,
                         keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read as a qlib instruments file (symbol<TAB>first<TAB>last): {exc}") from None
    if df["last"].eq("").any():
        row = int(np.flatnonzero(df["last"].eq("").to_numpy())[0])
        raise DataError(f"{path} row {row + 1}: expected 3 tab-separated fields (symbol, first date, last date)")
    canon = df["symbol"].map(parse_symbol)
    if canon.isna().any():
        row = int(np.flatnonzero(canon.isna().to_numpy())[0])
        raise DataError(f"{path} row {row + 1} column 1: {df['symbol'].iloc[row]!r} is not a stock or index code")
    first = parse_dates(df["first"], str(path), "first")
    last = parse_dates(df["last"], str(path), "last")
    board, _ = rules.boards_of(canon)
    stock = np.array([b is not None for b in board])
    end = last.max()
    listing = pd.DataFrame({"symbol": canon, "list_date": first, "delist_date": last.where(last < end)})[stock]
    return listing.reset_index(drop=True), df[~stock]


class _Tree:
    """The binary layout."""

    def __init__(self, root: Path, owner: QlibImporter, rules: RulesTable):
        self.root, self.owner, self.rules = root, owner, rules

    def read(self, log: ImportLog) -> Tables:
        cal_path = self.root / "calendars" / "day.txt"
        feats = self.root / "features"
        for need in (cal_path, feats):
            if not need.exists():
                raise DataError(f"{self.root}: not a qlib directory: {need.relative_to(self.root)} is missing "
                                f"(expected {QlibImporter.expects})")
        calendar = self._calendar(cal_path)
        inst_path = self.root / "instruments" / str(self.owner.option("instruments", "all.txt"))
        listing = read_instruments(inst_path, self.rules)[0] if inst_path.exists() else None
        if listing is None:
            log.lack(f"{inst_path}: no instruments file: listing dates are the first and last bar")
        dirs = sorted(p for p in feats.iterdir() if p.is_dir())
        parts, bench = [], []
        cal_days = calendar.to_numpy().astype("datetime64[D]")
        for d in progress(dirs, desc="qlib features", total=len(dirs)):
            sym = parse_symbol(d.name)
            if sym is None:
                log.skip(d, "directory name is not a stock or index code", 1)
                continue
            is_stock = self.rules.boards_of([sym])[0][0] is not None
            arrays = self._symbol(d, len(cal_days), is_stock)
            if arrays is None:
                continue
            start, values = arrays
            days = cal_days[start:start + len(values["close"])]
            if not is_stock:
                close = values["close"] / np.where(np.isfinite(values["factor"]), values["factor"], 1.0)
                ok = np.isfinite(close) & (close > 0)
                bench.append(pd.DataFrame({"index": sym, "date": days[ok].astype("datetime64[ns]"),
                                           "close": np.round(close[ok], 4)}))
                continue
            parts.append(self._stock_rows(d, sym, days, values, log))
        bars = _concat_bars([p for p in parts if p is not None], str(feats))
        out: Tables = {"bars": bars, "calendar": pd.DataFrame({"date": calendar})}
        out["instruments"] = _instruments_from_bars(bars, listing)
        if listing is not None:
            out["listing"] = listing
        if bench:
            out["benchmark"] = pd.concat(bench, ignore_index=True)
        logger.info(f"qlib {self.root}: {len(bars):,} bars, {len(bars.symbols):,} stocks, {len(bench)} indices")
        return out

    def _calendar(self, path: Path) -> pd.Series:
        lines = pd.Series(path.read_text().split(), dtype=object)
        return parse_dates(lines, str(path), "date")

    def _symbol(self, d: Path, n_days: int, is_stock: bool) -> tuple[int, dict[str, np.ndarray]] | None:
        fields = REQUIRED_FIELDS if is_stock else ("close", "factor")
        raw = {}
        for f in fields:
            p = d / f"{f}.day.bin"
            if not p.exists():
                if f == "factor" and not is_stock:
                    continue
                raise DataError(f"{p}: missing; a qlib stock directory needs {', '.join(f'{x}.day.bin' for x in REQUIRED_FIELDS)}")
            a = np.fromfile(p, dtype="<f4")
            if len(a) == 0 or not np.isfinite(a[0]) or a[0] != int(a[0]) or a[0] < 0:
                raise DataError(f"{p} row 0: first value {a[0] if len(a) else 'missing'} is not a calendar index; "
                                "a .day.bin file starts with the index of its first date in calendars/day.txt")
            start = int(a[0])
            if start + len(a) - 1 > n_days:
                raise DataError(f"{p}: starts at calendar index {start} with {len(a) - 1} values, past the "
                                f"calendar's {n_days} days; the calendar and the features do not belong together")
            raw[f] = (start, a[1:])
        if "factor" not in raw:
            raw["factor"] = (raw["close"][0], np.ones(len(raw["close"][1]), dtype=np.float32))
        start = min(s for s, _ in raw.values())
        end = max(s + len(v) for s, v in raw.values())
        aligned = {}
        for f, (s, v) in raw.items():
            full = np.full(end - start, np.nan, dtype=np.float64)
            full[s - start:s - start + len(v)] = v
            aligned[f] = full
        return start, aligned

    def _stock_rows(self, d: Path, sym: str, days: np.ndarray, v: dict[str, np.ndarray], log: ImportLog):
        factor = v["factor"]
        prices = {f: raw_from_adjusted(v[f], factor, self.rules.tick) for f in PRICES}
        volume = self.owner.raw_volume(v["volume"], factor)
        priced = np.logical_and.reduce([np.isfinite(prices[f]) & (prices[f] > 0) for f in PRICES])
        traded = np.isfinite(volume) & (volume > 0)
        log.skip(d, "suspended (volume 0 or NaN): no bar row, read as suspended", int((priced & ~traded).sum()))
        log.skip(d, "traded but no price or factor (NaN) in the .bin files", int((traded & ~priced).sum()))
        keep = priced & traded
        if not keep.any():
            return None
        fields = {**{f: prices[f][keep] for f in PRICES}, "volume": volume[keep], "adj_factor": factor[keep]}
        return Bars(days[keep], np.zeros(int(keep.sum()), dtype=np.int32), np.array([sym], dtype=object), fields,
                    str(d))


class _LongTable:
    """The long-table conversion of a qlib tree (one row per symbol and day), read column by column."""

    def __init__(self, path: Path, owner: QlibImporter, rules: RulesTable):
        self.path, self.owner, self.rules = path, owner, rules

    def read(self, log: ImportLog) -> Tables:
        cols = _Columns(self.path)
        names = cols.names
        where = str(self.path)
        for c in ("date", "symbol", "volume"):
            if c not in names:
                raise DataError(f"{where} row 0 (header) column '{c}': missing; a qlib long table needs date, "
                                "symbol, open/high/low/close (or *_raw_cents), volume, factor")
        cents = all(f"{f}_raw_cents" in names for f in PRICES)
        if not cents and not (all(f in names for f in PRICES) and "factor" in names):
            raise DataError(f"{where} row 0 (header): needs open/high/low/close_raw_cents, or adjusted "
                            "open/high/low/close with factor")
        codes, dictionary = cols.dictionary("symbol")
        canon = np.array([parse_symbol(s) for s in dictionary], dtype=object)
        if any(c is None for c in canon):
            bad = next(i for i, c in enumerate(canon) if c is None)
            row = int(np.flatnonzero(codes == bad)[0])
            raise DataError(f"{where} row {row + 1} column 'symbol': {dictionary[bad]!r} is not a stock or index code")
        board, _ = self.rules.boards_of(canon)
        stock = np.array([b is not None for b in board])
        day = _date_column(cols.arrow("date"), where)
        factor = cols.numpy("factor", np.float64) if "factor" in names else np.ones(len(day))
        volume = self.owner.raw_volume(cols.numpy("volume", np.float64), factor)
        is_stock_row = stock[codes]
        close_col = "close_raw_cents" if cents else "close"
        bench = _benchmark_rows(cols.numpy(close_col, np.float64), codes, canon, stock, day, 0.01 if cents else 1.0)
        first_last = _spans(codes[is_stock_row], day[is_stock_row])
        traded = np.isfinite(volume) & (volume > 0)
        if (~stock).any():
            log.skip(where, f"{int((~stock).sum())} index codes ({', '.join(canon[~stock][:4])}, ...): not stocks; "
                            "--benchmark keeps the ones asked for", int((~is_stock_row).sum()))
        log.skip(where, "suspended (volume 0 or NaN): no bar row, read as suspended",
                 int((is_stock_row & ~traded).sum()))
        keep = is_stock_row & traded
        del is_stock_row, traded
        # Prices are read twice (check, then take) so no full-length float64 copy of four columns is held.
        for f in PRICES:
            col = self._price(cols, f, cents, factor)
            bad = keep & ~(np.isfinite(col) & (col > 0))
            log.skip(where, f"traded but '{f}' is not a positive price", int(bad.sum()))
            keep &= ~bad
        rows = np.flatnonzero(keep)
        del keep
        fields = {f: self._price(cols, f, cents, factor, rows) for f in PRICES}
        fields["volume"] = volume[rows]
        fields["adj_factor"] = factor[rows]
        del volume, factor
        # Codes renumbered to the stocks only, so `symbols` holds no index.
        remap = np.cumsum(stock) - 1
        stocks = canon[stock]
        bars = Bars(day[rows], remap[codes[rows]].astype(np.int32), stocks, fields, where, rows + 1)
        listing = _listing_from_spans(first_last, stocks, remap, day.max() if len(day) else None)
        out: Tables = {"bars": bars, "instruments": _instruments_from_bars(bars, listing)}
        if bench is not None:
            out["benchmark"] = bench
        logger.info(f"qlib {where}: {len(bars):,} bars, {len(stocks):,} stocks, {int((~stock).sum())} indices")
        return out

    def _price(self, cols: "_Columns", f: str, cents: bool, factor: np.ndarray, rows: np.ndarray | None = None):
        if cents:
            raw = cols.numpy(f"{f}_raw_cents", None)
            raw = raw if rows is None else raw[rows]
            return raw.astype(np.float64) / 100.0
        adj = cols.numpy(f, np.float64)
        if rows is not None:
            adj, factor = adj[rows], factor[rows]
        return raw_from_adjusted(adj, factor, self.rules.tick)


class _Columns:
    """One column at a time from Parquet (or from a CSV read once)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            if path.suffix.lower() == ".parquet":
                self._pq = pq.ParquetFile(path)
                self.names = self._pq.schema_arrow.names
                self._table = None
            else:
                df = read_file(path, ("date", "symbol"), ("date", "symbol"))
                self._table = pa.Table.from_pandas(df, preserve_index=False)
                self.names = self._table.column_names
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{path}: cannot read: {exc}") from None

    def arrow(self, name: str) -> pa.ChunkedArray:
        if self._table is not None:
            return self._table.column(name)
        return self._pq.read(columns=[name]).column(0)

    def numpy(self, name: str, dtype) -> np.ndarray:
        col = self.arrow(name)
        try:
            arr = col.to_numpy() if col.null_count == 0 else pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid as exc:
            raise DataError(f"{self.path} column '{name}': not numeric ({exc})") from None
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def dictionary(self, name: str) -> tuple[np.ndarray, list]:
        if self._table is None:
            col = self._pq.read(columns=[name], use_threads=True).column(0)
        else:
            col = self._table.column(name)
        arr = col.combine_chunks()
        if not pa.types.is_dictionary(arr.type):
            arr = pc.dictionary_encode(arr)
        if arr.null_count:
            row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
            raise DataError(f"{self.path} row {row + 1} column '{name}': empty symbol")
        return arr.indices.to_numpy(zero_copy_only=False).astype(np.int32), arr.dictionary.to_pylist()


def _benchmark_rows(close: np.ndarray, codes, canon, stock, day, scale: float):
    idx = np.flatnonzero(~stock)
    if not len(idx):
        return None
    rows = np.flatnonzero(np.isin(codes, idx))
    return pd.DataFrame({"index": canon[codes[rows]], "date": day[rows].astype("datetime64[ns]"),
                         "close": close[rows] * scale})


def _date_column(col: pa.ChunkedArray, where: str) -> np.ndarray:
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.date32())
    if pa.types.is_date(col.type):
        return col.to_numpy().astype("datetime64[D]")
    return parse_dates(pd.Series(col.to_numpy(zero_copy_only=False)), where, "date").to_numpy().astype("datetime64[D]")


def _spans(codes: np.ndarray, day: np.ndarray) -> pd.DataFrame:
    """First and last day per code (any row, traded or not)."""
    df = pd.DataFrame({"code": codes, "day": day})
    return df.groupby("code")["day"].agg(["min", "max"])


def _listing_from_spans(spans: pd.DataFrame, stocks: np.ndarray, remap: np.ndarray, end) -> pd.DataFrame:
    sym = stocks[remap[spans.index.to_numpy()]]
    first = spans["min"].to_numpy().astype("datetime64[ns]")
    last = spans["max"].to_numpy().astype("datetime64[ns]")
    delist = np.where(last < np.datetime64(end, "ns"), last, np.datetime64("NaT", "ns"))
    return pd.DataFrame({"symbol": sym, "list_date": first, "delist_date": delist})


def _instruments_from_bars(bars: Bars, listing: pd.DataFrame | None) -> pd.DataFrame:
    """One row per stock with bars; qlib has no names (the name is the symbol)."""
    inst = pd.DataFrame({"symbol": bars.symbols, "name": bars.symbols})
    if listing is not None:
        inst = inst.merge(listing, on="symbol", how="left")
    return inst


def _concat_bars(parts: list[Bars], source: str) -> Bars:
    """One Bars from per-symbol parts (each with its own one-symbol dictionary)."""
    if not parts:
        return Bars(np.zeros(0, "datetime64[D]"), np.zeros(0, np.int32), np.zeros(0, object), {}, source)
    symbols = np.array([p.symbols[0] for p in parts], dtype=object)
    code = np.concatenate([np.full(len(p), i, dtype=np.int32) for i, p in enumerate(parts)])
    fields = {f: np.concatenate([p.fields[f] for p in parts]) for f in parts[0].fields}
    return Bars(np.concatenate([p.day for p in parts]), code, symbols, fields, source)
