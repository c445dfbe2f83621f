"""A market read from a data directory, kept between runs as memory-mapped arrays.

    market = load_market_cached(path, rules)      # == load_market(path, rules)

The first run over a directory reads its Parquet and derives every flag and limit as `load_market` does,
then stores the result under `common.cache.cache_dir()/market/<key>/`: each numeric panel as a .npy file
(with the derived panels nearly every run reads: last close, value close, market cap), the rest
(instruments, tables, labels) pickled. Later runs map the .npy files instead of reading and
deriving again (about 0.2 s instead of about 5 s on the default market), and every process that maps the
same market shares its pages through the page cache instead of holding its own copy: the stress
command's workers on any machine, or two backtests side by side. Arrays are mapped copy-on-write, so a
process may write into one without touching the file or any other process.

The key is the data directory's files (name, size, modification time), the rules table's file and the
source of the loader's modules: edited data or loader code is a miss, never a stale hit. At most
KEEP_MARKETS markets are kept (the least recently used go); ASHARE_SIM_CACHE=off turns it off.
"""
from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np
from loguru import logger

from ashare_sim.common import cache
from ashare_sim.common.logs import Phase
from ashare_sim.data import checks, derive, schema, tables
from ashare_sim.data import market as market_module
from ashare_sim.data.market import Market, load_market
from ashare_sim.rules import RulesTable
from ashare_sim.rules import table as rules_table

KEEP_MARKETS = 3
# Market fields held as (T, N) or (N,) numeric arrays: mapped, not pickled.
ARRAY_FIELDS = ("has_bar", "is_listed", "is_suspended", "is_st", "days_listed", "list_index", "delist_index")
# Panels the Market derives on first use that nearly every run reads (valuation, the pool's size), kept too: on
# the default market they cost about 1.2 s per process to derive again and a few ms to map.
DERIVED_PANELS = ("last_close", "value_close", "market_cap")


def load_market_cached(path: str | Path, rules: RulesTable, bad_bars: str = "refuse") -> Market:
    folder = cache.cache_dir()
    directory = Path(path)
    if folder is None or not directory.is_dir():
        return load_market(directory, rules, bad_bars)
    key = cache.digest({"data": cache.file_stamp(directory), "rules": cache.file_stamp(rules.source),
                        "bad_bars": bad_bars,
                        "code": cache.source_stamp(market_module, derive, tables, schema, rules_table, checks)})
    entry = folder / "market" / key
    if (entry / "market.pkl").is_file():
        try:
            market = _read(entry, rules, str(directory))
            os.utime(entry)                   # recently used: kept longest
            return market
        except Exception as exc:          # a damaged entry: read the data again
            logger.debug(f"market cache {entry}: unreadable ({exc.__class__.__name__}: {exc}); reading {directory}")
    with Phase(f"{directory}: first load", start_text="reading the tables and deriving every flag and limit "
               "(later runs map the result)"):
        market = load_market(directory, rules, bad_bars)
    size = (sum(a.nbytes for a in market.panels.values()) + sum(getattr(market, f).nbytes for f in ARRAY_FIELDS)
            + sum(market.close.size * 4 for _ in DERIVED_PANELS))          # float32 (T, N) each
    with Phase("market cache", start_text=f"writing {size / 1e6:,.0f} MB to {entry} (the next runs map it in a "
               "fraction of a second)"):
        _write(entry, market)
    return market


def _read(entry: Path, rules: RulesTable, source: str) -> Market:
    with open(entry / "market.pkl", "rb") as f:
        light = pickle.load(f)
    arrays = {p.stem: np.asarray(np.load(p, mmap_mode="c")) for p in entry.glob("*.npy")}
    panels = {name[len("panel."):]: a for name, a in arrays.items() if name.startswith("panel.")}
    market = dataclasses.replace(light, panels=panels, rules=rules, source=source,
                                 **{f: arrays[f] for f in ARRAY_FIELDS})
    for name in DERIVED_PANELS:
        if f"derived.{name}" in arrays:          # as the cached_property would have stored it
            market.__dict__[name] = arrays[f"derived.{name}"]
    for note in market.notes:
        logger.info(f"{source}: {note}")
    return market


def _write(entry: Path, market: Market) -> None:
    """Store `market` under `entry` (best effort: a full or read-only disk only costs the next run a read)."""
    tmp = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
        for name, panel in market.panels.items():
            np.save(tmp / f"panel.{name}.npy", panel)
        for name in ARRAY_FIELDS:
            np.save(tmp / f"{name}.npy", getattr(market, name))
        for name in DERIVED_PANELS:
            try:
                panel = getattr(market, name)
            except Exception as exc:             # derived on use instead, where the run can say what is missing
                logger.debug(f"market cache {entry}: {name} not kept ({exc.__class__.__name__}: {exc})")
                continue
            np.save(tmp / f"derived.{name}.npy", panel)
        light = dataclasses.replace(market, panels={}, rules=None, derived={}, **{f: None for f in ARRAY_FIELDS})
        with open(tmp / "market.pkl", "wb") as f:
            pickle.dump(light, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)                # the entry appears whole or not at all
        tmp = None
        _evict(entry.parent)
    except OSError as exc:
        logger.debug(f"market cache {entry}: not kept ({exc})")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _evict(folder: Path) -> None:
    entries = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP_MARKETS:]:
        shutil.rmtree(old, ignore_errors=True)
