"""`run_stress`: config + grid -> one backtest per scenario (DIR/scenarios/<name>/) -> stress.csv,
episodes.csv, stress.html in DIR.

    result = run_stress(cfg, "capacity", "out/stress-capacity", workers=2)   # StressResult
    result.table                       # stress.csv's rows; result.failed: how many scenarios failed

Everything the user can get wrong (config, grid, episodes, the output folder, workers) is checked
before any scenario runs. The directory is marked as a stress set first (stress.json), so a grid
stopped half way (Ctrl-C, a killed machine) can be run again into the same DIR: finished scenarios
with the same inputs are reused, the rest run. A failing scenario is a row of stress.csv with its
error; the grid goes on.
"""
from __future__ import annotations

import contextlib
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import pandas as pd
from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.common.logs import progress
from ashare_sim.common.outdir import (
    STAGING_PREFIX,
    check_output_dir,
    output_set,
    read_manifest,
)
from ashare_sim.common.typed import to_plain
from ashare_sim.data.open import check_output_outside_market, ensure_market
from ashare_sim.report.stress import render
from ashare_sim.stress.episodes import load_episodes
from ashare_sim.stress.grid import Grid, load_grid
from ashare_sim.stress.inputs import data_fingerprint, inputs_fingerprint, shared_key
from ashare_sim.stress.outputs import (
    capacity_curves,
    episodes_table,
    reference_scenario,
    stress_table,
    write_tables,
)
from ashare_sim.stress.runner import default_workers, name_list, open_runner, run_tasks
from ashare_sim.stress.scenarios import Outcome, ScenarioTask, finished, market_for

MANIFEST = "stress.json"
LARGE_GRID = 100                  # scenarios: above this the run is announced with its size


@dataclass
class StressResult:
    grid: Grid
    table: pd.DataFrame                  # stress.csv: one row per scenario
    episodes: pd.DataFrame               # episodes.csv
    daily: pd.DataFrame                  # the unsellable share of the book per episode day
    curves: list                         # capacity / crowding curves (stress.outputs.Curve)
    out: Path
    files: list[str] = field(default_factory=list)
    runner: str = ""
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return int((self.table["status"] != "ok").sum())


def output_folder(cfg, grid: str | Path, out: str | Path | None) -> Path:
    """The stress set's folder: `out`, else output.dir/stress-<grid name>."""
    return Path(out) if out else Path(cfg.output.dir) / f"stress-{Path(grid).stem}"


def run_stress(cfg, grid: str | Path, out: str | Path | None = None, *, workers: Optional[int] = None,
               scheduler: Optional[str] = None, episodes: Optional[str] = None, config_name: str = "",
               verbose: Optional[int] = None, quiet: bool = False) -> StressResult:
    """Run every scenario of `grid` (a file, or a shipped grid's name) on `cfg`; write the set into `out`.
    `episodes`: a YAML list of historical episodes (default: the shipped list; "none" to skip);
    `scheduler`: a Dask scheduler address instead of local worker processes. `verbose` / `quiet`: the
    command line's log settings for the scenarios (None, from Python: logging is left as it is)."""
    started = time.perf_counter()
    out = output_folder(cfg, grid, out)
    check_output_dir(out)
    check_output_outside_market(out, cfg)
    grid = load_grid(grid, cfg)
    if len(grid.scenarios) > LARGE_GRID:
        logger.warning(f"stress grid {grid.label}: {len(grid.scenarios):,} scenarios, each a full backtest of the "
                       "window; finished ones are kept, so Ctrl-C and the same command again resumes")
    episode_list = load_episodes(episodes)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise UserError(f"--workers {workers}: give at least 1 (default: the {default_workers()} cores here)")
    for path in dict.fromkeys(s.cfg.data.path for s in grid.scenarios):
        ensure_market(next(s.cfg for s in grid.scenarios if s.cfg.data.path == path))
    tasks = make_tasks(grid, out, episode_list, verbose, quiet)
    shared = shared_inputs(grid, tasks, need_pool=bool(episode_list))
    fresh = not out.exists()
    _mark(out, grid)
    logger.info(f"stress grid {grid.label}: {len(tasks)} scenarios, {len(shared)} set(s) of shared scores and "
                f"benchmark, output to {out}")
    if not scheduler:
        market_for(grid.scenarios[0].cfg)        # read once here; forked workers share its pages
    outcomes: dict[str, Outcome] = {}
    runner = None
    try:
        with _terminate_as_interrupt(), open_runner(workers, scheduler, len(tasks)) as runner:
            logger.info(f"running on {runner.label}")
            for outcome in progress(run_tasks(runner, shared, tasks), "scenarios", total=len(tasks)):
                outcomes[outcome.name] = outcome
                logger.info(_line(outcome, len(outcomes), len(tasks)))
    except UserError:                          # refused before any scenario ran: leave no folder behind
        if fresh and not outcomes:
            shutil.rmtree(out, ignore_errors=True)
        raise
    except KeyboardInterrupt:
        # The runner is closed by now: its workers are stopped or ended, and a Dask cluster's cannot write here.
        _remove_staging(out / "scenarios")
        cancelled = getattr(runner, "cancelled", None)       # a Dask grid's account of what had started
        kept = [o.name for o in outcomes.values() if o.status == "ok"] + (cancelled.kept if cancelled else [])
        account = cancelled.text() if cancelled else ""
        logger.warning(f"interrupted: {len(kept)} of {len(tasks)} scenarios finished and are kept in "
                       f"{out / 'scenarios'}" + (f" ({name_list(kept)})" if kept and cancelled else "")
                       + (f"; {account}" if account else "")
                       + "; run the same command again to run the rest (finished ones are reused)")
        raise
    label = runner.label
    table = stress_table(grid, outcomes)
    ep, daily = episodes_table(grid, outcomes)
    curves = capacity_curves(grid, table)
    seconds = time.perf_counter() - started
    info = {"grid": grid.label, "description": grid.description, "config": config_name,
            "reference": reference_scenario(table),
            "data": sorted({str(s.cfg.data.path) for s in grid.scenarios}), "runner": label,
            "seconds": round(seconds, 1), "shared_inputs": len(shared)}
    with output_set(out, MANIFEST, {"kind": "stress", "status": "complete", **info,
                                    "scenarios": [s.name for s in grid.scenarios], "config": to_plain(cfg)}) as stage:
        files = write_tables(stage, table, ep, daily)
        (stage / "stress.html").write_text(render(grid, table, curves, ep, daily, info), encoding="utf-8")
    _prune(out, grid)
    result = StressResult(grid, table, ep, daily, curves, out, files + ["stress.html"], label, seconds)
    if result.failed:
        logger.error(f"{result.failed} of {len(table)} scenarios failed; their errors are in {out / 'stress.csv'}")
    return result


