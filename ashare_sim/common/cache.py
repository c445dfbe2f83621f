"""Derived data kept between runs, keyed by everything it is computed from.

    levels = cached_series("pool_benchmark", key, lambda: pool_benchmark(market, cfg))

The folder is $ASHARE_SIM_CACHE, else ~/.cache/ashare-smallcap-sim; ASHARE_SIM_CACHE=off turns the
cache off. A key is a JSON-able object (file stamps of the inputs, the config keys that matter, the
source of the code that computes it); its hash names the file, so a changed input or a changed
function is a miss, never a stale hit. Entries are written to a temporary name and renamed, so a
reader never sees half a file; an unreadable entry is recomputed. Deleting the folder is always safe.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

import pandas as pd
from loguru import logger

CACHE_ENV = "ASHARE_SIM_CACHE"


def cache_dir() -> Optional[Path]:
    """The cache folder, or None when it is off."""
    setting = os.environ.get(CACHE_ENV, "").strip()
    if setting.lower() in ("off", "0", "none", "false"):
        return None
    return Path(setting) if setting else Path.home() / ".cache" / "ashare-smallcap-sim"


def file_stamp(path: str | Path | None) -> list:
    """[name, size, mtime_ns] of a file, of every file of a folder (sorted, hidden ones left out), or []."""
    if not path:
        return []
    p = Path(path)
    if p.is_file():
        st = p.stat()
        return [[p.name, st.st_size, st.st_mtime_ns]]
    if p.is_dir():
        return [row for child in sorted(p.iterdir()) if not child.name.startswith(".") for row in file_stamp(child)]
    return []


def source_stamp(*modules: Any) -> str:
    """A hash of the source files of `modules`: the code a cached value was computed with."""
    h = hashlib.sha256()
    for m in modules:
        h.update(Path(m.__file__).read_bytes())
    return h.hexdigest()[:16]


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:20]


def cached_series(kind: str, key: Any, compute: Callable[[], pd.Series]) -> pd.Series:
    """`compute()`, or the value stored for this key by an earlier run (float64 values round-trip exactly)."""
    folder = cache_dir()
    if folder is None:
        return compute()
    path = folder / kind / f"{digest(key)}.parquet"
    if path.is_file():
        try:
            frame = pd.read_parquet(path)
            return frame.iloc[:, 0].rename(frame.columns[0])
        except Exception as exc:          # a damaged entry: compute it again
            logger.debug(f"cache {path}: unreadable ({exc.__class__.__name__}), recomputing")
    value = compute()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=path.parent)
        os.close(fd)
        value.to_frame(value.name or "value").to_parquet(tmp)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:                # a read-only home: run without the cache
        logger.debug(f"cache {path.parent}: not writable ({exc}); not kept")
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return value
