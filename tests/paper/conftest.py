"""The paper tests' market: 60 generated stocks over the first half of 2020."""
import datetime as dt

import pytest

from ashare_sim.data.market import load_market
from ashare_sim.data.synthetic.generator import generate_market


@pytest.fixture(scope="session")
def market_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper") / "m"
    generate_market(out, stocks=60, start=dt.date(2020, 1, 1), end=dt.date(2020, 6, 30), seed=3)
    return out


@pytest.fixture(scope="session")
def market(market_dir):
    return load_market(market_dir)
