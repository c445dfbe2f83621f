"""Reading source files and naming places in them.

CSV may be UTF-8 or GBK (xbx, many Windows exports) and may carry a note line
before the header (xbx); Parquet is read through Arrow. `read_mapped` turns a
file into our column names, kinds and units in one pass, and every refusal
names the file, the data row (1 = the first row after the header) and the
column, with the fix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ashare_sim.common.csvfile import read_csv, sniff_encoding
from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.common.dates import parse_dates
from ashare_sim.rules.symbols import normalize_symbols

TABLE_SUFFIXES = (".csv", ".parquet", ".txt")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Col:
    """One column of a source: our `name`, the spellings it has in files, its kind and unit."""
    name: str
    source: tuple[str, ...]
    kind: str = "float"              # float | date | symbol | text
    unit: float = 1.0                # source value x unit = our value
    required: bool = True

    @staticmethod
    def of(name: str, *source: str, kind: str = "float", unit: float = 1.0, required: bool = True) -> "Col":
        return Col(name, tuple(source) or (name,), kind, unit, required)


def source_name(cols: Sequence[Col], name: str) -> str:
    """The first source spelling of our column `name` (for messages)."""
    return next(c.source[0] for c in cols if c.name == name)


def table_files(path: Path, what: str) -> list[Path]:
    """`path` itself, or the CSV / Parquet files in the directory `path` (sorted); error when none."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such file or directory ({what})")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".parquet"))
    if not files:
        raise DataError(f"{path}: no .csv or .parquet files in this directory ({what})")
    return files


def header_of(path: Path, expect: Iterable[str] = ()) -> list[str]:
    """The column names of a CSV or Parquet file (after any note line)."""
    if path.suffix.lower() == ".parquet":
        try:
            return list(pq.read_schema(path).names)
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{path}: cannot read as Parquet: {exc}") from None
    _, skip = _csv_layout(path, expect)
    return list(read_csv(path, skiprows=skip, nrows=0).columns)


def read_file(path: Path, expect: Sequence[str] = (), text_columns: Iterable[str] = (),
              columns: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame; `text_columns` are kept as text (codes with leading zeros)."""
    if path.suffix.lower() == ".parquet":
        try:
            names = pq.read_schema(path).names
            use = [c for c in columns if c in names] if columns is not None else None
            return pq.read_table(path, columns=use).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{path}: cannot read as Parquet: {exc}") from None
    enc, skip = _csv_layout(path, expect)
    text = set(text_columns)
    try:
        return read_csv(path, skiprows=skip, usecols=(lambda c: c in columns) if columns else None,
                        dtype={c: str for c in text} or None, keep_default_na=False,
                        na_values=["", "NaN", "nan", "NULL", "None", "--"], low_memory=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"{path}: cannot read as CSV ({enc}): {str(exc).splitlines()[0]}") from None


def _csv_layout(path: Path, expect: Iterable[str]) -> tuple[str, int]:
    """(encoding, lines before the header): as `common.csvfile.sniff_encoding` finds it; the header
    is the first of the first five lines naming an expected column (a note line may precede it)."""
    try:
        head = path.open("rb").read(1 << 16)
        enc = sniff_encoding(path)
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    lines = head.decode(enc, errors="ignore").splitlines()[:5]
    wanted = set(expect)
    for i, line in enumerate(lines):
        cells = {c.strip().strip('"') for c in line.split(",")}
        if wanted & cells:
            return enc, i
    return enc, 0


def read_mapped(path: Path, cols: Sequence[Col], who: str, language: str = "en",
                frame: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """The file's columns under our names, typed and in our units (absent optional columns are left out).

    `language` is the language of the source's own header ('en' or 'zh'): a header in the other one
    is refused as the wrong export rather than reported as a list of missing columns.
    """
    spellings = [s for c in cols for s in c.source]
    text_cols = [s for c in cols if c.kind in ("symbol", "text", "date") for s in c.source]
    df = frame if frame is not None else read_file(path, spellings, text_cols, columns=spellings)
    have = list(df.columns) if frame is not None else header_of(path, spellings)
    found = {c.name: next((s for s in c.source if s in df.columns), None) for c in cols}
    missing = [c for c in cols if c.required and found[c.name] is None]
    if missing:
        raise DataError(_missing_message(path, missing, cols, have, who, language))
    out = {}
    for c in cols:
        src = found[c.name]
        if src is None:
            continue
        out[c.name] = convert(df[src], c, str(path), src)
    return pd.DataFrame(out, index=df.index)


def convert(values: pd.Series, col: Col, where: str, column: str) -> pd.Series:
    """One source column in our kind and unit; a value that does not fit names its row."""
    if col.kind == "date":
        return parse_dates(values, where, column, allow_empty=not col.required)
    if col.kind == "symbol":
        return parse_symbols(values, where, column)
    if col.kind == "text":
        return values.astype(object).where(values.notna(), None)
    return numbers(values, where, column) * col.unit if col.unit != 1.0 else numbers(values, where, column)


def numbers(values: pd.Series, where: str, column: str) -> pd.Series:
    """float64; a non-numeric text names its row."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() & values.notna() & (values.astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{where} row {row + 1} column '{column}': {values.iloc[row]!r} is not a number")
    return num.astype("float64")


