"""Suite-wide set-up: derived-data caching (common.cache) goes to a temporary folder, never the user's."""
import os
import tempfile

_CACHE = tempfile.mkdtemp(prefix="ashare-test-cache-")
os.environ["ASHARE_SIM_CACHE"] = _CACHE        # subprocesses of CLI tests inherit it

import datetime as dt  # noqa: E402

import pytest  # noqa: E402
from loguru import logger  # noqa: E402

# The package is silent for library users until they ask (ashare_sim/__init__.py); tests that read its
# warnings ask here, once for every test, so no test depends on another having turned the log on.
import ashare_sim  # noqa: E402,F401

logger.enable("ashare_sim")


def generated_market(tmp_path_factory, name: str, stocks: int, start: dt.date, end: dt.date, seed: int):
    """A small generated market in its own temporary folder (module- or session-scoped fixtures build one)."""
    from ashare_sim.data.synthetic.generator import generate_market

    out = tmp_path_factory.mktemp(name) / "market"
    generate_market(out, stocks=stocks, start=start, end=end, seed=seed)
    return out


@pytest.fixture(scope="session")
def stress_market_dir(tmp_path_factory):
    """A small generated market over the planted 2015 and 2016 crash spells (50 stocks, 2015-01..2016-06),
    for the stress tests."""
    from ashare_sim.data.synthetic.generator import generate_market

    out = tmp_path_factory.mktemp("stress_market") / "market"
    generate_market(out, stocks=50, start=dt.date(2015, 1, 1), end=dt.date(2016, 6, 30), seed=11)
    return out
