import numpy as np
import pytest

from ashare_sim.config import load_config
from ashare_sim.config.schema import UniverseConfig
from ashare_sim.signals.universe import pool_benchmark, universe_mask
from tests.market_builder import MarketBuilder


def _market():
    b = MarketBuilder(start="2021-03-01", days=10)
    c = [10.0] * 10
    b.stock("600001.SH", close=c, total_shares=1e8)                 # cap 1e9
    b.stock("600002.SH", close=[11.0] * 10, total_shares=1e8)
    b.stock("600003.SH", close=[12.0] * 10, total_shares=1e8)
    b.stock("600004.SH", close=[13.0] * 10, total_shares=1e8)
    b.stock("600005.SH", close=[100.0] * 10, total_shares=1e9)      # large cap
    b.stock("600006.SH", close=[5.0] * 10, total_shares=1e8, list_date="2020-06-01")   # new listing
    b.stock("600007.SH", close=[5.0] * 10, total_shares=1e8)       # ST
    b.st("600007.SH", "2021-03-05", kind="*ST")
    b.stock("600008.SH", close=[5.0] * 10, total_shares=1e8)       # suspended on the signal day
    b.suspend("600008.SH", 6)
    return b.build()


def _names(m, mask):
    return [s for s, k in zip(m.symbols, mask) if k]


def test_universe_excludes_st_new_listings_suspended_and_large_caps():
    m = _market()
    u = UniverseConfig(min_listed_days=365, exclude_st=True, cap_fraction=0.5)
    # eligible: 600001..600005 (5) -> ceil(2.5) = 3 smallest caps
    assert _names(m, universe_mask(m, 6, u)) == ["600001.SH", "600002.SH", "600003.SH"]


def test_universe_switches():
    m = _market()
    every = UniverseConfig(min_listed_days=0, exclude_st=False, cap_fraction=1.0)
    assert _names(m, universe_mask(m, 6, every)) == [f"60000{i}.SH" for i in range(1, 8)]
    # before the ST spell starts (day 2 = 2021-03-03) the ST name is eligible
    u = UniverseConfig(min_listed_days=365, exclude_st=True, cap_fraction=1.0)
    assert "600007.SH" in _names(m, universe_mask(m, 2, u))
    assert "600007.SH" not in _names(m, universe_mask(m, 6, u))
    # the new listing (2020-06-01) passes a 200-day rule but not 365
    assert "600006.SH" in _names(m, universe_mask(m, 6, UniverseConfig(min_listed_days=200, cap_fraction=1.0)))


def test_pool_benchmark_hand_computed():
    days = ["2021-01-28", "2021-01-29", "2021-02-01", "2021-02-02", "2021-02-03", "2021-03-01", "2021-03-02"]
    b = MarketBuilder(dates=days)
    b.stock("600001.SH", close=[10, 10, 11, 12, 12.5, 13, 14], open=[10, 10, 10, 12, 12, 12.8, 13.5],
            adj_factor=[1, 1, 1, 1, 1.1, 1.1, 1.1])
    b.stock("600002.SH", close=[20, 20, 19, None, 19.5, 21, 20], open=[20, 20, 20, None, 19, 20.5, 20.5])
    m = b.build()
    cfg = load_config(None, ["backtest.start=2021-01-29", "backtest.end=2021-03-02",
                             "strategy.universe.min_listed_days=0", "strategy.universe.cap_fraction=1.0"])
    lvl = pool_benchmark(m, cfg)
    assert [str(d.date()) for d in lvl.index] == days[1:]
    base = (12.8 * 1.1 / 10 + 20.5 / 20) / 2          # last month's pool at the open of 2021-03-01
    expected = [1.0, (1.1 + 0.95) / 2, (1.2 + 0.95) / 2, (12.5 * 1.1 / 10 + 19.5 / 20) / 2,
                base * (13 / 12.8 + 21 / 20.5) / 2, base * (14 / 12.8 + 20 / 20.5) / 2]
    assert lvl.to_numpy() == pytest.approx(expected, rel=1e-6)


