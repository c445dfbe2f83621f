"""Size groups: planted monthly returns by group come back, and so does the excess by era."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.config import load_config
from ashare_sim.research.size_groups import era_excess, monthly_group_returns
from tests.market_builder import MarketBuilder

DAILY = [0.004, 0.002, -0.001, -0.003]     # planted daily growth of size groups 1 (smallest) .. 4
DAYS = 70                                   # 2021-01-04 .. mid-April: rebalances Feb 1, Mar 1, Apr 1


def _market(with_st: bool = True):
    b = MarketBuilder(start="2021-01-04", days=DAYS)
    for i in range(12):                     # caps 1e9 x 2^i: growth never reorders them
        g = DAILY[i // 3]
        b.stock(f"{600000 + i}.SH", close=[10.0 * (1 + g) ** d for d in range(DAYS)], total_shares=1e8 * 2 ** i)
    if with_st:                             # the smallest of all, ST, and soaring
        b.stock("600100.SH", close=[1.0 * 1.01 ** d for d in range(DAYS)], total_shares=1e7)
        b.st("600100.SH", "2020-06-01")
    return b, b.build()


def _cfg(exclude_st: bool):
    return load_config(None, ["backtest.start=2021-01-04", "backtest.end=2021-04-30", "research.size_groups=4",
                              f"research.size_exclude_st={str(exclude_st).lower()}",
                              "research.eras=[{name: feb, start: 2021-02-01, end: 2021-02-28}, "
                              "{name: mar-on, start: 2021-03-01}]"])


def test_planted_group_returns_and_era_excess():
    b, m = _market()
    monthly = monthly_group_returns(m, _cfg(exclude_st=True))
    starts = [pd.Timestamp(d) for d in ("2021-02-01", "2021-03-01")]   # April has no next rebalance in the data
    assert list(monthly.index) == starts
    idx = [b.dates.index(d) for d in starts] + [b.dates.index(pd.Timestamp("2021-04-01"))]
    for k in range(2):
        hold = idx[k + 1] - idx[k]                                    # open-to-open days (open = close here)
        expected = [(1 + g) ** hold - 1 for g in DAILY]
        assert monthly.iloc[k][[1, 2, 3, 4]].to_numpy() == pytest.approx(expected, rel=1e-5)
        assert monthly.iloc[k]["market"] == pytest.approx(np.mean(expected), rel=1e-5)
    eras = era_excess(monthly, _cfg(True).research.eras)
    assert list(eras.columns[:3]) == ["era", "group", "excess_annual_return"]
    feb = eras[eras["era"] == "feb"].set_index("group")
    g1 = monthly.iloc[0][1]
    mkt = monthly.iloc[0]["market"]
    assert feb.loc[1, "excess_annual_return"] == pytest.approx((1 + g1) ** 12 - (1 + mkt) ** 12, rel=1e-4)
    assert (feb["months"] == 1).all() and set(eras["era"]) == {"feb", "mar-on"}
    assert feb["excess_annual_return"].is_monotonic_decreasing          # the planted small-cap premium


def test_st_names_are_in_the_cut_unless_excluded():
    _, m = _market()
    with_st = monthly_group_returns(m, _cfg(exclude_st=False))
    without = monthly_group_returns(m, _cfg(exclude_st=True))
    assert with_st.iloc[0][1] > without.iloc[0][1]                    # the soaring ST name lands in D1
    assert with_st.iloc[0]["market"] > without.iloc[0]["market"]