def make_tasks(grid: Grid, out: Path, episodes, verbose: Optional[int] = None,
               quiet: bool = False) -> list[ScenarioTask]:
    level = restore = None
    if verbose is not None:           # the command line: scenarios log errors only unless -v / -vv
        level = "DEBUG" if verbose >= 2 else ("INFO" if verbose == 1 else "ERROR")
        restore = "DEBUG" if verbose >= 1 else ("WARNING" if quiet else "INFO")
    tasks = []
    for s in grid.scenarios:
        inputs = inputs_fingerprint(s.cfg, data_fingerprint(s.cfg))
        tasks.append(ScenarioTask(s.name, s.cfg, str(out / "scenarios" / s.name), inputs, shared_key(s.cfg),
                                  tuple(episodes), level, restore,
                                  {"grid": grid.label, "overrides": {k: str(v) for k, v in s.overrides.items()}}))
    return tasks


def shared_inputs(grid: Grid, tasks: list[ScenarioTask], need_pool: bool) -> dict[str, tuple]:
    """shared key -> (config, need_signal, need_pool) for stress.scenarios.prepare; the scores are
    skipped for a key whose scenarios have all finished already."""
    by_key: dict[str, tuple] = {}
    for s, t in zip(grid.scenarios, tasks):
        todo = not finished(Path(t.out), t.inputs)
        cfg, need, _ = by_key.get(t.shared, (s.cfg, False, need_pool))
        by_key[t.shared] = (cfg, need or todo, need_pool)
    return by_key


def _mark(out: Path, grid: Grid) -> None:
    """Make DIR a stress set before any scenario runs, so an interrupted grid's DIR is accepted again."""
    if read_manifest(out, MANIFEST) is None:
        with output_set(out, MANIFEST, {"kind": "stress", "status": "running", "grid": grid.label}):
            pass


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (`kill`, a batch system ending the job) stops the grid as Ctrl-C does: the runner cancels
    its work and the same message and exit status follow, instead of dying with scenarios left running on
    a cluster. Only in the main thread, and only where nobody else has claimed SIGTERM."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _remove_staging(folder: Path) -> None:
    """Staging folders of scenarios whose workers were ended mid-write (this run's: its workers are gone)."""
    if folder.is_dir():
        for p in folder.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(p, ignore_errors=True)


def _prune(out: Path, grid: Grid) -> None:
    """Scenario folders of an earlier grid in the same DIR are removed (ours only), so none is mistaken
    for this grid's."""
    folder = out / "scenarios"
    if not folder.is_dir():
        return
    names = {s.name for s in grid.scenarios}
    stale = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in names
             and (read_manifest(p, "run.json") or {}).get("stress")]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    if stale:
        logger.info(f"removed {len(stale)} scenario folder(s) of an earlier grid from {folder}")


def _line(o: Outcome, k: int, n: int) -> str:
    head = f"[{k}/{n}] {o.name}: "
    if o.status != "ok":
        return head + f"failed: {o.error}"
    m = o.metrics

    def pct(key: str) -> str:
        v = m.get(key)
        return "n/a" if v is None else f"{v:+.1%}"

    return head + (f"{'reused' if o.reused else 'ran'} in {o.seconds:.1f} s: annual {pct('annual_return')}, "
                   f"excess {pct('excess_annual_return')}, IR {m.get('information_ratio') or float('nan'):.2f}")
