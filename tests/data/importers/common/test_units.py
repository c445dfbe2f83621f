"""Unit constants and the amount / (volume x price) check that catches a unit slip."""
import numpy as np
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.common.units import (
    LOT,
    THOUSAND_CNY,
    Tushare,
    check_turnover,
)


def _check(amount, volume, rows=None):
    p = np.array([10.0, 10.0, 10.0])
    check_turnover("daily.csv", np.array(amount, float), np.array(volume, float), p * 1.01, p * 0.99, p,
                   "amount", "vol", rows)


def test_consistent_units_pass():
    assert Tushare.VOL == LOT == 100 and Tushare.AMOUNT == THOUSAND_CNY == 1000
    _check([1e6, 2e6, 3e6], [1e5, 2e5, 3e5])


@pytest.mark.parametrize("vol_scale, amount_scale, needle", [
    (100, 1, "'vol' looks 100x too large (shares where lots are expected?)"),
    (0.01, 1, "'vol' looks 100x too small"),
    (1, 1 / 1000, "'amount' looks 1000x too small"),
    (1, 1000, "'amount' looks 1000x too large"),
])
def test_a_slip_names_the_column_and_the_likely_cause(vol_scale, amount_scale, needle):
    with pytest.raises(DataError) as exc:
        _check(np.array([1e6, 2e6, 3e6]) * amount_scale, np.array([1e5, 2e5, 3e5]) * vol_scale, np.array([4, 5, 6]))
    msg = str(exc.value)
    assert msg.startswith("daily.csv row 4 column 'vol': amount / (volume x price) is") and needle in msg
