"""`run_backtest`: one Backtrader run of the A-share engine, from a Market in memory to output files.

    result = run_backtest(market, cfg, Path("out"))                 # targets from config
    result = run_backtest(market, cfg, None, targets=df)            # in memory only (tests, stress)
    result = run_backtest(market, cfg, out, signal=sig, benchmark=b)  # scores / benchmark computed once (stress)

Cerebro gets one feed (the clock, `backtest.clock.ClockFeed`), the `Rebalancer`
strategy, the `AShareBroker` and Backtrader's TimeReturn and DrawDown
analyzers. Targets: the `targets` argument, else `strategy.targets_file`, else
the scoring pipeline (`signals.pipeline.build_targets`), or its result passed as `signal` (a grid of
scenarios that differ only in execution scores once). `benchmark` passes the levels of
`benchmark_levels(market, cfg)` the same way; `meta` adds keys to the output set's run.json.
`strategy.signal_delay` moves every list k trading days later (`signals.delay`).
"""
from __future__ import annotations

import datetime as dt
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import backtrader as bt
import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.backtest.analyzers import PerformanceAnalyzer, align_benchmark
from ashare_sim.backtest.broker import AShareBroker
from ashare_sim.backtest.clock import ClockFeed
from ashare_sim.backtest.outputs import (
    ENGINE_ORDER_COLUMNS,
    ENGINE_TRADE_COLUMNS,
    csv_frame,
    targets_table,
    write_outputs,
)
from ashare_sim.backtest.proxy import ProxyBook
from ashare_sim.backtest.strategy import SKIP_CAUSES, Rebalancer
from ashare_sim.common.errors import UserError
from ashare_sim.common.collector import collector_paused
from ashare_sim.common.logs import Phase
from ashare_sim.common.outdir import check_output_dir
from ashare_sim.common.typed import parse_date_text, to_plain
from ashare_sim.data.coverage import missing_pieces, stale_listings, warn_missing_pieces
from ashare_sim.execution.orders import EQUITY_COLUMNS, HOLDING_COLUMNS
from ashare_sim.execution.planner import ResizeRule
from ashare_sim.metrics.assumptions import FILE, FUNCTION, GIVEN, PIPELINE, SCORES, execution_assumptions
from ashare_sim.metrics.performance import PERIODS_PER_YEAR, compute_metrics, factor_metrics
from ashare_sim.metrics.report_data import report_data
from ashare_sim.report.html import link_pages, write_report
from ashare_sim.rules.symbols import parse_symbol
from ashare_sim.signals.calendar import month_starts
from ashare_sim.signals.delay import delay_targets
from ashare_sim.signals.pipeline import SignalResult, build_targets, write_analytics
from ashare_sim.signals.scores import DropoutRule
from ashare_sim.signals.targets import FILE_COLUMNS, TARGET_COLUMNS, read_targets_file, validate_targets
from ashare_sim.signals.universe import cached_pool_benchmark


