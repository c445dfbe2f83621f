import numpy as np

from ashare_sim.signals.calendar import (
    month_ends,
    month_starts,
    schedule,
    window_indices,
)


def _dates(*days):
    return np.array(days, dtype="datetime64[D]")


def test_month_starts_skip_the_first_calendar_day():
    d = _dates("2021-01-04", "2021-01-29", "2021-02-01", "2021-02-26", "2021-03-01", "2021-03-02")
    assert list(month_starts(d)) == [2, 4]
    assert list(month_ends(d)) == [1, 3]


def test_schedule_inside_window_with_signal_the_day_before():
    d = _dates("2020-12-31", "2021-01-04", "2021-01-29", "2021-02-01", "2021-02-26", "2021-03-01",
               "2021-03-31", "2021-04-01")
    s = schedule(d, "2021-01-01", "2021-03-15")
    assert list(s.rebalance) == [1, 3, 5]
    assert list(s.signal) == [0, 2, 4]
    assert list(s.next_rebalance) == [3, 5, 7]           # the last block ends after the window
    assert str(s.rebalance_dates[0].date()) == "2021-01-04"
    assert str(s.signal_dates[-1].date()) == "2021-02-26"
    s2 = schedule(d, "2021-01-01", "2021-04-30")
    assert list(s2.next_rebalance)[-1] == -1             # no later month start in the data


def test_window_indices():
    d = _dates("2021-01-04", "2021-01-05", "2021-01-06")
    assert list(window_indices(d, "2021-01-05", "2021-01-10")) == [1, 2]
