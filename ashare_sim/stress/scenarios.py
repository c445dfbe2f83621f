"""The scenario function and the inputs scenarios share; the same code runs in a local process pool,
in this process, or on the workers of a Dask cluster (stress.runner).

    shared = prepare(cfg, need_signal=True, need_pool=True)    # once per shared key (stress.inputs)
    outcome = run_scenario(task, shared)                       # one scenario: a backtest, or its files reused

The market is read once per process (`market_for`, a per-process cache): the local pool forks its
workers after the parent has loaded it, so every worker reads the same physical pages; a Dask
worker loads it on its first scenario and keeps it for the rest. Scores, targets and the pool
benchmark are computed once per shared key and handed to each scenario (`run_backtest(signal=,
benchmark=)`), so an execution-only grid scores the market once.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

import pandas as pd
from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.common.logs import setup_logging
from ashare_sim.common.outdir import read_manifest
from ashare_sim.config.schema import Config
from ashare_sim.stress.episodes import Episode, book_episodes

# One scenario at a time per process: Backtrader and the market's lazily derived panels are not meant
# to be shared by threads (a Dask worker may run several threads).
_RUN_LOCK = threading.Lock()
_MARKETS: dict[tuple[str, Optional[str]], Any] = {}


@dataclass
class Shared:
    """What scenarios of one shared key have in common."""
    key: str
    signal: Any = None                   # signals.pipeline.SignalResult of a scored config, else None
    benchmark: Optional[pd.Series] = None    # backtest.run.benchmark_levels over the run window
    pool: Optional[pd.Series] = None         # the pool's levels, for the episodes
    seconds: float = 0.0
    error: str = ""
    fatal: str = ""                      # a user error every scenario would repeat (bad lists, the user's code)


@dataclass(frozen=True)
class ScenarioTask:
    name: str
    cfg: Config
    out: str                             # DIR/scenarios/<name>
    inputs: str                          # stress.inputs.inputs_fingerprint: equal -> a finished run is reused
    shared: str                          # stress.inputs.shared_key
    episodes: tuple[Episode, ...] = ()
    log_level: Optional[str] = None      # the command line's level for scenario logs (None: leave logging alone)
    restore_level: Optional[str] = None  # the command line's level, restored after a scenario run in its process
    meta: dict = field(default_factory=dict)


@dataclass
class Outcome:
    name: str
    status: str                          # ok | failed
    error: str = ""
    metrics: dict = field(default_factory=dict)     # the scalar figures of metrics.json
    seconds: float = 0.0
    reused: bool = False
    episodes: list = field(default_factory=list)    # stress.episodes rows
    daily: list = field(default_factory=list)       # stress.episodes daily unsellable shares


def market_for(cfg: Config):
    """The market of `cfg.data.path`, read once per process and kept."""
    key = (str(Path(cfg.data.path).resolve()), cfg.rules.table)
    market = _MARKETS.get(key)
    if market is None:
        from ashare_sim.data.open import open_market
        from ashare_sim.signals.returns import total_return_price

        market = open_market(cfg)
        # Derived panels every scenario and the scoring read: computed here, before a pool forks, so
        # the workers share them instead of each computing its own copy.
        for panel in ("last_close", "value_close", "market_cap"):
            getattr(market, panel)
        total_return_price(market)
        _MARKETS[key] = market
    return market


def prepare(cfg: Config, key: str, need_signal: bool, need_pool: bool) -> Shared:
    """Scores / targets, benchmark levels and pool levels for every scenario of `key` (errors kept, not raised)."""
    from ashare_sim.backtest.run import (
        benchmark_levels,
        resolve_targets,
        resolve_window,
    )

    started = time.perf_counter()
    try:
        with _RUN_LOCK:
            market = market_for(cfg)
            if not cfg.strategy.targets_file:
                # Scored lists are shared by every signal delay: each run delays its copy (signals.delay).
                cfg = replace(cfg, strategy=replace(cfg.strategy, signal_delay=0))
            signal, targets = None, None
            if need_signal or cfg.strategy.targets_file:
                targets, signal, _ = resolve_targets(market, cfg, None)
            wcfg = resolve_window(market, cfg, targets)
            benchmark = benchmark_levels(market, wcfg) if need_signal else None
            pool = None
            if need_pool:
                pool = (benchmark if benchmark is not None and wcfg.backtest.benchmark == "pool" else
                        benchmark_levels(market, replace(wcfg, backtest=replace(wcfg.backtest, benchmark="pool"))))
        return Shared(key, signal, benchmark, pool, time.perf_counter() - started)
    except Exception as exc:           # one bad group fails its scenarios, not the grid
        logger.opt(exception=exc).debug(f"shared inputs {key} failed")
        return Shared(key, error=error_text(exc), seconds=time.perf_counter() - started,
                      fatal=str(exc) if isinstance(exc, UserError) else "")


def finished(out: Path, inputs: str) -> bool:
    """A complete backtest set in `out` written for exactly these inputs."""
    run = read_manifest(out, "run.json") or {}
    return (run.get("stress") or {}).get("inputs") == inputs and (out / "metrics.json").is_file()


def run_scenario(task: ScenarioTask, shared: Shared) -> Outcome:
    """One scenario: its backtest into task.out (or the finished one there reused), its headline figures
    and its episodes. Never raises for a failing scenario: the outcome says `failed` and why."""
    started = time.perf_counter()
    if task.log_level:
        setup_logging(task.log_level)
    try:
        with _RUN_LOCK:
            return _run(task, shared, started)
    except Exception as exc:
        logger.opt(exception=exc).debug(f"scenario {task.name} failed")
        return Outcome(task.name, "failed", error_text(exc), seconds=time.perf_counter() - started)
    finally:
        if task.restore_level:
            setup_logging(task.restore_level)


def _run(task: ScenarioTask, shared: Shared, started: float) -> Outcome:
    out = Path(task.out)
    market = market_for(task.cfg)
    reused = finished(out, task.inputs)
    if reused:
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        equity = holdings = None
        if task.episodes:
            equity = pd.read_csv(out / "equity.csv", parse_dates=["date"])
            holdings = pd.read_csv(out / "holdings.csv", parse_dates=["date"])
    else:
        if shared.error:
            raise UserError(f"shared inputs: {shared.error}")
        from ashare_sim.backtest.run import run_backtest

        # The core's own day loop: the Cerebro run's outputs to the byte (tests/execution/test_dayloop.py) at
        # a fraction of its cost, which is what a grid of many scenarios pays for.
        result = run_backtest(market, task.cfg, out, signal=shared.signal, benchmark=shared.benchmark,
                              meta={"stress": {"scenario": task.name, "inputs": task.inputs, **task.meta}},
                              engine="core")
        metrics, equity, holdings = result.metrics, result.equity, result.holdings
    rows, daily = ([], [])
    if task.episodes:
        rows, daily = book_episodes(market, task.cfg, equity, holdings, shared.pool, task.episodes)
    scalars = {k: v for k, v in metrics.items() if v is None or isinstance(v, (int, float, str, bool))}
    return Outcome(task.name, "ok", metrics=scalars, seconds=time.perf_counter() - started, reused=reused,
                   episodes=rows, daily=daily)


def error_text(exc: BaseException) -> str:
    """One line: a user error as it would be shown, anything else with its type."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if isinstance(exc, UserError) else f"{exc.__class__.__name__}: {text}".rstrip(": ")