@dataclass
class BacktestResult:
    equity: pd.DataFrame                  # date, value, cash, benchmark
    orders: pd.DataFrame
    trades: pd.DataFrame
    holdings: pd.DataFrame
    targets: pd.DataFrame
    metrics: dict
    analyzers: dict = field(default_factory=dict)     # Backtrader analyzer outputs by name
    seconds: float = 0.0                  # wall time of the run (data in memory -> outputs written)
    initial_cash: float = 0.0
    signal: object = None                 # the scoring pipeline's result when it made the targets
    timings: dict = field(default_factory=dict)       # seconds by stage
    market: object = field(default=None, repr=False)  # what the run traded, with its resolved window
    cfg: object = field(default=None, repr=False)
    window: tuple[int, int] = (0, 0)                  # calendar indices of its first and last day

    def write(self, out: str | Path, meta: dict | None = None) -> Path:
        """The run's output set in `out` (equity, orders, trades, holdings, targets, targets_next, metrics.json,
        factors/, report.html, run.json), written whole or not at all; `meta` adds keys to run.json."""
        out = Path(out)
        market, cfg, signal = self.market, self.cfg, self.signal

        def extra(stage: Path) -> None:
            csv_frame(next_targets(self.targets, signal, market.date_at(self.window[1])), ("rebalance_date",)).to_csv(
                stage / "targets_next.csv", index=False)
            scored = signal if isinstance(signal, SignalResult) else None     # a function's lists have no analytics
            if scored is not None:
                write_analytics(scored, stage / "factors")
            if cfg.output.report:
                write_report(stage, report_data(self.metrics, self.equity, self.trades, self.holdings, self.orders,
                                                scored))
        write_outputs(out, equity=self.equity, orders=self.orders, trades=self.trades, holdings=self.holdings,
                      targets=targets_table(self.targets), metrics=self.metrics, extra=extra,
                      meta={"kind": "backtest", "data": str(market.source), "config": to_plain(cfg), **(meta or {})})
        link_pages(out)                      # report.html <-> research.html when both are there
        return out


def run_backtest(market, cfg, out: Optional[Path] = None, targets: pd.DataFrame | None = None, *,
                 signal: SignalResult | None = None, benchmark: pd.Series | None = None,
                 meta: dict | None = None, function=None, engine: str = "backtrader",
                 progress: bool = False) -> BacktestResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if out is not None:
        check_output_dir(Path(out))             # before any work: a bad --out fails in a second, not after the run
    warn_missing_pieces(market, cfg)
    targets, signal, source = resolve_targets(market, cfg, targets, signal, function)
    cfg = resolve_window(market, cfg, targets)
    i0, i1 = run_window(market, cfg)
    _say_idle_start(market, targets, i0, i1)
    timings["targets"] = time.perf_counter() - started
    if benchmark is None:
        benchmark = benchmark_levels(market, cfg)
    timings["benchmark"] = time.perf_counter() - started - timings["targets"]
    mark = time.perf_counter()

    # A rebalance on the window's first day is sized at the close before it: start the clock on that
    # eve (no trading there, and it is left out of the outputs) when the market has it.
    first_day = market.dates[i0]
    eve = i0 > 0 and bool((pd.to_datetime(targets["rebalance_date"]).to_numpy().astype("datetime64[D]")
                           == first_day).any())
    dropout = DropoutRule.of(cfg.strategy) if source.get("kind") == SCORES and source.get("rule") == "topk_dropout" \
        else None
    empty = delayed_days(market, getattr(signal, "empty_days", ()), int(cfg.strategy.signal_delay))
    if engine not in ("core", "backtrader"):
        raise ValueError(f"engine {engine!r}: backtrader or core")
    # The collector stays off from the engine run until the run's logs are tables and files and the logs are
    # gone (common.collector): switched on while they live, its first pass would walk every row of them.
    with collector_paused():
        days = i1 - (i0 - 1 if eve else i0) + 1
        with Phase("backtest", total=days if progress else None, unit="day",
                   start_text=f"{market.date_at(i0)}..{market.date_at(i1)}") if progress else nullcontext(None) as tick:
            run = _run_on_core if engine == "core" else _run_on_cerebro
            broker, tables, performance, skipped, chosen, analyzers = run(
                market, cfg, targets, benchmark, i0, i1, eve, dropout, empty, tick)
        if dropout is not None:                   # the lists as TopkDropout chose them, day by day, with the book
            targets = chosen_lists(chosen)
        timings[engine] = time.perf_counter() - mark
        mark = time.perf_counter()

        equity = equity_table(market, broker, benchmark, i0)
        orders, trades, holdings = tables.orders(), tables.trades(), tables.holdings()
        if source.get("empty"):
            skipped.add("empty_file", str(source.get("path") or "targets"))
        log_skipped(skipped, len(targets))
        metrics = run_metrics(performance, equity, cfg, signal, market, source, skipped)
        result = BacktestResult(equity, orders, trades, holdings, targets, metrics, analyzers,
                                initial_cash=float(cfg.broker.cash), signal=signal, timings=timings)
        result.market, result.cfg, result.window = market, cfg, (i0, i1)
        if out is not None:
            result.write(out, meta)
        del broker, tables
    timings["tables_and_outputs"] = time.perf_counter() - mark
    result.seconds = time.perf_counter() - started
    logger.info(f"backtest {market.date_at(i0)}..{market.date_at(i1)}: {len(orders)} orders, {len(trades)} fills, "
                f"final value {equity['value'].iloc[-1]:,.0f} in {result.seconds:.1f} s "
                f"({', '.join(f'{k} {v:.1f}' for k, v in timings.items())})")
    return result


