"""End to end: analytic buy-and-hold, the output files of docs/outputs.md, Backtrader analyzers, errors."""
import json

import numpy as np
import pandas as pd
import pytest

from ashare_sim.backtest.run import run_backtest
from ashare_sim.common.errors import UserError
from ashare_sim.config import load_config
from tests.market_builder import MarketBuilder
from tests.presets import IDEAL_EXECUTION

A, B = "600000.SH", "000001.SZ"
RULES_OFF = ["broker.limit_rule='off'", "broker.volume_cap=null", "broker.lot_size=false", "broker.t_plus_1=false",
             "broker.commission.rate=0", "broker.commission.min=0", "broker.stamp_duty=0", "broker.transfer_fee=0",
             "broker.slippage.bps=0"]


def cfg(*sets):
    return load_config(None, [*IDEAL_EXECUTION, "backtest.start=2021-03-01", "backtest.end=2021-12-31", "backtest.benchmark=none",
                              "output.report=false", "broker.cash=1000000", *sets])


def two_stocks(days=8):
    b = MarketBuilder(start="2021-03-01", days=days)
    rng = np.random.default_rng(3)
    a = np.round(10 * np.cumprod(1 + rng.normal(0, 0.02, days)), 2)
    c = np.round(25 * np.cumprod(1 + rng.normal(0, 0.02, days)), 2)
    a[0], c[0] = 10.0, 25.0
    b.stock(A, close=a, open=np.r_[a[0], a[0], a[1:-1]])           # day-1 open = day-0 close
    b.stock(B, close=c, open=np.r_[c[0], c[0], c[1:-1]])
    b.benchmark(list(1000 + np.arange(days)))
    return b, a, c


def test_with_all_rules_off_and_zero_costs_equity_is_the_analytic_buy_and_hold():
    b, a, c = two_stocks()
    t = pd.DataFrame({"rebalance_date": [b.day(1)] * 2, "symbol": [A, B], "weight": [0.5, 0.5]})
    r = run_backtest(b.build(), cfg(*RULES_OFF), None, targets=t)
    qa, qb = 500_000 / 10.0, 500_000 / 25.0                          # sized at day-0 close, filled at day-1 open
    expected = np.r_[1_000_000, qa * a[1:] + qb * c[1:]]
    assert r.equity["value"].to_numpy() == pytest.approx(expected, rel=1e-9)
    assert r.equity["cash"].iloc[-1] == pytest.approx(0.0, abs=1e-6)


