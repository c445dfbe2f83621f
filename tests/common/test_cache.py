"""ashare_sim.common.cache: a hit returns the stored series exactly; another key, or the cache off, computes again."""
import pandas as pd
import pytest

from ashare_sim.common import cache


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "c"))
    return tmp_path / "c"


def series():
    return pd.Series([1.0, 1.0 / 3.0, 2.5], index=pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-06"],
                                                                     name="date"), name="pool")


def test_a_hit_is_the_same_series_and_does_not_compute(folder):
    calls = []
    first = cache.cached_series("k", {"a": 1}, lambda: calls.append(1) or series())
    again = cache.cached_series("k", {"a": 1}, lambda: calls.append(1) or series())
    assert calls == [1]
    pd.testing.assert_series_equal(first, again, check_freq=False)
    cache.cached_series("k", {"a": 2}, lambda: calls.append(1) or series())
    assert calls == [1, 1]
    assert len(list((folder / "k").glob("*.parquet"))) == 2 and not list((folder / "k").glob(".tmp-*"))


def test_off_and_damaged_entries_compute(folder, monkeypatch):
    cache.cached_series("k", {"a": 1}, series)
    (path,) = (folder / "k").glob("*.parquet")
    path.write_text("not parquet")
    calls = []
    cache.cached_series("k", {"a": 1}, lambda: calls.append(1) or series())
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    cache.cached_series("k", {"a": 1}, lambda: calls.append(1) or series())
    assert calls == [1, 1] and cache.cache_dir() is None


def test_file_stamps_change_with_the_files(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    before = cache.file_stamp(tmp_path)
    assert [row[0] for row in before] == ["a.csv"]
    (tmp_path / "a.csv").write_text("xy")
    assert cache.file_stamp(tmp_path) != before and cache.file_stamp(None) == []
