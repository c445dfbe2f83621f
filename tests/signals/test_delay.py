"""`strategy.signal_delay`: lists trade k trading days late; nothing moves at k = 0."""
import numpy as np
import pandas as pd

from ashare_sim.backtest.run import run_backtest
from ashare_sim.config import load_config
from ashare_sim.signals.delay import delay_targets
from tests.market_builder import MarketBuilder
from tests.presets import IDEAL_EXECUTION

DATES = np.array(["2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07", "2021-01-08"], dtype="datetime64[D]")


def table(*days):
    return pd.DataFrame({"rebalance_date": pd.to_datetime(list(days)), "symbol": ["600000.SH"] * len(days),
                         "weight": [0.5] * len(days)})


def test_zero_delay_returns_the_same_table():
    t = table("2021-01-05")
    assert delay_targets(t, DATES, 0) is t


def test_dates_move_k_trading_days_and_past_the_end_are_dropped():
    out = delay_targets(table("2021-01-04", "2021-01-07"), DATES, 2)
    assert list(out["rebalance_date"].dt.strftime("%Y-%m-%d")) == ["2021-01-06"]
    # a day that is no trading day snaps to the next one first
    out = delay_targets(table("2021-01-02"), DATES, 1)
    assert list(out["rebalance_date"].dt.strftime("%Y-%m-%d")) == ["2021-01-05"]


def test_a_delayed_run_buys_a_day_later_and_says_so():
    b = MarketBuilder(start="2021-01-04", days=6)
    b.stock("600000.SH", close=[10, 10, 10.5, 10.8, 11, 11])
    m = b.build()
    t = pd.DataFrame({"rebalance_date": [pd.Timestamp(b.day(1))], "symbol": ["600000.SH"], "weight": [0.5]})
    base = run_backtest(m, load_config(None, IDEAL_EXECUTION), None, targets=t)
    late = run_backtest(m, load_config(None, IDEAL_EXECUTION + ["strategy.signal_delay=1"]), None, targets=t)
    assert str(base.trades["date"].iloc[0])[:10] == b.day(1)
    assert str(late.trades["date"].iloc[0])[:10] == b.day(2)
    assert late.trades["price"].iloc[0] == 10.5                   # the open of the later day
    assert "signal delay" in dict(late.metrics["execution"])["Targets"]
    assert "signal delay" not in dict(base.metrics["execution"])["Targets"]
