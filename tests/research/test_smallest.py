"""Smallest-N vs the pool vs the benchmark table, by calendar year, from planted prices."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.config import load_config
from ashare_sim.research.smallest import by_year, levels
from ashare_sim.signals.universe import pool_benchmark
from tests.market_builder import MarketBuilder

GROWTH = [0.003, -0.002, 0.001, 0.0, 0.0]       # daily; the first two are the smallest caps


def test_smallest_two_by_year_against_the_pool_and_the_index():
    b = MarketBuilder(start="2020-12-21", days=40)                  # to 2021-02-12
    n = len(b.dates)
    for i, g in enumerate(GROWTH):
        b.stock(f"{600001 + i}.SH", close=[10.0 * (1 + g) ** d for d in range(n)], total_shares=1e8 * (i + 1))
    b.stock("600009.SH", close=[5.0] * n, total_shares=1e7)          # smallest, but ST: never held
    b.st("600009.SH", "2020-01-01")
    bench = [1000.0 + 10 * d for d in range(n)]
    b.benchmark(bench)
    m = b.build()
    cfg = load_config(None, ["backtest.start=2020-12-21", "backtest.end=2021-02-12", "research.smallest_n=2",
                             "strategy.universe.cap_fraction=0.6"])    # ceil(0.6 x 5) = 3 smallest eligible
    lv, base = levels(m, cfg)
    assert list(lv.columns) == ["smallest2", "pool", "benchmark"]
    assert lv["pool"].to_numpy() == pytest.approx(pool_benchmark(m, cfg).to_numpy())
    r1, r2 = b.dates.index(pd.Timestamp("2021-01-01")), b.dates.index(pd.Timestamp("2021-02-01"))   # bdate calendar
    grow = lambda names, a, z: np.mean([(1 + GROWTH[i]) ** (z - a) for i in names])   # open = close here
    table = by_year(lv, base).set_index("year")
    assert list(table.index) == [2020, 2021]
    assert table.loc[2020, "smallest2"] == 0.0 and table.loc[2020, "pool"] == 0.0     # cash until the first rebalance
    assert table.loc[2021, "smallest2"] == pytest.approx(grow([0, 1], r1, r2) * grow([0, 1], r2, n - 1) - 1, rel=1e-5)
    assert table.loc[2021, "pool"] == pytest.approx(grow([0, 1, 2], r1, r2) * grow([0, 1, 2], r2, n - 1) - 1, rel=1e-5)
    last_2020 = b.dates.index(pd.Timestamp("2020-12-31"))
    # the data starts with the window: the index's first close is its base
    assert table.loc[2020, "benchmark"] == pytest.approx(bench[last_2020] / bench[0] - 1)
    assert table.loc[2021, "benchmark"] == pytest.approx(bench[-1] / bench[last_2020] - 1)


def test_annual_rates_from_the_base_over_calendar_years():
    from ashare_sim.research.smallest import annual_rates

    idx = pd.date_range("2020-01-01", periods=731, freq="D")            # 2020-01-01 .. 2021-12-31
    lv = pd.DataFrame({"a": np.linspace(1.0, 1.21, 731), "b": np.nan}, index=idx)
    rates = annual_rates(lv, pd.Series({"a": 1.0, "b": 1.0}))
    assert rates["a"] == pytest.approx(1.21 ** (365.25 / 731) - 1)
    assert np.isnan(rates["b"])
