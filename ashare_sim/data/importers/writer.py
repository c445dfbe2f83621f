"""Writing an imported market: every table as Parquet in a temporary directory beside --out, switched in
at the end in one step (a failure or a kill leaves the old market or the new one, never half of one),
plus `import.json` (what was imported and the summary), which marks the directory as ours: only such a
directory may be replaced, only when asked (--replace), and only when it holds nothing but the import.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ashare_sim.common.errors import UserError
from ashare_sim.common.logs import progress
from ashare_sim.common.outdir import STAGING_PREFIX, recover, switch_dir
from ashare_sim.data.schema import SCHEMAS

STAMP = "import.json"
_OPTIONS = dict(compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True)
_DAYS_PER_GROUP = 64


def check_out(out: Path, replace: bool) -> None:
    """UserError unless `out` is absent, empty, or a previous import replaced on purpose that holds nothing
    but the import (a user's file in it would be lost with the old market)."""
    out = Path(out)
    recover(_real(out), (STAMP,))
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    ours = out.is_dir() and (out / STAMP).is_file()
    if ours and replace:
        foreign = sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir() if not _import_file(p.name))
        if foreign:
            shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            raise UserError(f"--out {out}: --replace would remove files that are not part of the import ({shown}); "
                            "move them out of the market folder first (nothing was written)")
        return
    if ours:
        raise UserError(f"--out {out}: holds a previous import; add --replace to replace it, or choose another "
                        "directory")
    raise UserError(f"--out {out}: already exists and is not an import of ours (no {STAMP}); remove it or "
                    "choose another directory")


def _import_file(name: str) -> bool:
    """A file an import writes (its tables, its stamp) or a generated market's stamp."""
    stem, _, ext = name.partition(".")
    return name in (STAMP, "generator.json") or (ext in ("parquet", "csv") and stem in SCHEMAS)


def _real(out: Path) -> Path:
    """The folder itself when `out` is a symbolic link to one: the link keeps pointing at the new market."""
    return out.resolve() if out.is_symlink() else out


def write_market(out: Path, replace: bool, fill: Callable[[Path], dict]) -> dict:
    """Run `fill(tmp)` (it writes the tables and returns the stamp) and switch tmp in as `out` in one step:
    at every instant `out` is the whole old market or the whole new one (kill -9 included)."""
    out = Path(out)
    check_out(out, replace)
    target = _real(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_staging(target)
    tmp = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-{os.getpid()}-", dir=target.parent))
    try:
        stamp = fill(tmp)
        (tmp / STAMP).write_text(json.dumps(stamp, indent=2, ensure_ascii=False, default=str) + "\n",
                                 encoding="utf-8")
        os.chmod(tmp, 0o777 & ~_umask())
        if target.exists():
            switch_dir(target, tmp)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return stamp


def _remove_dead_staging(target: Path) -> None:
    """Staging folders of imports into `target` whose process is gone (killed): a market is gigabytes, so
    they are removed now, not left for a day. A live import's (its process still running) is kept."""
    for p in target.parent.glob(f"{STAGING_PREFIX}{target.name}-*-*"):
        pid = p.name[len(f"{STAGING_PREFIX}{target.name}-"):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