def parse_symbols(values: pd.Series, where: str, column: str) -> pd.Series:
    """Canonical `CODE.EX` through rules.symbols; the first text that is no stock code names its row."""
    out = normalize_symbols(values)
    bad = out.isna() & values.notna()
    if bad.any() or values.isna().any():
        row = int(np.flatnonzero((bad | values.isna()).to_numpy())[0])
        raise DataError(f"{where} row {row + 1} column '{column}': {values.iloc[row]!r} is not a stock code; "
                        "write it as 600000.SH, SH600000, sh.600000, 600000.XSHG or 600000")
    return out


def _missing_message(path: Path, missing: list[Col], cols: Sequence[Col], have: list[str], who: str,
                     language: str) -> str:
    expected = [c.source[0] for c in cols if c.required]
    cjk = [bool(_CJK.search(str(h))) for h in have]
    shown = ", ".join(map(str, have[:8])) + (" ..." if len(have) > 8 else "")
    if have and language == "zh" and not any(cjk):
        return (f"{path} row 0 (header): the column names are English ({shown}) but the {who} importer reads "
                f"its Chinese header ({', '.join(expected)}); export the file with the source's own Chinese "
                "header, or import it with the importer of the source it came from")
    if have and language == "en" and all(cjk):
        return (f"{path} row 0 (header): the column names are Chinese ({shown}) but the {who} importer reads "
                f"English field names ({', '.join(expected)}); use the importer of the source it came from "
                "(e.g. akshare or xbx)")
    names = ", ".join(f"'{c.source[0]}'" for c in missing)
    return (f"{path} row 0 (header) column {names}: missing; {who} needs {', '.join(expected)} "
            f"(found: {shown}); rename the column or check the --source")


def drop_exact_duplicates(df: pd.DataFrame, key: list[str], where: str, log, what: str) -> pd.DataFrame:
    """Identical repeated rows are dropped (counted); the same key with different values is an error."""
    dup_key = df.duplicated(key, keep=False)
    if not dup_key.any():
        return df
    same = df.duplicated(keep="first")
    rest = df[~same]
    conflict = rest.duplicated(key, keep="first")
    if conflict.any():
        i = int(np.flatnonzero(conflict.to_numpy())[0])
        label = rest.index[i]
        row = rest.iloc[i]
        first = rest[(rest[key] == row[key]).all(axis=1)].index[0]
        differs = [c for c in rest.columns if c not in key and not _same(rest.loc[first, c], row[c])]
        raise DataError(f"{where} row {int(label) + 1} column '{differs[0] if differs else key[-1]}': duplicate "
                        f"({', '.join(key)}) = ({', '.join(str(row[k]) for k in key)}) with other values than row "
                        f"{int(first) + 1}; keep one row per ({', '.join(key)})")
    log.skip(where, f"{what}: exact duplicate rows", int(same.sum()))
    return rest


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


def code_from_name(path: Path) -> Optional[str]:
    """The 6-digit code (with a sh/sz/bj prefix or .SH suffix when present) in a per-stock file's name."""
    m = re.search(r"(?i)((?:sh|sz|bj)\.?)?(\d{6})(\.(?:sh|sz|bj|xshg|xshe))?", path.stem)
    return m.group(0) if m else None


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))
