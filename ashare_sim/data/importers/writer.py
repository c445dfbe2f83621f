"""Writing an imported market: every table as Parquet in a temporary directory beside --out, renamed
into place at the end (a failure leaves nothing half-written), plus `import.json` (what was imported
and the summary), which marks the directory as ours: only such a directory may be replaced, and
only when asked (--replace).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ashare_sim.common.errors import UserError
from ashare_sim.common.logs import progress

STAMP = "import.json"
_OPTIONS = dict(compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True)
_DAYS_PER_GROUP = 64


def check_out(out: Path, replace: bool) -> None:
    """UserError unless `out` is absent, empty, or a previous import replaced on purpose."""
    out = Path(out)
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    ours = out.is_dir() and (out / STAMP).is_file()
    if ours and replace:
        return
    if ours:
        raise UserError(f"--out {out}: holds a previous import; add --replace to replace it, or choose another "
                        "directory")
    raise UserError(f"--out {out}: already exists and is not an import of ours (no {STAMP}); remove it or "
                    "choose another directory")


def write_market(out: Path, replace: bool, fill: Callable[[Path], dict]) -> dict:
    """Run `fill(tmp)` (it writes the tables and returns the stamp) and move tmp to `out`."""
    out = Path(out)
    check_out(out, replace)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        stamp = fill(tmp)
        (tmp / STAMP).write_text(json.dumps(stamp, indent=2, ensure_ascii=False, default=str) + "\n",
                                 encoding="utf-8")
        if out.exists():
            os.replace(out, old)          # the previous import stays whole until the new one is in place
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return stamp


def write_frame(path: Path, df: pd.DataFrame) -> None:
    """A small table; dates as date32, text as strings."""
    cols = {}
    for c in df.columns:
        v = df[c]
        if pd.api.types.is_datetime64_any_dtype(v):
            cols[c] = pa.array(v.to_numpy().astype("datetime64[D]"), type=pa.date32(), mask=v.isna().to_numpy())
        elif pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v):
            cols[c] = pa.array(v.to_numpy(dtype=np.float64))
        else:
            cols[c] = pa.array([None if (x is None or (isinstance(x, float) and np.isnan(x))) else str(x)
                                for x in v.to_numpy(dtype=object)], type=pa.string())
    pq.write_table(pa.table(cols), path, **_OPTIONS)


def write_bars(path: Path, day: np.ndarray, sid: np.ndarray, symbols: np.ndarray, fields: dict[str, np.ndarray],
               order: np.ndarray) -> int:
    """Rows in `order` (date, then symbol), written a block of days at a time (no second full copy)."""
    schema = pa.schema([("date", pa.date32()), ("symbol", pa.dictionary(pa.int32(), pa.string()))]
                       + [(f, pa.float64()) for f in fields])
    dictionary = pa.array([str(s) for s in symbols], type=pa.string())
    sorted_days = day[order]
    bounds = np.flatnonzero(np.r_[True, sorted_days[1:] != sorted_days[:-1]])
    starts = bounds[::_DAYS_PER_GROUP]
    ends = np.r_[starts[1:], len(order)]
    with pq.ParquetWriter(path, schema, **_OPTIONS) as writer:
        for a, b in progress(list(zip(starts, ends)), desc="writing bars", total=len(starts)):
            rows = order[a:b]
            cols = [pa.array(sorted_days[a:b], type=pa.date32()),
                    pa.DictionaryArray.from_arrays(pa.array(sid[rows].astype(np.int32)), dictionary)]
            cols += [pa.array(fields[f][rows]) for f in fields]
            writer.write_table(pa.Table.from_arrays(cols, schema=schema))
    return len(order)
