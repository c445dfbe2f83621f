"""The analyzers in a plain Cerebro (PandasData feed, BackBroker): they work outside the engine
and agree with the plain functions and with Backtrader's own analyzers."""
from __future__ import annotations

import json

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from ashare_sim.backtest.analyzers import (
    DailyValue,
    OrderLog,
    PerformanceAnalyzer,
    align_benchmark,
)
from ashare_sim.metrics.performance import compute_metrics, daily_returns

CASH = 100_000.0


def _feed_frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    close = 10 * np.cumprod(1 + rng.normal(0.001, 0.02, n))
    idx = pd.bdate_range("2021-11-01", periods=n)
    return pd.DataFrame({"open": close * 0.995, "high": close * 1.01, "low": close * 0.99, "close": close,
                         "volume": 1e6, "openinterest": 0.0}, index=idx)


class BuyAndHold(bt.Strategy):
    def next(self):
        if not self.position and not getattr(self, "_sent", False):
            self._sent = True
            self.buy(size=5000)
            self.buy(size=10_000_000)  # far beyond the cash: the broker refuses it (Margin)


def _run(benchmark: pd.Series | None = None, runonce: bool = True, **perf_kw):
    df = _feed_frame()
    cerebro = bt.Cerebro(stdstats=False, runonce=runonce, preload=runonce)
    cerebro.adddata(bt.feeds.PandasData(dataname=df), name="600000.SH")
    cerebro.addstrategy(BuyAndHold)
    cerebro.broker.setcash(CASH)
    cerebro.broker.setcommission(commission=0.001)
    cerebro.addanalyzer(DailyValue, _name="daily", benchmark=benchmark)
    cerebro.addanalyzer(OrderLog, _name="orders")
    cerebro.addanalyzer(PerformanceAnalyzer, _name="perf", benchmark=benchmark, **perf_kw)
    cerebro.addanalyzer(bt.analyzers.TimeReturn, _name="tr", timeframe=bt.TimeFrame.Days)
    cerebro.addanalyzer(bt.analyzers.DrawDown, _name="dd")
    strat = cerebro.run()[0]
    return df, strat


@pytest.mark.parametrize("runonce", [True, False])
def test_daily_value_matches_cash_plus_position_and_timereturn(runonce):
    df, strat = _run(runonce=runonce)
    eq = strat.analyzers.daily.equity()
    assert len(eq) == len(df)
    assert list(eq["date"]) == list(df.index)
    fills = strat.analyzers.orders.trades_frame()
    assert len(fills) == 1 and fills.loc[0, "qty"] == 5000 and fills.loc[0, "side"] == "buy"
    buy_day = pd.Timestamp(fills.loc[0, "date"])
    held = np.where(df.index >= buy_day, 5000, 0)
    cost = 5000 * fills.loc[0, "price"] * 1.001
    expected = np.where(df.index >= buy_day, CASH - cost, CASH) + held * df["close"].to_numpy()
    np.testing.assert_allclose(eq["value"], expected, rtol=1e-10)
    # Backtrader's own daily returns, from the same broker values.
    tr = pd.Series(strat.analyzers.tr.get_analysis())
    ours = daily_returns(eq.set_index("date")["value"], CASH)
    np.testing.assert_allclose(ours.to_numpy(), tr.to_numpy(), atol=1e-12)


def test_performance_analyzer_equals_compute_metrics_and_backtrader_drawdown():
    bench = _feed_frame()["close"] * 0 + np.linspace(100, 110, 60)
    df, strat = _run(benchmark=bench)
    m = strat.analyzers.perf.get_analysis()
    json.dumps(m, allow_nan=False)
    eq = strat.analyzers.daily.equity()
    ref = compute_metrics(eq, strat.analyzers.orders.trades_frame(), strat.analyzers.orders.orders_frame(), None, CASH)
    assert m == ref
    assert m["max_drawdown"] == pytest.approx(-strat.analyzers.dd.get_analysis().max.drawdown / 100, rel=1e-9)
    assert m["benchmark_annual_return"] is not None and m["information_ratio"] is not None
    assert m["commission"] == pytest.approx(strat.analyzers.orders.trades_frame()["commission"].sum())
    assert m["n_orders"] == 2 and m["blocked_cash"] == pytest.approx(0.5)


def test_performance_analyzer_without_benchmark_and_with_providers():
    trades = pd.DataFrame({"date": ["2021-11-02"], "symbol": ["X"], "side": ["buy"], "qty": [100], "price": [10.0],
                           "commission": [5.0], "stamp_duty": [0.0], "transfer_fee": [0.2], "slippage": [0.5]})
    df, strat = _run(trades=lambda: trades, orders=pd.DataFrame(), initial_cash=CASH)
    m = strat.analyzers.perf.get_analysis()
    assert m["benchmark_annual_return"] is None and m["information_ratio"] is None
    assert m["total_costs"] == pytest.approx(5.7) and m["n_orders"] == 0
    json.dumps(m, allow_nan=False)


def test_align_benchmark_uses_last_level_on_or_before():
    bench = pd.Series([1.0, 2.0], index=pd.to_datetime(["2021-01-05", "2021-01-07"]))
    out = align_benchmark(pd.to_datetime(["2021-01-04", "2021-01-06", "2021-01-07", "2021-01-08"]), bench)
    assert np.isnan(out.iloc[0]) and list(out.iloc[1:]) == [1.0, 2.0, 2.0]


def test_performance_analyzer_records_no_orders_when_told_its_providers_give_them():
    _, kept = _run()
    _, skipped = _run(trades=kept.analyzers.perf.trades_frame, orders=kept.analyzers.perf.orders_frame,
                      record_orders=False)
    assert len(kept.analyzers.perf.trades_frame()) == 1 and len(kept.analyzers.perf.orders_frame()) == 2
    assert skipped.analyzers.perf.trades_frame().empty and skipped.analyzers.perf.orders_frame().empty
    assert skipped.analyzers.perf.get_analysis() == kept.analyzers.perf.get_analysis()
