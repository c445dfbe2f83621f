"""One import from a checked plan: read, assemble, write atomically; returns the summary text."""
from __future__ import annotations

import time
from pathlib import Path

from loguru import logger

from ashare_sim.data.importers import summary
from ashare_sim.data.importers.assemble import assemble
from ashare_sim.data.importers.base import ImportLog
from ashare_sim.data.importers.plan import Plan
from ashare_sim.data.importers.writer import write_bars, write_frame, write_market


def run_import(plan: Plan) -> tuple[str, dict]:
    """(summary text, import.json stamp) after writing plan.out."""
    started = time.perf_counter()
    log = ImportLog()
    result = assemble(plan, log)

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
