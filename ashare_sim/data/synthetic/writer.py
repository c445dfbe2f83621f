"""Write a generated market as a market data directory (docs/data.md), deterministically and atomically.

Same arguments, same bytes: fixed row order (bars by date then symbol), no
pandas or time metadata, fixed Parquet options. The directory is written
beside the target under a temporary name and renamed into place at the end,
so an error never leaves a half-written market.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ashare_sim.common.errors import UserError
from ashare_sim.common.logs import progress

_OPTIONS = dict(compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True,
                version="2.6", data_page_version="1.0")
_PRICE_COLUMNS = ("open", "high", "low", "close", "pre_close")
_FLOAT_COLUMNS = ("volume", "amount", "adj_factor", "total_shares", "float_shares")
_ROWS_PER_GROUP_DAYS = 128


def check_target(out: Path) -> None:
    """UserError when `out` exists and is not an empty directory (checked before any work)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--out {out}: already exists and is not empty; remove it or choose another directory")


@contextlib.contextmanager
def atomic_directory(out: Path) -> Iterator[Path]:
    """Yield a temporary directory beside `out`; rename it to `out` on success, remove it on error."""
    out = Path(out)
    check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _column(values: np.ndarray | pd.Series) -> pa.Array:
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        return pa.array(arr.astype("datetime64[D]"), type=pa.date32())
    if arr.dtype == object:
        return pa.array([None if v is None else str(v) for v in arr], type=pa.string())
    return pa.array(arr)


def write_frame(path: Path, df: pd.DataFrame) -> None:
    table = pa.table({c: _column(df[c].to_numpy()) for c in df.columns})
    pq.write_table(table, path, **_OPTIONS)


def write_bars(path: Path, dates: np.ndarray, symbols: np.ndarray, traded: np.ndarray,
               panels: dict[str, np.ndarray]) -> int:
    """Rows of `traded` in (date, symbol) order; prices from int cents, the rest float64."""
    schema = pa.schema([("date", pa.date32()), ("symbol", pa.dictionary(pa.int32(), pa.string()))]
                       + [(c, pa.float64()) for c in _PRICE_COLUMNS + _FLOAT_COLUMNS])
    dictionary = pa.array([str(s) for s in symbols], type=pa.string())
    rows = 0
    with pq.ParquetWriter(path, schema, **_OPTIONS) as writer:
        blocks = range(0, len(dates), _ROWS_PER_GROUP_DAYS)
        for a in progress(blocks, desc="writing bars", total=len(blocks)):
            b = min(a + _ROWS_PER_GROUP_DAYS, len(dates))
            t, n = np.nonzero(traded[a:b])
            cols = [pa.array(dates[a + t].astype("datetime64[D]"), type=pa.date32()),
                    pa.DictionaryArray.from_arrays(pa.array(n.astype(np.int32)), dictionary)]
            for c in _PRICE_COLUMNS:
                cols.append(pa.array(panels[c][a:b][t, n].astype(np.float64) / 100.0))
            for c in _FLOAT_COLUMNS:
                cols.append(pa.array(panels[c][a:b][t, n]))
            writer.write_table(pa.Table.from_arrays(cols, schema=schema))
            rows += len(t)
    return rows
