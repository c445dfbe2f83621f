"""Crowding monitor: known participation, days to exit, turnover share and limit-down count."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.config import load_config
from ashare_sim.research.crowding import crowding, flag, worst_days
from ashare_sim.research.valuation import COLUMNS
from tests.market_builder import MarketBuilder

DAYS = 45


def _market():
    b = MarketBuilder(start="2021-01-04", days=DAYS)                 # rebalance 2021-02-01 (day 20)
    # amount = volume x price (open = close = 10): A 1e6 CNY a day, B 5e6, C and D 4e7
    b.stock("600001.SH", close=[10.0] * DAYS, volume=1e5, total_shares=1e7)
    b.stock("600002.SH", close=[10.0] * DAYS, volume=5e5, total_shares=2e7)
    b.stock("600003.SH", close=[10.0] * DAYS, volume=4e6, total_shares=1e9)
    b.stock("600004.SH", close=[10.0] * DAYS, volume=4e6, total_shares=2e9)
    for sym in ("600003.SH", "600004.SH"):                          # both close at limit-down (-10%) on day 30
        b.bar(sym, 30, open=9.5, high=9.5, low=9.0, close=9.0)
        for d in range(31, DAYS):
            b.bar(sym, d, open=9.0, high=9.0, low=9.0, close=9.0)
    return b, b.build()


def _cfg(*extra):
    return load_config(None, ["backtest.start=2021-01-04", "backtest.end=2021-03-05", "broker.cash=1000000",
                              "strategy.universe.cap_fraction=0.5", "research.min_history_months=1", *extra])


def test_participation_days_to_exit_turnover_share_and_limit_downs():
    b, m = _market()
    targets = pd.DataFrame({"rebalance_date": pd.Timestamp("2021-02-01"), "symbol": ["600001.SH", "600002.SH"],
                            "weight": [0.5, 0.5]})
    c = crowding(m, _cfg(), targets, pd.DataFrame(columns=COLUMNS)).set_index("date")
    r = pd.Timestamp("2021-02-01")
    held = c.loc[r:]
    # 500,000 CNY in each: A trades 1e6 a day (50%), B 5e6 (10%)
    assert held["participation"].to_numpy() == pytest.approx(np.full(len(held), (0.5 + 0.1) / 2))
    assert held["days_to_exit"].to_numpy() == pytest.approx(np.full(len(held), 0.5e6 / (0.1 * 1e6)))
    assert c.loc[:r - pd.Timedelta(days=1), "participation"].isna().all()     # nothing held before the rebalance
    # the pool = the two smaller caps (A, B): 6e6 of 8.6e7 traded before day 30
    assert c.loc[r, "smallcap_turnover_share"] == pytest.approx(6e6 / 8.6e7)
    down = c["limit_down_names"]
    assert down.loc[b.dates[30]] == 2 and down.drop(b.dates[30]).eq(0).all()
    assert worst_days(c.reset_index(), 1)["date"].iloc[0] == b.dates[30]
    assert c["limit_down_names_percentile"].loc[b.dates[30]] > 90                # a historic extreme
    assert c.loc[b.dates[30], "extremes"] >= 1


def test_days_to_exit_scales_with_the_exit_share():
    _, m = _market()
    targets = pd.DataFrame({"rebalance_date": pd.Timestamp("2021-02-01"), "symbol": ["600001.SH"], "weight": [1.0]})
    c = crowding(m, _cfg("research.exit_volume_share=0.25"), targets, pd.DataFrame(columns=COLUMNS))
    assert c["days_to_exit"].dropna().to_numpy() == pytest.approx(1e6 / (0.25 * 1e6))


def _crowd(last: dict) -> pd.DataFrame:
    base = {"pool_pe_percentile": 50.0, "smallcap_turnover_share": 0.1, "participation": 0.01, "days_to_exit": 1.0,
            "limit_down_names": 3.0, "smallcap_turnover_share_percentile": 50.0, "participation_percentile": 50.0,
            "days_to_exit_percentile": 50.0, "limit_down_names_percentile": 50.0, "extremes": 0}
    rows = [dict(base, date=pd.Timestamp("2022-01-03")), dict(base, date=pd.Timestamp("2022-01-04"), **last)]
    return pd.DataFrame(rows)


def test_the_flag_names_the_extreme_indicators_in_plain_words():
    cfg = _cfg()
    hot = _crowd({"pool_pe_percentile": 95.0, "participation_percentile": 97.0, "days_to_exit_percentile": 91.0,
                  "extremes": 3})
    f = flag(hot, cfg.research)
    assert f.raised and f.extreme == ["pool_pe_percentile", "participation", "days_to_exit"]
    assert f.text.startswith("CROWDED on 2022-01-04: 3 of 5 indicators are at historic extremes")
    assert "at or above the 90th percentile of its own history" in f.text and f.days_raised == 1
    calm = flag(_crowd({"participation_percentile": 97.0, "extremes": 1}), cfg.research)
    assert not calm.raised and calm.text.startswith("Not flagged on 2022-01-04: 1 of 5")
