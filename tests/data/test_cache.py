"""ashare_sim.data.cache: a market mapped from the cache is the market read from its directory, field by field."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.data import cache as market_cache
from ashare_sim.data.market import load_market
from ashare_sim.rules import RulesTable
from tests.market_builder import MarketBuilder


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ASHARE_SIM_CACHE", str(tmp_path / "cache"))
    b = MarketBuilder(start="2021-01-04", days=8)
    b.stock("600000.SH", close=[10, 10.5, None, 11, 11, 10.9, 11.2, 11])
    b.stock("300001.SZ", close=[20, 21, 22, 23, 22, 21, 20, 19], list_date="2020-06-01")
    b.st("600000.SH", "2021-01-06")
    b.dividend("300001.SZ", "2021-01-07", cash_per_share=0.5)
    b.benchmark([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007])
    return b.write(tmp_path / "m")


def same(a, b):
    assert a.dates.tolist() == b.dates.tolist() and a.symbols.tolist() == b.symbols.tolist()
    assert a.panels.keys() == b.panels.keys()
    for name in a.panels:
        assert np.array_equal(a.panels[name], b.panels[name], equal_nan=True), name
    for name in market_cache.ARRAY_FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    pd.testing.assert_frame_equal(a.instruments, b.instruments)
    pd.testing.assert_frame_equal(a.dividends, b.dividends)
    pd.testing.assert_series_equal(a.benchmark, b.benchmark)
    assert (a.source, a.notes, a.bar_columns) == (b.source, b.notes, b.bar_columns)


def test_the_second_load_maps_the_first_ones_arrays(data_dir, tmp_path, monkeypatch):
    rules = RulesTable.load()
    first = market_cache.load_market_cached(data_dir, rules)
    calls = []
    monkeypatch.setattr(market_cache, "load_market", lambda *a: calls.append(1))
    again = market_cache.load_market_cached(data_dir, rules)
    assert calls == []
    same(again, load_market(data_dir, rules))
    same(first, again)
    again.close[0, 0] = -1.0                                 # copy-on-write: the stored market is untouched
    assert market_cache.load_market_cached(data_dir, rules).close[0, 0] == first.close[0, 0]
    assert again.last_close.shape == again.close.shape and again.market_cap.dtype == np.float32
    fresh = load_market(data_dir, rules)
    for name in market_cache.DERIVED_PANELS:              # mapped from the cache, equal to derived afresh
        assert name in again.__dict__, name
        assert np.array_equal(getattr(again, name), getattr(fresh, name), equal_nan=True), name


def test_changed_data_is_read_again(data_dir, monkeypatch):
    rules = RulesTable.load()
    market_cache.load_market_cached(data_dir, rules)
    (data_dir / "benchmark.parquet").unlink()
    calls = []
    real = market_cache.load_market
    monkeypatch.setattr(market_cache, "load_market", lambda *a: calls.append(1) or real(*a))
    assert market_cache.load_market_cached(data_dir, rules).benchmark is None
    assert calls == [1]
