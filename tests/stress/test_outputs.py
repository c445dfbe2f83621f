"""The capacity curve's halving point and stress.csv's columns."""
import math

import pytest

from ashare_sim.report.tables import cny_short
from ashare_sim.stress.outputs import halving_capital


def test_excess_halves_between_two_grid_points_interpolated_in_log_capital():
    at, note = halving_capital([1e7, 1e8, 1e9], [0.10, 0.08, 0.02])
    # half = 0.05 lies 0.03 / 0.06 = half way from 1e8 to 1e9 in log10: 10^8.5
    assert at == pytest.approx(10 ** 8.5) and note == ""
    assert halving_capital([1e7, 1e8], [0.10, 0.05])[0] == pytest.approx(1e8)


def test_no_halving_says_why():
    assert halving_capital([1e7, 1e8], [0.10, 0.07]) == (None, "excess stays above half (+5.0%) up to 100 M")
    assert halving_capital([1e7, 1e8], [-0.01, -0.05])[1] == "no positive excess to halve at 10 M"
    assert halving_capital([1e7], [0.1])[0] is None
    at, _ = halving_capital([1e7, 1e8, 1e9], [0.10, None, 0.0])      # a failed point is left out
    assert math.log10(at) == pytest.approx(8.0)                    # half way from 1e7 to 1e9


def test_short_amounts():
    assert [cny_short(x) for x in (1e7, 1.5e9, 5e9, 12_345, None)] == ["10 M", "1.5 bn", "5 bn", "12,345", "n/a"]
