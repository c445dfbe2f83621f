"""The examples/ folder runs: each function on a small generated market, and the paper month equals the
backtest of the same function."""
import datetime as dt
import importlib.util
import os
from pathlib import Path

import pandas as pd
import pytest

from ashare_sim.backtest.run import run_backtest
from ashare_sim.config import load_config
from ashare_sim.data.market import load_market

ROOT = Path(__file__).resolve().parents[1]
from tests.conftest import generated_market

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    return generated_market(tmp_path_factory, "examples", stocks=80, start=dt.date(2019, 1, 1), end=dt.date(2020, 6, 30), seed=7)


def cfg(market_dir, *sets):
    return load_config(None, [f"data.path={market_dir}", "strategy.top_n=10", "output.report=false",
                              "strategy.factors.ic_min_periods=4", "strategy.factors.ic_window=6", *sets])


def test_the_monthly_composite_example_holds_the_top_of_its_equal_weight_composite(market_dir):
    spec = f"{ROOT / 'examples' / 'monthly_composite.py'}:composite_top"
    r = run_backtest(load_market(market_dir), cfg(market_dir, f"strategy.function={spec}"), None)
    per_day = r.targets.groupby("rebalance_date")
    assert len(per_day) >= 12 and (per_day.size() == 10).all()
    assert per_day["weight"].sum().round(9).eq(1.0).all()
    assert len(r.trades) > 50 and r.metrics["targets_source"]["name"] == "monthly_composite.py:composite_top"


def test_the_weekly_reversal_example_trades_every_week_without_st_names(market_dir):
    spec = f"{ROOT / 'examples' / 'weekly_reversal.py'}:reversal"
    market = load_market(market_dir)
    r = run_backtest(market, cfg(market_dir, f"strategy.function={spec}", "strategy.rebalance=weekly",
                                 "backtest.start=2020-01-06"), None)
    days = pd.to_datetime(r.targets["rebalance_date"]).drop_duplicates()
    assert len(days) >= 20 and (days.diff().dropna().dt.days <= 14).all()      # a holiday week is skipped
    for day, rows in r.targets.groupby("rebalance_date"):
        t = market.index_of(pd.Timestamp(day).date()) - 1
        assert not market.is_st[t, [market.symbol_index[s] for s in rows["symbol"]]].any()


def test_the_paper_month_example_equals_the_backtest(market_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)                          # the example names examples/weekly_reversal.py
    spec = importlib.util.spec_from_file_location("paper_month", ROOT / "examples" / "paper_month.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    paper, backtest = module.paper_month(str(market_dir), str(tmp_path / "a.db"), "2020-04-07", "2020-05-29")
    assert paper == pytest.approx(backtest, abs=0.01) and paper != 10_000_000
    assert os.path.getsize(tmp_path / "a.db") > 0


def test_the_moving_average_backtrader_example_trades_lots_on_the_ashare_broker(market_dir, tmp_path):
    import sys
    sys.path.insert(0, str(ROOT))
    from examples.ma_crossover import run
    market = load_market(market_dir)
    r = run(str(market_dir), str(tmp_path / "out"), symbols=[str(s) for s in market.symbols[:8]],
            start="2019-03-01", end="2020-06-30")
    assert len(r.trades) > 10 and (r.trades[r.trades["side"] == "buy"]["qty"] % 100 == 0).all()
    assert r.metrics["targets_source"]["name"] == "MovingAverageCross" and (tmp_path / "out" / "report.html").exists()


def test_the_qlib_scores_example_trades_topk_dropout_from_a_pred_pkl(market_dir, tmp_path):
    import sys
    sys.path.insert(0, str(ROOT))
    from examples.qlib_scores import run
    r = run(str(market_dir), None, start="2020-01-02", end="2020-06-30", work=str(tmp_path))
    assert (tmp_path / "pred.pkl").exists() and r.metrics["targets_source"]["rule"] == "topk_dropout"
    per_day = r.targets.groupby("rebalance_date").size()
    assert len(per_day) > 60 and per_day.max() <= 31
