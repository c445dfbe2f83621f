"""Fill price (open / close / vwap), slippage models and the clamp to the bar and limits."""
import math

import numpy as np
import pytest

from ashare_sim.common.errors import ConfigError
from ashare_sim.execution.context import OrderContext
from ashare_sim.execution.models.base import build_chosen
from ashare_sim.execution.models.deal_price import (
    DEAL_PRICES,
    ClosePrice,
    OpenPrice,
    VwapPrice,
)
from ashare_sim.execution.models.slippage import FixedBps, SqrtImpact, Ticks, clamp
from ashare_sim.execution.models.volume_cap import UNLIMITED, VolumeCap
from tests.execution.models.harness import config, make, only, run_orders
from tests.market_builder import MarketBuilder


def ctx(**kw):
    base = dict(day=None, t=1, sid=0, symbol="600000.SH", board="main", exchange="SH", side="buy", qty=100,
                open=10.0, high=10.5, low=9.8, close=10.2, volume=1e6, amount=1.01e7, high_limit=11.0,
                low_limit=9.0, has_bar=True, listed=True, delisted=False)
    base.update(kw)
    return OrderContext(**base)


def test_deal_prices_by_name():
    c = ctx()
    assert OpenPrice().price(c) == 10.0
    assert ClosePrice().price(c) == 10.2
    assert make(VwapPrice).price(c) == pytest.approx(10.1)
    assert make(VwapPrice).price(ctx(amount=2e7)) == 10.5          # clamped into [low, high]
    from ashare_sim.execution.models.base import Env

    assert isinstance(build_chosen(DEAL_PRICES, "vwap", config().broker, Env(None, make(OpenPrice).env.rules)),
                      VwapPrice)
    with pytest.raises(ConfigError):
        DEAL_PRICES.get("twap")


def test_fixed_bps_and_ticks_move_against_the_trader():
    assert make(FixedBps, bps=10).price(ctx(), 10.0, 100) == pytest.approx(10.01)
    assert make(FixedBps, bps=10).price(ctx(side="sell"), 10.0, 100) == pytest.approx(9.99)
    assert make(Ticks, ticks=2).price(ctx(), 10.0, 100) == pytest.approx(10.02)
    assert make(Ticks, ticks=2).price(ctx(side="sell"), 10.0, 100) == pytest.approx(9.98)


def test_no_fill_price_outside_the_bar_or_the_limits():
    c = ctx(high=10.05, low=9.95, high_limit=10.03, low_limit=9.97)
    assert make(FixedBps, bps=500).price(c, 10.0, 100) == pytest.approx(10.03)
    assert make(FixedBps, bps=500).price(ctx(side="sell", high=10.05, low=9.95, high_limit=10.03, low_limit=9.97),
                                     10.0, 100) == pytest.approx(9.97)
    assert clamp(ctx(high_limit=math.nan), 12.0, 0.01) == pytest.approx(10.5)


class _M:
    """Just the panels SqrtImpact reads."""
    def __init__(self, close):
        close = np.asarray(close, dtype=np.float32)[:, None]
        self.panels = {"close": close, "adj_factor": np.ones_like(close)}


def test_sqrt_impact_grows_with_the_square_root_of_participation():
    closes = [10.0, 10.2, 10.0, 10.3, 10.1, 10.4, 10.2]
    m = _M(closes)
    model = make(SqrtImpact, impact=0.5, vol_days=5, tick=0.0001, market=m)
    c = ctx(t=6, high=20.0, high_limit=math.nan, volume=1e6)
    sigma = float(np.std(np.diff(np.log(np.asarray(closes[0:6], dtype=np.float32).astype(float))), ddof=1))
    assert model.sigma(6, 0) == pytest.approx(sigma, rel=1e-6)
    p1 = model.price(c, 10.0, 10_000)
    p4 = model.price(c, 10.0, 40_000)
    assert p1 == pytest.approx(10.0 * (1 + 0.5 * sigma * math.sqrt(0.01)), abs=1e-4)
    assert (p4 - 10.0) == pytest.approx(2 * (p1 - 10.0), rel=0.02)


def test_volume_cap_models():
    assert make(VolumeCap, volume_cap=0.25).allowed(ctx(volume=1000)) == 250
    assert VolumeCap.build(VolumeCap.Params(volume_cap=None), None) is None        # null: no cap at all
    assert UNLIMITED >= 12345 * 10 ** 9


def test_slippage_is_reported_in_trades_not_charged_twice():
    b = MarketBuilder(start="2021-06-01", days=3)
    b.stock("600000.SH", close=[10.0] * 3, high=[10.5] * 3)
    broker = run_orders(b.build(), [(1, "600000.SH", "buy", 1000)], "broker.slippage.model=fixed_bps",
                        "broker.slippage.bps=10", "broker.cash=100000")
    f = broker.trade_log[0]
    assert f.price == pytest.approx(10.01)
    assert f.slippage == pytest.approx(10.0)
    assert broker.cash == pytest.approx(100_000 - 10_010 - f.commission - f.transfer_fee)


def test_vwap_deal_price_end_to_end():
    b = MarketBuilder(start="2021-06-01", days=3)
    b.stock("600000.SH", close=[10.0, 10.4, 10.4], open=[10.0, 10.0, 10.4], high=[10.0, 10.5, 10.4])
    row = only(run_orders(b.build(), [(1, "600000.SH", "buy", 100)], "broker.deal_price=vwap"))
    assert row.price == pytest.approx(10.2)       # builder amount = volume x (open + close) / 2


def test_a_crowd_of_funds_shares_the_volume_cap_and_moves_the_price_together():
    from ashare_sim.execution.context import OrderContext
    from ashare_sim.execution.models.slippage import SqrtImpact
    from ashare_sim.execution.models.volume_cap import VolumeCap

    ctx = OrderContext(day=None, t=5, sid=0, symbol="X", board="main", exchange="SH", side="buy", qty=50_000,
                       open=10.0, high=11.0, low=9.0, close=10.0, volume=1_000_000, amount=1e7,
                       high_limit=11.0, low_limit=9.0, has_bar=True, listed=True, delisted=False)
    assert make(VolumeCap, volume_cap=0.10).allowed(ctx) == 100_000
    assert make(VolumeCap, volume_cap=0.10, crowd=4).allowed(ctx) == 25_000

    class Flat(SqrtImpact):
        def sigma(self, t, sid):
            return 0.02

    alone, crowd = make(Flat, impact=0.3, vol_days=20), make(Flat, impact=0.3, vol_days=20, crowd=4)
    assert alone.price(ctx, 10.0, 25_000) == pytest.approx(10.0 * (1 + 0.3 * 0.02 * (0.025 ** 0.5)), abs=0.005)
    assert crowd.price(ctx, 10.0, 25_000) == pytest.approx(alone.price(ctx, 10.0, 100_000))   # impact of 4 x 25k
