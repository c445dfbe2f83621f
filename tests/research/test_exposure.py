"""Portfolio style exposure and industry weights: known z-scores and shares."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.config import load_config
from ashare_sim.research.exposure import industry_weights, style_exposure
from tests.market_builder import MarketBuilder

CAPS = [1e9, 2e9, 4e9, 8e9, 16e9]
INDUSTRY = ["banks", "banks", "media", "media", "steel"]


def _market():
    b = MarketBuilder(start="2021-01-04", days=45)                     # rebalance 2021-02-01
    rng = np.random.default_rng(1)
    for i, cap in enumerate(CAPS):
        close = 10.0 * np.cumprod(1 + rng.normal(0, 0.01, 45))
        b.stock(f"60000{i + 1}.SH", close=list(close), total_shares=cap / 10.0, industry=INDUSTRY[i])
    return b.build()


def _cfg():
    return load_config(None, ["backtest.start=2021-01-04", "backtest.end=2021-02-26",
                              "strategy.universe.cap_fraction=1.0", "strategy.factors.winsorize=0"])


def _targets(weights: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"rebalance_date": pd.Timestamp("2021-02-01"), "symbol": list(weights),
                         "weight": list(weights.values())})


def test_size_exposure_is_the_weighted_z_of_log_cap():
    m = _market()
    e = style_exposure(m, _cfg(), _targets({"600001.SH": 0.75, "600003.SH": 0.25}))
    assert list(e.columns) == ["date", "size", "momentum", "volatility", "liquidity"]   # no fundamentals: no value / roe / growth
    assert str(e["date"].iloc[0].date()) == "2021-01-29"
    s = m.market_cap[m.index_of("2021-01-29")].astype(np.float64)
    z = (np.log(s) - np.log(s).mean()) / np.log(s).std()
    assert e["size"].iloc[0] == pytest.approx(0.75 * z[0] + 0.25 * z[2])
    assert e["size"].iloc[0] < 0                                       # the book holds the smaller names
    assert np.isnan(e["momentum"].iloc[0])                             # 250 days of history are not there


def test_industry_weights_against_the_pool():
    w = industry_weights(_market(), _cfg(), _targets({"600001.SH": 0.6, "600003.SH": 0.4})).set_index("industry")
    assert w["portfolio"].to_dict() == pytest.approx({"banks": 0.6, "media": 0.4, "steel": 0.0})
    assert w["pool"].to_dict() == pytest.approx({"banks": 0.4, "media": 0.4, "steel": 0.2})
    assert w["active"].to_dict() == pytest.approx({"banks": 0.2, "media": 0.0, "steel": -0.2})
