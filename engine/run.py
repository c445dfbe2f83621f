"""`run_backtest`: one Backtrader run of the A-share engine, from a Market in memory to output files.

    result = run_backtest(market, cfg, Path("out"))                 # targets from config
    result = run_backtest(market, cfg, None, targets=df)            # in memory only (tests, stress)

Cerebro gets one feed (the clock, `feeds.clock.ClockFeed`), the `Rebalancer`
strategy, the `AShareBroker` and Backtrader's TimeReturn and DrawDown
analyzers. Targets: the `targets` argument, else `strategy.targets_file`, else
the scoring pipeline (`factors.pipeline.build_targets`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import backtrader as bt
import numpy as np
import pandas as pd
from loguru import logger

from analyzers.bt_analyzers import PerformanceAnalyzer
from analyzers.performance import factor_metrics
from brokers.ashare import AShareBroker
from core.errors import UserError
from core.spec import EQUITY_COLUMNS, HOLDING_COLUMNS, ORDER_COLUMNS
from engine.outputs import ENGINE_TRADE_COLUMNS, targets_table, write_outputs
from feeds.clock import ClockFeed
from factors.pipeline import build_targets, write_analytics
from factors.universe import pool_benchmark
from feeds.proxy import ProxyBook
from report.html import write_report
from strategies.rebalancer import Rebalancer
from strategies.targets import finish_weights, read_targets_file

# Trading days per year used by the fallback metrics (when analyzers.performance is absent).


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


def run_backtest(market, cfg, out: Optional[Path], targets: pd.DataFrame | None = None) -> BacktestResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    targets, signal = resolve_targets(market, cfg, targets)
    i0, i1 = run_window(market, cfg)
    timings["targets"] = time.perf_counter() - started
    benchmark = benchmark_levels(market, cfg)
    timings["benchmark"] = time.perf_counter() - started - timings["targets"]
    mark = time.perf_counter()

    # A rebalance on the window's first day is sized at the close before it: start the clock on that
    # eve (no trading there, and it is left out of the outputs) when the market has it.
    first_day = market.dates[i0]
    eve = i0 > 0 and bool((pd.to_datetime(targets["rebalance_date"]).to_numpy().astype("datetime64[D]")
                           == first_day).any())
    cerebro, book = make_cerebro(market, cfg, i0 - 1 if eve else i0, i1)
    cerebro.addstrategy(Rebalancer, targets=targets, book=book, retry=cfg.broker.retry,
                        lot_size=cfg.broker.lot_size, start=i0)
    cerebro.addanalyzer(bt.analyzers.TimeReturn, timeframe=bt.TimeFrame.Days, _name="timereturn")
    cerebro.addanalyzer(bt.analyzers.DrawDown, _name="drawdown")
    # metrics.json comes from our Backtrader analyzer; the broker's own tables feed its trades / orders /
    # holdings (they carry the A-share fee split and reason codes that notify_order cannot).
    tables = BrokerTables(cerebro.broker)
    cerebro.addanalyzer(PerformanceAnalyzer, _name="performance", benchmark=benchmark, first_date=market.date_at(i0),
                        trades=tables.trades, orders=tables.orders, holdings=tables.holdings,
                        initial_cash=float(cfg.broker.cash))
    strat = cerebro.run()[0]
    broker = strat.broker
    timings["backtrader"] = time.perf_counter() - mark
    mark = time.perf_counter()

    equity = equity_table(market, broker, benchmark, i0)
    orders, trades, holdings = tables.orders(), tables.trades(), tables.holdings()
    analyzers = {"timereturn": dict(strat.analyzers.timereturn.get_analysis()),
                 "drawdown": strat.analyzers.drawdown.get_analysis()}
    metrics = run_metrics(strat.analyzers.performance.get_analysis(), equity, cfg, signal)
    result = BacktestResult(equity, orders, trades, holdings, targets, metrics, analyzers,
                            initial_cash=broker.startingcash, signal=signal, timings=timings)
    if out is not None:
        analytics = (lambda d: write_analytics(signal, d / "factors")) if signal is not None else None
        write_outputs(Path(out), equity=equity, orders=orders, trades=trades, holdings=holdings,
                      targets=targets_table(targets), metrics=metrics, extra=analytics)
        if cfg.output.report:
            write_report(Path(out), result.metrics, result.equity, result.trades, result.holdings, result.orders,
                         signal=result.signal)
    timings["tables_and_outputs"] = time.perf_counter() - mark
    result.seconds = time.perf_counter() - started
    logger.info(f"backtest {market.date_at(i0)}..{market.date_at(i1)}: {len(orders)} orders, {len(trades)} fills, "
                f"final value {equity['value'].iloc[-1]:,.0f} in {result.seconds:.1f} s "
                f"({', '.join(f'{k} {v:.1f}' for k, v in timings.items())})")
    return result


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
    i0 = market.index_of(cfg.backtest.start)
    i1 = market.index_of(cfg.backtest.end, side="right") - 1
    if i1 < i0:
        raise UserError(f"backtest.start {cfg.backtest.start} .. backtest.end {cfg.backtest.end}: no trading day of "
                        f"the market ({market.date_at(0)} .. {market.date_at(market.n_days - 1)}) in that window; "
                        "change the window")
    return i0, i1


def resolve_targets(market, cfg, targets: pd.DataFrame | None) -> tuple[pd.DataFrame, object]:
    """(targets, the pipeline result or None)."""
    if targets is not None:
        t = targets.copy()
        t["rebalance_date"] = pd.to_datetime(t["rebalance_date"])
        unknown = sorted(set(t["symbol"]) - set(market.symbol_index))
        if unknown:
            raise UserError(f"targets: unknown symbol '{unknown[0]}' (not in the market's instruments)")
        extra = [c for c in ("rank", "score") if c in t.columns]
        base = finish_weights(t[["rebalance_date", "symbol"] + (["weight"] if "weight" in t.columns else [])])
        if extra:
            base = base.merge(t[["rebalance_date", "symbol"] + extra], on=["rebalance_date", "symbol"], how="left")
        return base, None
    if cfg.strategy.targets_file:
        return read_targets_file(cfg.strategy.targets_file, market), None
    built = build_targets(market, cfg)
    return built.targets, built


def benchmark_levels(market, cfg) -> pd.Series:
    """Benchmark levels aligned to market.dates (NaN where none)."""
    index = pd.DatetimeIndex(market.dates.astype("datetime64[ns]"))
    empty = pd.Series(np.nan, index=index)
    kind = cfg.backtest.benchmark
    if kind == "none":
        return empty
    if kind == "pool":
        s = pool_benchmark(market, cfg)
        s = pd.Series(np.asarray(s, dtype=float), index=pd.DatetimeIndex(s.index).normalize())
        return s.reindex(index)
    if market.benchmark is not None:
        return pd.Series(market.benchmark.to_numpy(dtype=float), index=index)
    if kind == "table":
        logger.warning("benchmark: table requested but the market has no benchmark table; column left empty")
    return empty


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


def run_metrics(performance: dict, equity: pd.DataFrame, cfg, signal) -> dict:
    """metrics.json: the performance analyzer's figures, the benchmark's name and, for scored runs,
    factor analytics."""
    metrics = dict(performance)
    metrics["benchmark_label"] = benchmark_label(cfg, equity)
    if signal is not None:
        metrics["factors"] = factor_metrics(signal.factor_ic, signal.quintile_returns)
        metrics["factors"]["dropped"] = list(signal.dropped_factors)
    return metrics


class BrokerTables:
    """The A-share broker's logs as SPEC tables, built once when first asked for (after the run)."""

    def __init__(self, broker: AShareBroker):
        self.broker = broker
        self._cache: dict[str, pd.DataFrame] = {}

    def _table(self, name: str, build) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    def orders(self) -> pd.DataFrame:
        return self._table("orders", lambda: pd.DataFrame([vars(r) for r in self.broker.order_log],
                                                          columns=ORDER_COLUMNS + ["ref"])[ORDER_COLUMNS])

    def trades(self) -> pd.DataFrame:
        return self._table("trades", lambda: pd.DataFrame([vars(r) for r in self.broker.trade_log],
                                                          columns=ENGINE_TRADE_COLUMNS + ["ref"])[ENGINE_TRADE_COLUMNS])

    def holdings(self) -> pd.DataFrame:
        return self._table("holdings", lambda: pd.DataFrame(self.broker.holdings_log, columns=HOLDING_COLUMNS))


def benchmark_label(cfg, equity: pd.DataFrame) -> str | None:
    if equity["benchmark"].isna().all():
        return None
    if cfg.backtest.benchmark == "pool":
        return "Small-cap pool (equal weight)"
    return "Benchmark table"
