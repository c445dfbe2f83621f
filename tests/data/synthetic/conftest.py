"""One small generated market per test session: 300 stocks over 2019-2020 (seconds).

2019-2020 covers the STAR board's opening, the ChiNext registration reform and
old-style main-board IPOs; a second, smaller market over 2021-2022 covers the
Beijing exchange.
"""
import datetime as dt

import pytest

from ashare_sim.data.market import load_market
from ashare_sim.data.synthetic.generator import generate_market

SMALL = dict(stocks=300, start=dt.date(2019, 1, 1), end=dt.date(2020, 12, 31), seed=7)
BSE_ERA = dict(stocks=300, start=dt.date(2021, 6, 1), end=dt.date(2022, 12, 31), seed=11)


@pytest.fixture(scope="session")
def market_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic") / "market"
    generate_market(out, **SMALL)
    return out


@pytest.fixture(scope="session")
def market(market_dir):
    return load_market(market_dir)


@pytest.fixture(scope="session")
def bse_market(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic_bse") / "market"
    generate_market(out, **BSE_ERA)
    return load_market(out)
