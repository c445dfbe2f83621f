"""Pool PB / PE-TTM from point-in-time fundamentals: known by construction."""
import numpy as np
import pytest

from ashare_sim.config import load_config
from ashare_sim.research.valuation import COLUMNS, pool_valuation, valuation_at
from tests.market_builder import MarketBuilder


def _market():
    b = MarketBuilder(start="2021-04-20", days=35)                    # signals 2021-04-30 and 2021-05-31
    n = len(b.dates)
    b.stock("600001.SH", close=[10.0] * n, total_shares=1e8)          # cap 1e9
    b.stock("600002.SH", close=[20.0] * n, total_shares=1e8)          # cap 2e9
    b.stock("600003.SH", close=[5.0] * n, total_shares=1e8)           # cap 5e8, a loss maker
    b.stock("600004.SH", close=[8.0] * n, total_shares=1e8)           # no fundamentals
    ytd = {"600001.SH": [1e7, 2e7, 3e7, 5e7], "600002.SH": [2e7, 4e7, 6e7, 8e7], "600003.SH": [-1e7, -2e7, -2e7, -3e7]}
    equity = {"600001.SH": 5e8, "600002.SH": 4e8, "600003.SH": 1e9}
    for sym, profits in ytd.items():
        for q, (end, ann) in enumerate([("2020-03-31", "2020-04-28"), ("2020-06-30", "2020-08-28"),
                                        ("2020-09-30", "2020-10-28"), ("2020-12-31", "2021-03-30")]):
            b.fundamental(sym, end, ann, total_equity=equity[sym], net_profit=profits[q])
    # announced on the first signal date itself: usable only from the next trading day
    b.fundamental("600001.SH", "2021-03-31", "2021-04-30", total_equity=1e9, net_profit=4e7)
    return b.build()


def test_median_and_aggregate_pb_pe_point_in_time():
    cfg = load_config(None, ["backtest.start=2021-04-20", "backtest.end=2021-06-30",
                             "strategy.universe.cap_fraction=1.0", "research.min_history_months=1"])
    v = pool_valuation(_market(), cfg)
    assert list(v.columns) == COLUMNS
    assert [str(d.date()) for d in v["date"]] == ["2021-04-30", "2021-05-31"]
    first = v.iloc[0]
    # TTM: A 5e7 (single quarters 1, 1, 1, 2), B 8e7, C -3e7
    assert first["pb_median"] == pytest.approx(np.median([1e9 / 5e8, 2e9 / 4e8, 5e8 / 1e9]))
    assert first["pe_ttm_median"] == pytest.approx(np.median([1e9 / 5e7, 2e9 / 8e7]))     # the loss maker is out
    assert first["pb_aggregate"] == pytest.approx(3.5e9 / 1.9e9)
    assert first["pe_ttm_aggregate"] == pytest.approx(3.5e9 / (5e7 + 8e7 - 3e7))           # losses included
    assert (first["names"], first["names_pb"], first["names_pe"]) == (4, 3, 2)
    second = v.iloc[1]
    # A's Q1 2021 is known now: equity 1e9, TTM = 5e7 - 1e7 + 4e7 = 8e7
    assert second["pb_median"] == pytest.approx(np.median([1.0, 5.0, 0.5]))
    assert second["pe_ttm_median"] == pytest.approx(np.median([1e9 / 8e7, 2e9 / 8e7]))
    assert np.isnan(first["pb_percentile"])                                                 # no history yet
    assert second["pb_percentile"] == pytest.approx(100 * 0.5 / 2)                          # 1.0 below 2.0
    assert second["pe_ttm_percentile"] == pytest.approx(100 * 0.5 / 2)                      # 18.75 below 22.5


def test_figures_of_one_date_skip_unknown_and_non_positive():
    cap = np.array([1e9, 2e9, np.nan, 3e9])
    book = np.array([5e8, -1e8, 1e8, np.nan])
    ttm = np.array([np.nan, 1e8, 1e7, 1e8])
    pool = np.array([True, True, True, False])
    f = valuation_at(cap, book, ttm, pool)
    assert f["pb_median"] == pytest.approx(2.0) and f["pb_aggregate"] == pytest.approx(3e9 / 4e8)
    assert f["pe_ttm_median"] == pytest.approx(20.0) and f["names"] == 3


def test_no_fundamentals_no_valuations():
    b = MarketBuilder(start="2021-04-20", days=30)
    b.stock("600001.SH", close=[10.0] * 30)
    v = pool_valuation(b.build(), load_config(None, ["backtest.start=2021-04-20"]))
    assert len(v) == 0 and list(v.columns) == COLUMNS