def test_pool_benchmark_delisted_stock_keeps_its_last_value():
    days = ["2021-01-28", "2021-01-29", "2021-02-01", "2021-02-02", "2021-02-03"]
    b = MarketBuilder(dates=days)
    b.stock("600001.SH", close=[10, 10, 11, 12, 13])
    b.stock("600002.SH", close=[20, 20, 22, None, None], delist_date="2021-02-01")
    m = b.build()
    cfg = load_config(None, ["backtest.start=2021-01-28", "backtest.end=2021-02-03",
                             "strategy.universe.min_listed_days=0", "strategy.universe.cap_fraction=1.0"])
    lvl = pool_benchmark(m, cfg).to_numpy()
    # bought at the open of 2021-02-01 (= its close here); B's value stays at 22 after delisting
    assert lvl == pytest.approx([1.0, 1.0, 1.0, (12 / 11 + 1) / 2, (13 / 11 + 1) / 2])


from hypothesis import given, settings
from hypothesis import strategies as st

from ashare_sim.signals.universe import bottom_fraction


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(1, 1e6, allow_nan=False), min_size=1, max_size=60),
       st.floats(0.01, 1.0), st.integers(0, 2 ** 31))
def test_bottom_fraction_keeps_the_smallest_ceil_share(caps, fraction, seed):
    v = np.array(caps)
    mask = np.random.default_rng(seed).random(len(v)) < 0.7
    keep = bottom_fraction(v, mask, fraction)
    n = int(mask.sum())
    assert keep.sum() == int(np.ceil(fraction * n - 1e-9))
    assert not (keep & ~mask).any()
    if keep.any() and (mask & ~keep).any():
        assert v[keep].max() <= v[mask & ~keep].min()


def test_smallest_mask_is_the_pool_rule_with_a_count():
    m = _market()
    u = UniverseConfig(min_listed_days=365, exclude_st=True, cap_fraction=0.5)
    from ashare_sim.signals.universe import smallest_mask
    assert _names(m, smallest_mask(m, 6, u, 2)) == ["600001.SH", "600002.SH"]
    # more than the eligible names: all of them (no ST, new listing or suspended name slips in)
    assert _names(m, smallest_mask(m, 6, u, 100)) == [f"60000{i}.SH" for i in range(1, 6)]


def test_pool_benchmark_with_another_member_rule_is_held_the_same_way():
    b = MarketBuilder(start="2021-02-24", days=8)          # 2021-03-01 is day 3: one rebalance
    for i, (price, growth) in enumerate([(10, 0.01), (11, -0.02), (12, 0.03), (50, 0.0)]):
        b.stock(f"60000{i + 1}.SH", close=[round(price * (1 + growth) ** d, 2) for d in range(8)])
    m = b.build()
    cfg = load_config(None, ["backtest.start=2021-02-24", "backtest.end=2021-03-05",
                             "strategy.universe.cap_fraction=0.5"])     # ceil(0.5 x 4) = 2 smallest
    from ashare_sim.signals.universe import smallest_mask
    two = pool_benchmark(m, cfg, members=lambda t: smallest_mask(m, t, cfg.strategy.universe, 2), name="two")
    assert two.name == "two"
    assert two.to_numpy() == pytest.approx(pool_benchmark(m, cfg).to_numpy())
    close = lambda sym, d: m.close[d, m.symbol_index[sym]]
    assert two.iloc[-1] == pytest.approx((close("600001.SH", 7) / close("600001.SH", 3)
                                          + close("600002.SH", 7) / close("600002.SH", 3)) / 2, rel=1e-6)


def test_the_pool_benchmark_is_kept_between_runs_of_a_market_read_from_disk(tmp_path, monkeypatch):
    import ashare_sim.signals.universe as universe
    from ashare_sim.config import load_config
    from ashare_sim.data.market import load_market
    from tests.market_builder import MarketBuilder

    monkeypatch.setenv("ASHARE_SIM_CACHE", str(tmp_path / "cache"))
    b = MarketBuilder(start="2021-01-04", days=30)
    for i in range(4):
        b.stock(f"60000{i}.SH", close=[10 + i + 0.1 * d for d in range(30)], list_date="2019-01-02")
    b.write(tmp_path / "m")
    m = load_market(tmp_path / "m")
    cfg = load_config(None, ["strategy.universe.min_listed_days=0"])
    first = universe.cached_pool_benchmark(m, cfg)
    calls = []
    monkeypatch.setattr(universe, "pool_benchmark", lambda *a: calls.append(1) or first)
    again = universe.cached_pool_benchmark(m, cfg)
    assert calls == [] and again.equals(first)
    universe.cached_pool_benchmark(m, load_config(None, ["strategy.universe.min_listed_days=10"]))
    assert calls == [1]                                    # another pool rule: computed
