"""One import from a checked plan: read, assemble, write atomically; returns the summary text."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from loguru import logger

from ashare_sim.common.errors import DataError
from ashare_sim.data.checks import bar_faults
from ashare_sim.data.importers import summary
from ashare_sim.data.importers.assemble import assemble
from ashare_sim.data.importers.base import ImportLog
from ashare_sim.data.importers.plan import Plan
from ashare_sim.data.importers.writer import write_bars, write_frame, write_market


def refuse_bad_bars(b) -> None:
    """No market is written with a bar the data cannot have (the loader would refuse it anyway)."""
    faults = bar_faults(b.fields)
    if not faults:
        return
    bad = np.zeros(len(b), dtype=bool)
    for f in faults:
        bad |= f.mask
    f = faults[0]
    i = int(np.flatnonzero(f.mask)[0])
    kinds = "; ".join(f"{x.column}: {x.message} {int(x.mask.sum()):,}" for x in faults)
    raise DataError(f"data import: {int(bad.sum()):,} bar(s) the sources give that a market cannot have ({kinds}), "
                    f"e.g. {b.symbols[b.sid[i]]} on {b.day[i]}: {f.column} {float(b.fields[f.column][i]):g}; "
                    "fix or leave out those rows in the source (nothing was written)")


def run_import(plan: Plan) -> tuple[str, dict]:
    """(summary text, import.json stamp) after writing plan.out."""
    started = time.perf_counter()
    log = ImportLog()
    result = assemble(plan, log)
    refuse_bad_bars(result.bars)

    def fill(tmp: Path) -> dict:
        b = result.bars
        order = b.write_order()
        logger.info(f"writing {len(b):,} bars to {plan.out}")
        write_bars(tmp / "bars.parquet", b.day, b.sid, b.symbols, b.fields, order)
        for name, df in result.tables.items():
            write_frame(tmp / f"{name}.parquet", df)
        return summary.stamp(plan.describe(), result, log, time.perf_counter() - started)

    stamp = write_market(plan.out, plan.replace, fill)
    return summary.render(str(plan.out), time.perf_counter() - started, result, log), stamp