def test_outputs_of_spec_section_4_are_written(tmp_path):
    b, _, _ = two_stocks()
    t = pd.DataFrame({"rebalance_date": [b.day(1), b.day(1), b.day(5)], "symbol": [A, B, A]})
    out = tmp_path / "out"
    r = run_backtest(b.build(), cfg("backtest.benchmark=table"), out, targets=t)
    cols = {
        "equity.csv": ["date", "value", "cash", "benchmark"],
        "orders.csv": ["date", "symbol", "side", "requested_qty", "filled_qty", "price", "status", "reason"],
        "trades.csv": ["date", "symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee",
                       "slippage"],
        "holdings.csv": ["date", "symbol", "qty", "sellable_qty", "close", "value"],
        "targets.csv": ["rebalance_date", "symbol", "rank", "score", "weight"],
    }
    for name, want in cols.items():
        df = pd.read_csv(out / name)
        assert list(df.columns)[: len(want)] == want, name
    eq = pd.read_csv(out / "equity.csv")
    assert eq["date"].iloc[0] == "2021-03-01" and len(eq) == 8
    assert eq["benchmark"].tolist() == list(1000.0 + np.arange(8))
    orders = pd.read_csv(out / "orders.csv", keep_default_na=False)
    assert set(orders["status"]) <= {"filled", "partial", "rejected"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert "annual_return" in metrics and "max_drawdown" in metrics and "total_costs" in metrics
    assert metrics["total_costs"] == pytest.approx(r.trades[["commission", "stamp_duty", "transfer_fee",
                                                             "slippage"]].to_numpy().sum())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")]


def test_backtrader_timereturn_and_drawdown_agree_with_the_equity():
    b, _, _ = two_stocks(days=10)
    t = pd.DataFrame({"rebalance_date": [b.day(1)] * 2, "symbol": [A, B]})
    r = run_backtest(b.build(), cfg(), None, targets=t)
    values = r.equity["value"].to_numpy()
    tr = np.array(list(r.analyzers["timereturn"].values()))
    assert tr[1:] == pytest.approx(values[1:] / values[:-1] - 1, abs=1e-12)
    dd = r.analyzers["drawdown"]
    peak = np.maximum.accumulate(values)
    assert dd["max"]["drawdown"] == pytest.approx(100 * np.max(1 - values / peak), rel=1e-9)


def test_targets_file_from_config_and_bad_window(tmp_path):
    b, _, _ = two_stocks()
    p = tmp_path / "t.csv"
    p.write_text(f"rebalance_date,symbol\n{b.day(2)},{A}\n")
    r = run_backtest(b.build(), cfg(f"strategy.targets_file={p}"), None)
    assert r.orders["symbol"].tolist() == [A]
    with pytest.raises(UserError, match="no trading day"):
        run_backtest(b.build(), cfg(f"strategy.targets_file={p}", "backtest.start=2030-01-01",
                                    "backtest.end=2030-02-01"), None)


def test_an_error_while_writing_leaves_no_half_written_output(tmp_path, monkeypatch):
    import ashare_sim.backtest.outputs as outputs
    b, _, _ = two_stocks()
    t = pd.DataFrame({"rebalance_date": [b.day(1)], "symbol": [A]})

    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(outputs, "targets_table", boom)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        run_backtest(b.build(), cfg(), out, targets=t)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_metrics_name_the_benchmark():
    b, _, _ = two_stocks()
    t = pd.DataFrame({"rebalance_date": [b.day(1)], "symbol": [A]})
    r = run_backtest(b.build(), cfg("backtest.benchmark=none"), None, targets=t)
    assert r.metrics["benchmark_label"] is None and r.metrics["information_ratio"] is None
    assert "factors" not in r.metrics            # a targets run has no factor analytics
    assert r.metrics["total_costs"] == pytest.approx(r.trades[["commission", "stamp_duty", "transfer_fee",
                                                               "slippage"]].to_numpy().sum())


def test_pool_benchmark_is_aligned_to_the_run(monkeypatch):
    import ashare_sim.backtest.run as engine_run
    b, _, _ = two_stocks()
    m = b.build()

    def fake_pool(market, config):
        idx = pd.DatetimeIndex(market.dates[2:].astype("datetime64[ns]"))
        return pd.Series(np.arange(len(idx), dtype=float) + 1.0, index=idx)
    monkeypatch.setattr(engine_run, "cached_pool_benchmark", fake_pool)
    t = pd.DataFrame({"rebalance_date": [b.day(1)], "symbol": [A]})
    r = run_backtest(m, cfg("backtest.benchmark=pool"), None, targets=t)
    bench = r.equity["benchmark"].to_numpy()
    assert np.isnan(bench[:2]).all() and bench[2:].tolist() == list(np.arange(6) + 1.0)
    assert r.metrics["benchmark_label"] == "Small-cap pool (equal weight)"
    r = run_backtest(m, cfg("backtest.benchmark=none"), None, targets=t)
    assert r.equity["benchmark"].isna().all()


def test_metrics_come_from_the_backtrader_analyzer_and_match_the_written_tables():
    from ashare_sim.metrics.performance import compute_metrics

    b, _, _ = two_stocks()
    t = pd.DataFrame({"rebalance_date": [b.day(0), b.day(3)], "symbol": [A, A]})
    r = run_backtest(b.build(), cfg(), None, targets=t)       # first-day rebalance: the clock starts on its eve
    again = compute_metrics(r.equity, r.trades, r.orders, r.holdings, r.initial_cash)
    run_only = ("benchmark_label", "factors", "execution", "data", "skipped", "targets_source")
    ours = {k: v for k, v in r.metrics.items() if k not in run_only}
    assert ours == again
    assert r.metrics["start"] == b.day(0)


def test_the_scored_run_starts_at_its_first_rebalance_as_the_same_lists_given_do(stress_market_dir):
    """report.html (the scoring pipeline) and research.html's side-by-side run (the same lists given) once
    differed by the idle month before the first rebalance: 24.2% vs 24.4% on the default market."""
    from ashare_sim.data.open import open_market
    c = load_config(None, [f"data.path={stress_market_dir}", "strategy.top_n=8", "output.report=false",
                           "strategy.factors.ic_min_periods=4", "strategy.factors.ic_window=6"])
    market = open_market(c)
    scored = run_backtest(market, c, None)
    first = pd.Timestamp(scored.targets["rebalance_date"].min()).date()
    assert first > market.date_at(0)                  # the market opens before the first list
    assert scored.metrics["start"] == str(first)
    given = run_backtest(market, c, None, targets=scored.targets[["rebalance_date", "symbol", "weight"]])
    for key in ("start", "end", "annual_return", "benchmark_annual_return", "information_ratio", "final_value"):
        assert given.metrics[key] == scored.metrics[key], key


def test_a_window_opening_before_the_first_rebalance_says_how_long_it_sits_in_cash():
    from loguru import logger
    b, _, _ = two_stocks()
    t = pd.DataFrame({"rebalance_date": [b.day(3)], "symbol": [A]})
    said = []
    sink = logger.add(lambda m: said.append(str(m)), level="INFO")
    try:
        run_backtest(b.build(), cfg(), None, targets=t)
    finally:
        logger.remove(sink)
    assert any("first rebalance is " + str(b.day(3)) in s and "cash for 3 trading day(s)" in s for s in said), said


def test_a_window_under_a_year_headlines_its_total_return_not_an_annualised_one(tmp_path):
    from ashare_sim.cli.backtest import summary_text
    b, _, _ = two_stocks()
    t = pd.DataFrame({"rebalance_date": [b.day(1)], "symbol": [A]})
    r = run_backtest(b.build(), cfg("backtest.benchmark=none", "output.report=true"), tmp_path / "o", targets=t)
    m = r.metrics
    text = summary_text(m, tmp_path / "o")
    total = format(m["total_return"], "+.1%")
    assert "annual return" not in text and "not annualised" in text
    assert f"{total}" in text.splitlines()[1]
    page = (tmp_path / "o" / "report.html").read_text()
    assert "Total return</div>" in page and "Annualized return</div>" not in page
    assert page.count("n/a (&lt; 1 year)") == 3 and "Whole run (total)" in page


def test_a_run_starting_inside_a_month_measures_the_pool_from_that_months_start(stress_market_dir):
    """With signal_delay 1 the run starts a day after the month's first day; the pool benchmark once sat in
    cash until the next month's start, and a stress grid (lists shared at delay 0) measured it otherwise."""
    from ashare_sim.data.open import open_market
    base = [f"data.path={stress_market_dir}", "strategy.top_n=8", "output.report=false",
            "strategy.factors.ic_min_periods=4", "strategy.factors.ic_window=6"]
    market = open_market(load_config(None, base))
    delayed = run_backtest(market, load_config(None, [*base, "strategy.signal_delay=1"]), None)
    bench = delayed.equity["benchmark"].to_numpy()
    first = market.index_of(delayed.metrics["start"])
    assert market.dates[first - 1].astype("datetime64[M]") == market.dates[first].astype("datetime64[M]")  # mid-month
    assert (np.diff(bench[:15]) != 0).sum() >= 10          # invested from the first day, not flat for a month


def test_the_garbage_collector_is_paused_for_the_cerebro_run_only_and_left_as_found():
    import gc

    import backtrader as bt

    b, _, _ = two_stocks()
    t = pd.DataFrame({"rebalance_date": [b.day(1)] * 2, "symbol": [A, B]})
    seen = []

    class Probe(bt.Analyzer):
        def next(self):
            seen.append(gc.isenabled())

    add = bt.Cerebro.addanalyzer

    def with_probe(cerebro, *args, **kwargs):
        if not any(a[0] is Probe for a in cerebro.analyzers):
            add(cerebro, Probe)
        return add(cerebro, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bt.Cerebro, "addanalyzer", with_probe)
        assert gc.isenabled()
        run_backtest(b.build(), cfg(), None, targets=t)
        assert gc.isenabled() and seen and not any(seen)
        gc.disable()
        try:
            run_backtest(b.build(), cfg(), None, targets=t)
            assert not gc.isenabled()
        finally:
            gc.enable()