def _run_on_cerebro(market, cfg, targets, benchmark, i0, i1, eve, dropout, empty, progress=None):
    """Backtrader's event loop: the clock feed, the Rebalancer strategy, the A-share broker, the analyzers."""
    cerebro, book = make_cerebro(market, cfg, i0 - 1 if eve else i0, i1)
    cerebro.addstrategy(Rebalancer, targets=targets, book=book, retry=cfg.broker.retry,
                        lot_size=cfg.broker.lot_size, resize=ResizeRule.of(cfg.strategy), dropout=dropout,
                        empty_days=empty, start=i0, progress=progress)
    cerebro.addanalyzer(bt.analyzers.TimeReturn, timeframe=bt.TimeFrame.Days, _name="timereturn")
    cerebro.addanalyzer(bt.analyzers.DrawDown, _name="drawdown")
    # metrics.json comes from our Backtrader analyzer; the broker's own tables feed its trades / orders /
    # holdings (they carry the A-share fee split and reason codes that notify_order cannot).
    tables = BrokerTables(cerebro.broker)
    cerebro.addanalyzer(PerformanceAnalyzer, _name="performance", benchmark=benchmark, first_date=market.date_at(i0),
                        trades=tables.trades, orders=tables.orders, holdings=tables.holdings,
                        initial_cash=float(cfg.broker.cash), record_orders=False)
    with collector_paused():
        strat = cerebro.run()[0]
    analyzers = {"timereturn": dict(strat.analyzers.timereturn.get_analysis()),
                 "drawdown": strat.analyzers.drawdown.get_analysis()}
    return strat.broker, tables, strat.analyzers.performance.get_analysis(), strat.skipped, strat.chosen, analyzers


def _run_on_core(market, cfg, targets, benchmark, i0, i1, eve, dropout, empty, progress=None):
    """The execution core's own day loop (`execution.dayloop`): the same orders, fills, equity and metrics
    as the Cerebro run, without Backtrader's per-bar machinery (stress scenarios)."""
    from ashare_sim.execution.dayloop import run_days
    from ashare_sim.execution.driver import ListDriver
    from ashare_sim.execution.planner import RebalancePlanner

    first = i0 - 1 if eve else i0
    planner = RebalancePlanner(market, cfg.broker.lot_size, ResizeRule.of(cfg.strategy))
    driver = ListDriver(market, targets, planner, first, i1, start=i0, retry=cfg.broker.retry, dropout=dropout,
                        empty_days=empty)
    with collector_paused():
        core = run_days(market, cfg.broker, first, i1, driver, progress)
    tables = BrokerTables(core)
    rows = [r for r in core.equity_log if r[0] >= i0]        # as PerformanceAnalyzer records them
    dates = [market.date_at(r[0]) for r in rows]
    equity = pd.DataFrame({"date": pd.to_datetime(dates), "value": [r[1] for r in rows],
                           "cash": [r[2] for r in rows]})
    equity["benchmark"] = align_benchmark(dates, benchmark).to_numpy() if len(dates) else []
    performance = {} if not len(equity) else compute_metrics(
        equity[EQUITY_COLUMNS], tables.trades(), tables.orders(), tables.holdings(), float(cfg.broker.cash),
        periods_per_year=PERIODS_PER_YEAR, risk_free=0.0)
    return core, tables, performance, planner.skipped, driver.chosen, {}


