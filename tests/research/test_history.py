"""Percentiles within a series' own history: mid-rank, point in time, after a minimum history."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.research.history import expanding_percentile


def test_mid_rank_percentile_by_hand():
    dates = pd.date_range("2020-01-31", periods=6, freq="ME").to_numpy()
    v = np.array([3.0, 1.0, 2.0, np.nan, 4.0, 2.0])
    p = expanding_percentile(v, dates, min_months=1)
    assert np.isnan(p[0])                                # the first month: no history yet
    assert p[1] == pytest.approx(100 * 0.5 / 2)          # 1 among {3, 1}: none below, itself equal
    assert p[2] == pytest.approx(100 * 1.5 / 3)          # 2 among {3, 1, 2}
    assert np.isnan(p[3])                                # missing value
    assert p[4] == pytest.approx(100 * 3.5 / 4)          # a new high of 4 values
    assert p[5] == pytest.approx(100 * (1 + 0.5 * 2) / 5)   # 2 among {3, 1, 2, 4, 2}: one below, two equal


def test_ties_are_not_extremes_and_the_past_never_changes():
    dates = pd.bdate_range("2020-01-01", periods=300).to_numpy()
    v = np.zeros(300)
    v[::50] = 5.0                                          # a quiet series with rare spikes
    p = expanding_percentile(v, dates, min_months=3)
    quiet = p[(v == 0) & np.isfinite(p)]
    assert quiet.max() < 50                                # a day like most days sits mid-history
    assert p[250] > 90                                     # a spike is extreme
    head = expanding_percentile(v[:200], dates[:200], min_months=3)
    assert np.array_equal(np.nan_to_num(head, nan=-1), np.nan_to_num(p[:200], nan=-1))
