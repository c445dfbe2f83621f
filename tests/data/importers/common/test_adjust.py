"""adj_factor conventions: raw from adjusted, the factor implied by pre_close."""
import numpy as np

from ashare_sim.data.importers.common.adjust import (
    backward_from_divisor,
    factor_from_pre_close,
    pre_close_from_change,
    raw_from_adjusted,
)


def test_raw_is_adjusted_over_factor_on_the_cent():
    adj = np.array([15.0, 14.9985], dtype=np.float32)       # float32 as qlib stores it
    fac = np.array([1.5, 1.65], dtype=np.float32)
    assert raw_from_adjusted(adj, fac, 0.01).tolist() == [10.0, 9.09]


def test_factor_from_pre_close_rises_at_the_ex_date_and_restarts_per_stock():
    sid = np.array([0, 0, 0, 1, 1])
    close = np.array([10.0, 10.0, 9.5, 20.0, 20.0])
    pre = np.array([9.8, 9.0, 10.0, 19.0, np.nan])           # day 2 of stock 0: ex-date (10 -> 9 reference)
    f = factor_from_pre_close(sid, close, pre)
    assert np.allclose(f, [1.0, 10 / 9, 10 / 9, 1.0, 1.0])
    # the adjusted return across the ex-date is the return against the exchange's reference price
    assert np.isclose(close[1] * f[1] / (close[0] * f[0]) - 1, close[1] / pre[1] - 1)


def test_other_conventions():
    assert backward_from_divisor(np.array([2.0])).tolist() == [0.5]
    assert pre_close_from_change(np.array([10.5]), np.array([0.5]), 0.01).tolist() == [10.0]