# ----- pieces --------------------------------------------------------------
def make_cerebro(market, cfg, i0: int, i1: int) -> tuple[bt.Cerebro, ProxyBook]:
    """Cerebro with the clock feed over calendar days [i0, i1] and the A-share broker (no strategy yet)."""
    clock = ClockFeed(dates=market.dates[i0:i1 + 1], first_index=i0)
    book = ProxyBook(market, clock)
    cerebro = bt.Cerebro(stdstats=False, preload=True, runonce=True, maxcpus=1)
    cerebro.adddata(clock, name="clock")
    cerebro.setbroker(AShareBroker(market=market, cfg=cfg.broker, book=book))
    return cerebro, book


def run_window(market, cfg) -> tuple[int, int]:
    i0 = market.index_of(cfg.backtest.start) if cfg.backtest.start is not None else 0
    i1 = market.index_of(cfg.backtest.end, side="right") - 1 if cfg.backtest.end is not None else market.n_days - 1
    if i1 < i0:
        raise _empty_window(market, cfg.backtest.start, cfg.backtest.end)
    return i0, i1


def _empty_window(market, start, end) -> UserError:
    return UserError(f"backtest.start {start} .. backtest.end {end}: no trading day of the market "
                     f"({market.date_at(0)} .. {market.date_at(market.n_days - 1)}) in that window; change the window")


def resolve_window(market, cfg, targets: pd.DataFrame | None):
    """The run window with its open ends filled: start = backtest.start, else the first rebalance of the
    run's targets, scored or given (no idle cash before it counts in the figures, and every way of running
    the same lists gives the same window), else the market's first day; end = backtest.end, else the
    market's last day."""
    start, end = cfg.backtest.start, cfg.backtest.end
    if start is None:
        if targets is not None and len(targets):
            start = pd.Timestamp(targets["rebalance_date"].min()).date()
        else:
            start = market.date_at(0)
    if end is None:
        end = market.date_at(market.n_days - 1)
    if end < start:
        raise _empty_window(market, start, end)
    return replace(cfg, backtest=replace(cfg.backtest, start=start, end=end))


def _say_idle_start(market, targets: pd.DataFrame, i0: int, i1: int) -> None:
    """A window that opens before its first rebalance holds cash until then, and those days count in every
    annual figure: say so, once, rather than let a flat first month pass unnoticed."""
    dates = pd.to_datetime(targets["rebalance_date"]) if len(targets) else pd.Series([], dtype="datetime64[ns]")
    inside = dates[(dates >= pd.Timestamp(market.date_at(i0))) & (dates <= pd.Timestamp(market.date_at(i1)))]
    if not len(inside):
        return
    first = inside.min().date()
    idle = market.index_of(first) - i0
    if idle > 0:
        logger.info(f"backtest.start {market.date_at(i0)}: the first rebalance is {first}; the book is cash for "
                    f"{idle} trading day(s) before it and they count in the figures (leave backtest.start empty "
                    f"to start at the first rebalance)")


def resolve_targets(market, cfg, targets: pd.DataFrame | None, signal: SignalResult | None = None,
                    function=None) -> tuple[pd.DataFrame, object, dict]:
    """(targets, the pipeline result (or a rebalance function's lists) or None, where they came from:
    metrics.json `targets_source`), with `strategy.signal_delay` applied (a given `signal` is never
    changed: its delayed copy is returned)."""
    targets, signal, source = _targets_of_source(market, cfg, targets, signal, function)
    delay = int(cfg.strategy.signal_delay)
    if delay:
        targets = delay_targets(targets, market.dates, delay)
        if signal is not None:
            signal = replace(signal, targets=targets)
    return targets, signal, source


