"""CSV files as users have them: UTF-8 (with or without the BOM Excel adds) or GBK / GB18030, which is what
Excel on a Chinese Windows and the A-share terminals write. Every CSV a user hands us is read through here,
so a file that opens in one command opens in all of them. `write_csv` writes ours (the run's logs)."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ashare_sim.common.errors import UserError

UTF8, GB = "utf-8-sig", "gb18030"          # GB18030 is a superset of GBK and GB2312
_SAMPLE = 1 << 16
# Memory a CSV takes once read, per cell: an 8-byte slot for every cell, and about 50 bytes more for each
# non-empty one read as text (a Python str). Measured: a sparse bars CSV (48 M empty cells) took 10.6 bytes
# a cell, so a 2 GB file of empty cells needs ~20 GB, ten times its size.
_BYTES_PER_CELL, _BYTES_PER_TEXT = 11, 50
# Files below this are read without the estimate (it samples the file, which is not worth it for small ones).
CHECKED_FROM_BYTES = 256 << 20


_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")     # .xlsx (a zip) and .xls (an OLE file)


def sniff_encoding(path: Path, what: str = "CSV") -> str:
    """UTF-8 unless the file's head fails to decode as UTF-8 (then GB18030); UTF-16 when it starts with its
    BOM (Excel's "Unicode text"). A character cut by the sample's end does not count. An Excel workbook is
    refused with the fix."""
    with open(path, "rb") as f:
        head = f.read(_SAMPLE)
    if head.startswith(_WORKBOOKS):
        raise UserError(f"{path}: the {what} is an Excel workbook, not text; in Excel, save it as \"CSV UTF-8\" "
                        "(or CSV) and give that file")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return GB
    return UTF8


def encoding_error(path: Path, exc: UnicodeDecodeError, what: str = "CSV") -> UserError:
    return UserError(f"{path}: the {what} is not text in UTF-8, GBK / GB18030 or UTF-16 (the byte at {exc.start} "
                     "is none of them); save it as CSV UTF-8 and try again")


def available_memory() -> int:
    """Bytes of memory the system can give without swapping (MemAvailable), or the physical total."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_estimate(path: Path, text_share: float = 1.0) -> tuple[int, int]:
    """(cells, bytes of memory once read) of a CSV, from three samples of its lines (head, middle, tail),
    so a file that turns sparse after a dense head is not underestimated. `text_share`: the share of its
    columns read as text (a Python str per filled cell); the rest parse to 8-byte numbers."""
    size = path.stat().st_size
    lines = cells = filled = sampled = 0
    with open(path, "rb") as f:
        start = len(f.readline())
        for at in sorted({start, max(start, size // 2), max(start, size - _SAMPLE)}):
            f.seek(at)
            whole = f.read(_SAMPLE).split(b"\n")[:-1]            # the last piece may be cut
            for line in whole[1:] if at > start else whole:        # so may the first, past the head
                lines += 1
                sampled += len(line) + 1
                values = line.rstrip(b"\r").split(b",")
                cells += len(values)
                filled += sum(1 for v in values if v.strip(b' "'))
    if not lines:
        return 0, 0
    rows = (size - start) / (sampled / lines)
    total = int(rows * cells / lines)
    return total, int(total * _BYTES_PER_CELL + rows * filled / lines * _BYTES_PER_TEXT * text_share)


def check_fits_in_memory(path: Path, what: str = "CSV", text_share: float = 1.0) -> None:
    """Refuse, before reading, a CSV whose cells would not fit in the memory free now, naming the figures
    and the fix: reading it would swap the machine for minutes, then fail."""
    if path.stat().st_size < CHECKED_FROM_BYTES:
        return
    cells, need = memory_estimate(path, text_share)
    free = available_memory()
    if need > free:
        raise UserError(f"{path}: this {what} of {path.stat().st_size / 1e9:.1f} GB holds about {cells / 1e6:,.0f} "
                        f"million cells, which need about {need / 1e9:.1f} GB of memory to read; "
                        f"{free / 1e9:.1f} GB is free. Keep only the columns and rows that are needed, split it "
                        "into several files, or save it as Parquet")


def _text_share(path: Path, dtype) -> float:
    """The share of a read's columns kept as text: all with dtype=str, the named ones with a mapping."""
    if dtype is str or dtype == "string" or dtype is object:
        return 1.0
    if isinstance(dtype, dict) and dtype:
        with open(path, "rb") as f:
            columns = max(1, f.readline().count(b",") + 1)
        texts = sum(1 for v in dtype.values() if v in (str, "str", "string", object))
        return min(1.0, texts / columns)
    return 0.0


def read_csv(path: str | Path, what: str = "CSV", **kwargs) -> pd.DataFrame:
    """`pandas.read_csv` in the file's encoding (UTF-8 or GB18030, found by content); a file in neither, or
    one too big for the free memory, is a UserError with the fix. Other pandas errors pass through for the
    caller to word."""
    path = Path(path)
    check_fits_in_memory(path, what, _text_share(path, kwargs.get("dtype")))
    enc = sniff_encoding(path, what)
    try:
        return pd.read_csv(path, encoding=enc, **kwargs)
    except UnicodeDecodeError as exc:
        if enc == GB:
            raise encoding_error(path, exc, what) from None
        try:                                   # non-UTF-8 bytes past the sampled head
            return pd.read_csv(path, encoding=GB, **kwargs)
        except UnicodeDecodeError:
            raise encoding_error(path, exc, what) from None


# Text a CSV field may not hold unquoted (the csv module's minimal quoting quotes a field with any of them).
_NEEDS_QUOTES = (",", '"', "\r", "\n")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """`df.to_csv(path, index=False)`, byte for byte, formatted a column at a time: pandas formats every float
    through NumPy cell by cell, a second or more for the order and trade logs of a busy stress scenario. Each
    column's cells are texts (a distinct value formatted once), joined into lines by Arrow's CSV writer, told
    to quote nothing: text that would need quoting, and columns of other types, are left to pandas (the same
    bytes, only slower)."""
    cells = [_column_text(df[c]) for c in df.columns] if df.columns.is_unique else [None]
    header = [str(c) for c in df.columns]
    if len(header) < 2 or any(c is None for c in cells) or _needs_quotes(header):
        df.to_csv(path, index=False)
        return
    table = pa.table(cells, names=[f"c{i}" for i in range(len(cells))])
    with open(path, "wb") as f:
        f.write((",".join(header) + "\n").encode("utf-8"))
        pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False, quoting_style="none"))


def _column_text(col: pd.Series) -> pa.Array | None:
    """Each cell of `col` as to_csv writes it (missing: empty), or None for a column left to pandas. Numbers and
    text are formatted once per distinct value (a log's prices, dates and reasons repeat across many rows)."""
    kind, numpy_type = col.dtype.kind, isinstance(col.dtype, np.dtype)
    if numpy_type and kind == "f" and col.dtype.itemsize == 8:
        # distinct by bits, so 0.0 and -0.0 keep their own text
        codes, bits = pd.factorize(col.to_numpy().view(np.int64))
        return _taken([("" if x != x else repr(x)) for x in bits.view(np.float64).tolist()], codes)   # NumPy's str
    if numpy_type and kind in "iu":
        codes, distinct = pd.factorize(col.to_numpy())
        return _taken([str(x) for x in distinct.tolist()], codes)
    if numpy_type and kind == "b":
        return pa.array([str(x) for x in col.to_numpy().tolist()], type=pa.large_string())
    if isinstance(col.dtype, pd.StringDtype):        # text or missing only: distinct values are distinct texts
        codes, distinct = pd.factorize(col)             # missing: -1, the empty text appended last
        texts = [str(v) for v in distinct] + [""]
        return None if _needs_quotes(texts) else _taken(texts, codes)
    if kind == "O":
        values = col.to_numpy(dtype=object).tolist()
        missing = col.isna().to_numpy()
        if missing.any():
            values = ["" if gone else v for v, gone in zip(values, missing.tolist())]
        if not all(type(v) is str for v in values):
            values = [v if type(v) is str else _cell_text(v) for v in values]
            if None in values:
                return None             # a value pandas may show its own way
        return None if _needs_quotes(values) else pa.array(values, type=pa.large_string())
    return None


def _taken(texts: list[str], codes: np.ndarray) -> pa.Array:
    """texts[code] for each code (-1: the last text)."""
    index = np.where(codes < 0, len(texts) - 1, codes).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(index), pa.array(texts, type=pa.large_string())).cast(
        pa.large_string())


def _cell_text(value) -> str | None:
    """A non-text cell of a text column as to_csv writes it (str), None for types left to pandas."""
    return str(value) if type(value) in (int, float, bool) or isinstance(value, dt.date) else None


def _needs_quotes(texts: list[str]) -> bool:
    joined = "\x00".join(texts)
    return any(ch in joined for ch in _NEEDS_QUOTES)
