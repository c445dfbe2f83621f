"""Hand-computed figures of metrics.performance on tiny series."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ashare_sim.metrics.performance import (
    DAYS_PER_YEAR,
    compute_metrics,
    factor_metrics,
    monthly_returns,
)


def _equity(dates, values, bench=None) -> pd.DataFrame:
    eq = pd.DataFrame({"date": pd.to_datetime(dates), "value": np.asarray(values, float), "cash": 0.0})
    if bench is not None:
        eq["benchmark"] = np.asarray(bench, float)
    return eq


def _json_ok(m: dict) -> None:
    json.dumps(m, allow_nan=False)


def test_constant_growth_gives_its_annual_rate():
    dates = pd.date_range("2020-01-01", periods=1000, freq="D")
    t = (dates - dates[0]).days + 1
    values = 1e6 * 1.10 ** (t / DAYS_PER_YEAR)
    m = compute_metrics(_equity(dates, values), None, None, None, 1e6)
    assert m["annual_return"] == pytest.approx(0.10, abs=1e-10)
    assert m["max_drawdown"] == 0.0
    assert m["max_drawdown_start"] is None
    assert m["benchmark_annual_return"] is None
    _json_ok(m)


def test_known_drawdown_dates_and_duration():
    dates = pd.bdate_range("2021-03-01", periods=7)  # Mon..Tue next week
    m = compute_metrics(_equity(dates, [100, 110, 120, 90, 100, 130, 125]), None, None, None, 100.0)
    assert m["max_drawdown"] == pytest.approx(90 / 120 - 1)
    assert m["max_drawdown_start"] == "2021-03-03"
    assert m["max_drawdown_trough"] == "2021-03-04"
    assert m["max_drawdown_end"] == "2021-03-08"
    assert m["max_drawdown_duration_days"] == 5
    assert m["max_drawdown_duration_trading_days"] == 3
    assert m["max_drawdown_recovered"] is True


def test_drawdown_from_initial_cash_and_unrecovered():
    dates = pd.bdate_range("2021-03-01", periods=3)
    m = compute_metrics(_equity(dates, [90, 95, 101]), None, None, None, 100.0)
    assert m["max_drawdown"] == pytest.approx(-0.10)
    assert (m["max_drawdown_start"], m["max_drawdown_trough"], m["max_drawdown_end"]) == (
        "2021-03-01", "2021-03-01", "2021-03-03")
    m = compute_metrics(_equity(dates, [100, 80, 90]), None, None, None, 100.0)
    assert m["max_drawdown"] == pytest.approx(-0.20)
    assert m["max_drawdown_end"] is None and m["max_drawdown_recovered"] is False
    assert m["max_drawdown_duration_days"] == 2


def test_information_ratio_and_tracking_error_from_daily_excess():
    rng = np.random.default_rng(7)
    n = 300
    r = rng.normal(0.001, 0.01, n)
    b = rng.normal(0.0, 0.01, n)
    b[0] = 0.0  # the benchmark's first day is its base
    dates = pd.bdate_range("2019-01-02", periods=n)
    eq = _equity(dates, 1e6 * np.cumprod(1 + r), 1000 * np.cumprod(1 + b))
    m = compute_metrics(eq, None, None, None, 1e6)
    e = r - b
    te = e.std(ddof=1) * math.sqrt(252)
    assert m["tracking_error"] == pytest.approx(te, rel=1e-9)
    assert m["information_ratio"] == pytest.approx(e.mean() * 252 / te, rel=1e-9)
    assert m["volatility"] == pytest.approx(r.std(ddof=1) * math.sqrt(252), rel=1e-9)
    assert m["sharpe"] == pytest.approx(r.mean() * 252 / (r.std(ddof=1) * math.sqrt(252)), rel=1e-9)
    years = ((dates[-1] - dates[0]).days + 1) / DAYS_PER_YEAR
    pa = np.prod(1 + r) ** (1 / years) - 1
    ba = np.prod(1 + b) ** (1 / years) - 1
    assert m["annual_return"] == pytest.approx(pa)
    assert m["benchmark_annual_return"] == pytest.approx(ba)
    assert m["excess_annual_return"] == pytest.approx(pa - ba)
    curve = np.cumprod(1 + e)
    assert m["excess_max_drawdown"] == pytest.approx((curve / np.maximum.accumulate(np.maximum(curve, 1)) - 1).min())
    _json_ok(m)


def test_monthly_win_rate_counts_months_beating_the_benchmark():
    dates = pd.bdate_range("2022-01-03", "2022-04-29")
    value = pd.Series(100.0, index=dates)
    bench = pd.Series(100.0, index=dates)
    # One jump per month, on its second trading day: (portfolio, benchmark) month returns.
    moves = {1: (0.05, 0.01), 2: (0.00, 0.02), 3: (0.03, 0.01), 4: (0.02, -0.01)}
    for month, (p, q) in moves.items():
        day = dates[dates.month == month][1]
        value[value.index >= day] *= 1 + p
        bench[bench.index >= day] *= 1 + q
    eq = _equity(dates, value.values, bench.values)
    m = compute_metrics(eq, None, None, None, 100.0)
    assert m["monthly_win_rate"] == pytest.approx(0.75)
    mr = monthly_returns(eq, 100.0)
    assert list(mr["portfolio"].round(12)) == [0.05, 0.0, 0.03, 0.02]
    assert list(mr["excess"].round(12)) == [0.04, -0.02, 0.02, 0.03]


def test_turnover_costs_and_blocked_orders():
    dates = pd.date_range("2021-01-01", "2021-12-31", freq="D")
    eq = _equity(dates, np.full(len(dates), 100_000.0))
    trades = pd.DataFrame({
        "date": ["2021-02-01", "2021-06-01"], "symbol": ["600000.SH", "600000.SH"],
        "side": ["buy", "sell"], "qty": [1000, 500], "price": [10.0, 12.0],
        "commission": [5.0, 5.0], "stamp_duty": [0.0, 6.0], "transfer_fee": [0.1, 0.06], "slippage": [1.0, 2.0],
    })
    orders = pd.DataFrame({
        "date": ["2021-02-01"] * 5, "symbol": ["A", "B", "C", "D", "E"], "side": ["buy"] * 5,
        "requested_qty": [100] * 5, "filled_qty": [100, 0, 50, 0, 0], "price": [1.0] * 5,
        "status": ["filled", "rejected", "partial", "rejected", "rejected"],
        "reason": ["", "limit_up", "volume_cap", "limit_up", "halted_custom"],
    })
    holdings = pd.DataFrame({"date": ["2021-02-01", "2021-02-01", "2021-03-01"], "symbol": ["A", "B", "A"],
                             "qty": [100, 100, 100], "sellable_qty": [0, 0, 100], "close": [1, 1, 1],
                             "value": [100, 100, 100]})
    m = compute_metrics(eq, trades, orders, holdings, 100_000.0)
    years = 365 / DAYS_PER_YEAR
    assert m["annual_turnover"] == pytest.approx((10_000 + 6_000) / 2 / 100_000 / years)
    assert (m["commission"], m["stamp_duty"], m["slippage"]) == (10.0, 6.0, 3.0)
    assert m["transfer_fee"] == pytest.approx(0.16)
    assert m["total_costs"] == pytest.approx(19.16)
    assert m["charged_costs"] == pytest.approx(16.16)
    assert m["blocked_limit_up"] == pytest.approx(0.4)
    assert m["blocked_volume_cap"] == pytest.approx(0.2)
    assert m["blocked_halted_custom"] == pytest.approx(0.2)
    assert m["blocked_suspended"] == 0.0
    assert (m["n_orders"], m["orders_rejected"], m["orders_partial"]) == (5, 3, 1)
    assert m["holdings_last_names"] == 1 and m["holdings_avg_names"] == pytest.approx(1.5)
    assert m["by_year"][0]["annual_turnover"] == pytest.approx(0.08)
    assert m["by_year"][0]["total_costs"] == pytest.approx(19.16)
    _json_ok(m)


@pytest.mark.parametrize("bench", ["absent", "all_nan"])
def test_no_benchmark_gives_nulls_not_nan(bench):
    dates = pd.bdate_range("2020-12-01", periods=60)
    values = 1e6 * np.cumprod(1 + np.linspace(-0.01, 0.01, 60))
    eq = _equity(dates, values, None if bench == "absent" else np.full(60, np.nan))
    m = compute_metrics(eq, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), 1e6)
    for k in ("benchmark_annual_return", "excess_annual_return", "excess_max_drawdown",
              "information_ratio", "tracking_error", "monthly_win_rate"):
        assert m[k] is None, k
    assert len(m["by_year"]) == 2
    assert all(row["information_ratio"] is None and row["benchmark_return"] is None for row in m["by_year"])
    assert m["annual_return"] is not None
    _json_ok(m)


def test_by_year_uses_previous_year_end_as_base_and_string_dates():
    dates = ["2020-12-30", "2020-12-31", "2021-01-04", "2021-01-05"]
    eq = pd.DataFrame({"date": dates, "value": [100.0, 110.0, 121.0, 99.0], "cash": 0.0,
                       "benchmark": [10.0, 10.0, 10.5, 10.5]})
    m = compute_metrics(eq, None, None, None, 100.0)
    y20, y21 = m["by_year"]
    assert y20["year"] == 2020 and y20["portfolio_return"] == pytest.approx(0.10)
    assert y20["benchmark_return"] == pytest.approx(0.0)
    assert y21["portfolio_return"] == pytest.approx(99 / 110 - 1)
    assert y21["benchmark_return"] == pytest.approx(0.05)
    assert y21["excess_return"] == pytest.approx(99 / 110 - 1 - 0.05)
    assert y21["max_drawdown"] == pytest.approx(99 / 121 - 1)
    assert m["start"] == "2020-12-30" and m["end"] == "2021-01-05" and m["final_value"] == 99.0


def test_single_day_run_does_not_crash():
    m = compute_metrics(_equity(["2021-01-04"], [101.0], [5.0]), None, None, None, 100.0)
    assert m["volatility"] is None and m["information_ratio"] is None
    _json_ok(m)


def test_bad_equity_is_a_clear_error():
    with pytest.raises(ValueError, match="value"):
        compute_metrics(pd.DataFrame({"date": ["2021-01-04"]}), None, None, None, 100.0)


def test_factor_metrics_ic_summary_and_quintiles():
    idx = pd.to_datetime(["2021-01-29", "2021-02-26", "2021-03-31", "2021-04-30"])
    ic = pd.DataFrame({"size": [0.1, 0.2, -0.1, 0.2], "composite": [0.05, 0.05, 0.05, np.nan]}, index=idx)
    q = pd.DataFrame({"Q1": [0.00, 0.01, -0.02, 0.01], "Q5": [0.03, 0.02, 0.01, 0.02]}, index=idx)
    fm = factor_metrics(ic, q)
    s = fm["ic"]["size"]
    x = np.array([0.1, 0.2, -0.1, 0.2])
    assert s["mean"] == pytest.approx(0.1)
    assert s["std"] == pytest.approx(x.std(ddof=1))
    assert s["ic_ir"] == pytest.approx(0.1 / x.std(ddof=1) * math.sqrt(12))
    assert (s["win_rate"], s["n"]) == (0.75, 4)
    assert fm["composite"]["n"] == 3 and fm["composite"]["ic_ir"] is None  # zero dispersion: undefined
    assert fm["quintiles"]["Q5"] == pytest.approx(0.02)
    assert fm["quintile_top_minus_bottom"] == pytest.approx(0.02 - 0.0)
    _json_ok(fm)
    empty = factor_metrics(None, None)
    assert empty == {"ic": {}, "composite": None, "quintiles": {}, "quintile_top_minus_bottom": None,
                     "quintile_periods": 0}


def _brute_force_mdd(values: list[float], base: float) -> float:
    worst, path = 0.0, [base] + values
    for j in range(1, len(path)):
        for i in range(j):
            worst = min(worst, path[j] / path[i] - 1)
    return worst


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test extra
    given = None

if given is not None:
    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.floats(min_value=1.0, max_value=1000.0), min_size=1, max_size=30))
    def test_max_drawdown_equals_brute_force(values):
        from ashare_sim.metrics.performance import max_drawdown
        dates = pd.bdate_range("2021-01-04", periods=len(values))
        dd = max_drawdown(pd.Series(values, index=dates), 100.0)
        assert dd["max_drawdown"] == pytest.approx(_brute_force_mdd(values, 100.0), abs=1e-12)
        assert -1.0 <= dd["max_drawdown"] <= 0.0
        if dd["max_drawdown"] < 0:
            assert dd["start"] <= dd["trough"] and (dd["end"] is None or dd["end"] > dd["trough"])


def test_order_intents_count_a_plans_retries_once_and_each_unplanned_row_alone():
    from ashare_sim.metrics.performance import order_stats

    orders = pd.DataFrame({
        "symbol": ["A", "A", "A", "B", "B", "A", "C", "C"],
        "side": ["buy", "buy", "buy", "sell", "sell", "sell", "buy", "buy"],
        "rebalance_date": ["2021-02-01"] * 3 + ["2021-02-01"] * 2 + ["2021-03-01", None, None],
        "attempt": [0, 1, 2, 0, 1, 0, 0, 0],
        "status": ["partial", "partial", "filled", "rejected", "rejected", "filled", "rejected", "filled"],
        "reason": ["volume_cap", "volume_cap", "", "suspended", "suspended", "", "cash", ""],
    })
    s = order_stats(orders)
    assert (s["n_intents"], s["intents_unfilled"], s["retries"]) == (5, 2, 3)   # A buy, B sell, A sell, C, C
    assert s["blocked_volume_cap"] == pytest.approx(1 / 5) and s["blocked_suspended"] == pytest.approx(1 / 5)
    assert s["blocked_cash"] == pytest.approx(1 / 5)
    assert s["attempts_blocked_volume_cap"] == pytest.approx(2 / 8)