def _targets_of_source(market, cfg, targets: pd.DataFrame | None, signal: SignalResult | None,
                       function=None) -> tuple[pd.DataFrame, object, dict]:
    if isinstance(signal, Lists):                     # a function's or a scores file's lists, computed once
        return signal.targets, signal, dict(signal.source)
    if function is not None and cfg.strategy.function:
        raise UserError(f"run_backtest: function= and strategy.function ({cfg.strategy.function}) are both given; "
                        "keep one")
    if function is not None or cfg.strategy.function:
        if targets is not None or signal is not None or cfg.strategy.targets_file or cfg.strategy.scores.file:
            raise UserError("run_backtest: a rebalance function is the run's source of lists; it cannot stand "
                            "beside given targets, a signal, strategy.targets_file or strategy.scores.file")
        return function_lists(market, cfg, function if function is not None else cfg.strategy.function)
    if cfg.strategy.scores.file and targets is None and signal is None:
        return scores_file_lists(market, cfg)
    if signal is not None:
        if targets is not None or cfg.strategy.targets_file:
            raise ValueError("run_backtest: `signal` is the scoring pipeline's result; it cannot stand beside "
                             "given targets or strategy.targets_file")
        return signal.targets, signal, {"kind": PIPELINE, "rows": int(len(signal.targets))}
    if targets is not None:
        base = given_targets(targets, market)
        return base, None, {"kind": GIVEN, "rows": int(len(base)), "empty": len(base) == 0}
    if cfg.strategy.targets_file:
        t = read_targets_file(cfg.strategy.targets_file, market)
        return t, None, {"kind": FILE, "path": str(cfg.strategy.targets_file), "rows": int(len(t)),
                         "empty": len(t) == 0}
    s = cfg.strategy
    if s.rebalance != "monthly" or s.rebalance_dates:
        raise UserError(f"strategy.{'rebalance_dates' if s.rebalance_dates else 'rebalance'}: applies to a rebalance "
                        "function (strategy.function, or function= from Python); the scoring pipeline rebalances "
                        "monthly")
    last = run_window(market, resolve_window(market, cfg, None))[1]
    built = build_targets(market, cfg, next_signal=last)     # and the list for the rebalance after the run
    return built.targets, built, {"kind": PIPELINE, "rows": int(len(built.targets))}


@dataclass
class Lists:
    """A rebalance function's or a scores file's lists, where the pipeline's result would stand: computed
    once and handed to every scenario of a stress grid (targets_next.csv reads `next_targets`)."""
    targets: pd.DataFrame
    next_targets: Optional[pd.DataFrame]
    source: dict
    empty_days: tuple = ()            # rebalance days whose list is empty: hold cash (sell everything)


def function_lists(market, cfg, function) -> tuple[pd.DataFrame, Lists, dict]:
    from ashare_sim.signals.function import as_user_function, function_schedule, function_targets
    user = as_user_function(function)
    last = run_window(market, resolve_window(market, cfg, None))[1]
    targets, next_list = function_targets(market, cfg, user, end=market.date_at(last))
    source = {"kind": FUNCTION, "name": user.name, **user.origin(), "rows": int(len(targets))}
    scheduled = {market.date_at(int(r)) for r in function_schedule(market, cfg, end=market.date_at(last)).rebalance}
    listed = set(pd.to_datetime(targets["rebalance_date"]).dt.date) if len(targets) else set()
    return targets, Lists(targets, next_list, source, tuple(sorted(scheduled - listed))), source


def delayed_days(market, days, delay: int) -> tuple:
    """Rebalance days moved `delay` trading days later, as signals.delay moves lists (past the data: gone)."""
    out = []
    for day in days:
        i = market.index_of(day) + delay
        if i < market.n_days:
            out.append(market.date_at(i))
    return tuple(out)


