"""Find and read the tables of a market data directory (Parquet or CSV).

Small tables are read whole into pandas with typed columns. `bars` is read
column by column (`BarColumns`) so the full market never sits in memory twice.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ashare_sim.common.csvfile import read_csv
from ashare_sim.common.errors import DataError
from ashare_sim.data.schema import SCHEMAS, TableSchema


def table_path(directory: Path, name: str) -> Optional[Path]:
    """NAME.parquet or NAME.csv in `directory`; None when absent; error when both."""
    found = [p for p in (directory / f"{name}.parquet", directory / f"{name}.csv") if p.exists()]
    if len(found) == 2:
        raise DataError(f"{directory}: both {name}.parquet and {name}.csv exist; keep one")
    return found[0] if found else None


def read_columns_of(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        return list(pq.read_schema(path).names)
    return list(read_csv(path, nrows=0).columns)


def read_table(directory: Path, name: str, typed: bool = True) -> Optional[pd.DataFrame]:
    """The table as a DataFrame (dates as datetime64[ns], symbols as str), or None."""
    schema = SCHEMAS[name]
    path = table_path(directory, name)
    if path is None:
        if schema.required_table:
            raise DataError(f"{directory}: missing required table '{name}' ({name}.parquet or {name}.csv)")
        return None
    try:
        if path.suffix == ".parquet":
            df = pq.read_table(path).to_pandas()
        else:
            df = read_csv(path, dtype={c: "string" for c, k in schema.columns.items() if k == "str"},
                          keep_default_na=True)
    except (OSError, pa.ArrowException, pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    missing = [c for c in schema.required if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(schema.required)}")
    return coerce(df, schema, path) if typed else df


def coerce(df: pd.DataFrame, schema: TableSchema, path: Path) -> pd.DataFrame:
    """Cast the schema's columns to their kinds, naming the first bad row."""
    out = df.copy()
    for col, kind in schema.columns.items():
        if col not in out.columns:
            continue
        out[col] = coerce_column(out[col], kind, f"{path}: column '{col}'")
    return out


def coerce_column(series: pd.Series, kind: str, where: str) -> pd.Series:
    if kind == "str":
        if pd.api.types.is_string_dtype(series):      # text already (Parquet strings): no round trip
            return series.astype(object).where(series.notna(), None)
        return series.astype("string").astype(object).where(series.notna(), None)
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(series):
            return series.astype("datetime64[ns]")
        parsed = pd.to_datetime(series.astype("string"), errors="coerce", format="mixed")
        bad = parsed.isna() & series.notna() & (series.astype("string").str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{where}, row {row + 2}: {series.iloc[row]!r} is not a date (use YYYY-MM-DD)")
        return parsed.astype("datetime64[ns]")
    if kind == "float":
        numeric = pd.to_numeric(series, errors="coerce")
        bad = numeric.isna() & series.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{where}, row {row + 2}: {series.iloc[row]!r} is not a number")
        return numeric.astype("float64")
    raise ValueError(kind)


class BarColumns:
    """Column-at-a-time access to the `bars` table of a directory or a DataFrame."""

    def __init__(self, source: Path | pd.DataFrame):
        self.source = source
        if isinstance(source, pd.DataFrame):
            self.names = list(source.columns)
            self.label = "bars"
        else:
            self.names = read_columns_of(source)
            self.label = str(source)
            self._csv: Optional[pd.DataFrame] = None
        missing = [c for c in SCHEMAS["bars"].required if c not in self.names]
        if missing:
            raise DataError(f"{self.label}: missing column(s) {', '.join(missing)}")

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def _frame(self) -> pd.DataFrame:
        if isinstance(self.source, pd.DataFrame):
            return self.source
        if self._csv is None:
            try:
                self._csv = read_csv(self.source, dtype={"symbol": "string", "date": "string"})
            except (OSError, pd.errors.ParserError, ValueError) as exc:
                raise DataError(f"{self.source}: cannot read: {exc}") from None
        return self._csv

    def _is_parquet(self) -> bool:
        return isinstance(self.source, Path) and self.source.suffix == ".parquet"

    def dates(self) -> np.ndarray:
        """The date column as datetime64[D]."""
        if self._is_parquet():
            col = pq.read_table(self.source, columns=["date"]).column(0)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                return _parse_dates(pd.Series(col.to_numpy(zero_copy_only=False)), f"{self.label}: column 'date'")
            if pa.types.is_timestamp(col.type):
                col = pc.cast(col, pa.date32())
            return col.to_numpy().astype("datetime64[D]")
        series = self._frame()["date"]
        if pd.api.types.is_datetime64_any_dtype(series):
            return series.to_numpy().astype("datetime64[D]")
        return _parse_dates(series, f"{self.label}: column 'date'")

    def symbol_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(codes int32 per row, distinct symbols) for the symbol column."""
        if self._is_parquet():
            col = pq.read_table(self.source, columns=["symbol"], read_dictionary=["symbol"]).column(0)
            arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
            if not pa.types.is_dictionary(arr.type):
                arr = pc.dictionary_encode(arr)
            if arr.null_count:
                raise DataError(f"{self.label}: column 'symbol' has {arr.null_count} empty value(s)")
            return arr.indices.to_numpy().astype(np.int32), np.asarray(arr.dictionary.to_pylist(), dtype=object)
        series = self._frame()["symbol"]
        if series.isna().any():
            row = int(np.flatnonzero(series.isna().to_numpy())[0])
            raise DataError(f"{self.label}: row {row + 2}: empty symbol")
        codes, uniques = pd.factorize(series.astype(str))
        return codes.astype(np.int32), np.asarray(uniques, dtype=object)

    def floats(self, name: str) -> Optional[np.ndarray]:
        """A numeric column as float64 (None when the column is absent)."""
        if name not in self.names:
            return None
        if self._is_parquet():
            col = pq.read_table(self.source, columns=[name]).column(0)
            try:
                col = pc.cast(col, pa.float64())
            except pa.ArrowInvalid as exc:
                raise DataError(f"{self.label}: column '{name}' is not numeric ({exc})") from None
            return col.to_numpy()
        series = self._frame()[name]
        numeric = pd.to_numeric(series, errors="coerce")
        bad = numeric.isna() & series.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{self.label}: row {row + 2}, column '{name}': {series.iloc[row]!r} is not a number")
        return numeric.to_numpy(dtype=np.float64)


def _parse_dates(series: pd.Series, where: str) -> np.ndarray:
    parsed = pd.to_datetime(series, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{where}, row {row + 2}: {series.iloc[row]!r} is not a date (use YYYY-MM-DD)")
    return parsed.to_numpy().astype("datetime64[D]")