def chosen_lists(chosen: list[pd.DataFrame]) -> pd.DataFrame:
    from ashare_sim.signals.function import empty_targets
    if not chosen:
        return empty_targets()
    out = pd.concat(chosen, ignore_index=True).sort_values(["rebalance_date", "score"], ascending=[True, False],
                                                           kind="stable", ignore_index=True)
    out["rank"] = out.groupby("rebalance_date").cumcount().astype(np.int64) + 1
    return out[TARGET_COLUMNS]


def scores_file_lists(market, cfg) -> tuple[pd.DataFrame, Lists, dict]:
    from ashare_sim.signals.scores import scores_lists
    sc = cfg.strategy.scores
    last = run_window(market, resolve_window(market, cfg, None))[1]
    targets = scores_lists(market, cfg, cfg.backtest.start, market.date_at(last))
    source = {"kind": SCORES, "path": str(sc.file), "rule": sc.rule, "rows": int(len(targets))}
    return targets, Lists(targets, None, source), source


def given_targets(targets: pd.DataFrame, market) -> pd.DataFrame:
    """Target lists given in memory, checked as a targets file is (dates, symbols in any spelling, weights);
    rank and score columns are kept when given."""
    if not isinstance(targets, pd.DataFrame):
        raise UserError(f"targets: expected a DataFrame with columns rebalance_date, symbol[, weight]; got "
                        f"{type(targets).__name__}")
    text = pd.DataFrame({c: [_as_text(v) for v in targets[c]] for c in targets.columns if c in FILE_COLUMNS})
    base = validate_targets(text, market, "targets")
    extra = [c for c in ("rank", "score") if c in targets.columns]
    if extra and len(base):
        keys = pd.DataFrame({"rebalance_date": pd.to_datetime(text["rebalance_date"].map(parse_date_text)),
                             "symbol": [parse_symbol(str(s), market.rules) for s in text["symbol"]]})
        base = base.merge(pd.concat([keys, targets[extra].reset_index(drop=True)], axis=1),
                          on=["rebalance_date", "symbol"], how="left")
    return base


def _as_text(value) -> str:
    """A cell as a targets file would hold it: dates as YYYY-MM-DD, missing as empty."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def next_targets(targets: pd.DataFrame, signal, end) -> pd.DataFrame:
    """targets_next.csv: the scored list for the rebalance after the run's last day (scored runs), or the
    first list of a targets file dated after the run (empty when there is none)."""
    if signal is not None and signal.next_targets is not None:
        return signal.next_targets
    later = targets[pd.to_datetime(targets["rebalance_date"]) > pd.Timestamp(end)]
    if len(later):
        later = later[later["rebalance_date"] == later["rebalance_date"].min()]
    return targets_table(later)


def log_skipped(skipped, n_targets: int) -> None:
    """One line per cause of targets that gave no order (the counts go to metrics.json `skipped`)."""
    for cause, n in sorted(skipped.counts.items(), key=lambda kv: -kv[1]):
        level = "INFO" if cause in ("at_target", "within_drift") else "WARNING"
        logger.log(level, f"targets: {n:,} of {n_targets:,} gave no order: {SKIP_CAUSES.get(cause, cause)} "
                          f"({cause}; e.g. {skipped.examples[cause]})")


def benchmark_levels(market, cfg) -> pd.Series:
    """Benchmark levels aligned to market.dates (NaN where none)."""
    index = pd.DatetimeIndex(market.dates.astype("datetime64[ns]"))
    empty = pd.Series(np.nan, index=index)
    kind = cfg.backtest.benchmark
    if kind == "none":
        return empty
    if kind == "pool":
        s = cached_pool_benchmark(market, _from_month_start(market, cfg))   # once per market and pool (cache)
        s = pd.Series(np.asarray(s, dtype=float), index=pd.DatetimeIndex(s.index).normalize())
        return s.reindex(index)
    if market.benchmark is not None:
        return pd.Series(market.benchmark.to_numpy(dtype=float), index=index)
    if kind == "table":
        logger.warning("benchmark: table requested but the market has no benchmark table; column left empty")
    return empty


def _from_month_start(market, cfg):
    """The pool is rebalanced monthly: a run that starts inside a month (a delayed list, a weekly or daily
    function, a targets file) measures it from that month's start, held on, rather than from cash until the
    next month's start. The analyzer rebases it at the run's first day."""
    start = cfg.backtest.start
    if start is None:
        return cfg
    starts = month_starts(market.dates)
    before = starts[starts <= market.index_of(start)]
    if not len(before) or market.date_at(int(before[-1])) == start:
        return cfg
    return replace(cfg, backtest=replace(cfg.backtest, start=market.date_at(int(before[-1]))))


def equity_table(market, broker, benchmark: pd.Series, first: int = 0) -> pd.DataFrame:
    """One row per run day from `first` on (an eve bar before the window is left out)."""
    rows = [r for r in broker.equity_log if r[0] >= first]
    t = np.array([r[0] for r in rows], dtype=np.int64)
    return pd.DataFrame({
        "date": pd.DatetimeIndex(market.dates[t].astype("datetime64[ns]")),
        "value": [r[1] for r in rows],
        "cash": [r[2] for r in rows],
        "benchmark": benchmark.to_numpy()[t] if len(t) else [],
    })[EQUITY_COLUMNS]


def run_metrics(performance: dict, equity: pd.DataFrame, cfg, signal, market=None, source: dict | None = None,
                skipped=None) -> dict:
    """metrics.json: the performance analyzer's figures, the benchmark's name, the run's execution
    assumptions, where the targets came from, what gave no order and, for scored runs, factor analytics."""
    metrics = dict(performance)
    metrics["benchmark_label"] = benchmark_label(cfg, equity)
    source = source or {"kind": PIPELINE if isinstance(signal, SignalResult) else GIVEN}
    metrics["targets_source"] = source
    if market is not None:
        metrics["execution"] = [list(item) for item in execution_assumptions(cfg, market.rules, source)]
        metrics["data"] = {"source": str(market.source), "missing": missing_pieces(market, cfg)}
        stale = stale_listings(market)
        if stale:                                   # named in the summary and the report too
            metrics["data"]["stale"] = {"count": len(stale), "examples": [f"{s} (last bar {d})" for s, d in stale[:5]]}
    counts = dict(skipped.counts) if skipped is not None else {}
    metrics["skipped"] = {cause: int(counts.get(cause, 0)) for cause in SKIP_CAUSES}
    if isinstance(signal, SignalResult):
        metrics["factors"] = factor_metrics(signal.factor_ic, signal.quintile_returns)
        metrics["factors"]["dropped"] = list(signal.dropped_factors)
    return metrics


class BrokerTables:
    """The A-share broker's logs as the output tables, built once when first asked for (after the run)."""

    def __init__(self, broker: AShareBroker):
        self.broker = broker
        self._cache: dict[str, pd.DataFrame] = {}

    def _table(self, name: str, build) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    def orders(self) -> pd.DataFrame:
        return self._table("orders", lambda: self.broker.order_log.frame(ENGINE_ORDER_COLUMNS))

    def trades(self) -> pd.DataFrame:
        return self._table("trades", lambda: self.broker.trade_log.frame(ENGINE_TRADE_COLUMNS))

    def holdings(self) -> pd.DataFrame:
        return self._table("holdings", lambda: pd.DataFrame(self.broker.holdings_log, columns=HOLDING_COLUMNS))


def benchmark_label(cfg, equity: pd.DataFrame) -> str | None:
    if equity["benchmark"].isna().all():
        return None
    if cfg.backtest.benchmark == "pool":
        return "Small-cap pool (equal weight)"
    return "Benchmark table"
