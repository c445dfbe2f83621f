"""Share counts from caps; change points carried forward; sources chained; key joins."""
import numpy as np
import pandas as pd

from ashare_sim.data.importers.common.keys import (
    SymbolIndex,
    frame_keys,
    lookup_asof,
    lookup_exact,
    make_keys,
    repeats,
)
from ashare_sim.data.importers.common.shares import (
    carry_forward,
    chain,
    shares_from_caps,
)


def test_shares_from_caps():
    assert shares_from_caps(np.array([1.05e9, 0.0]), np.array([10.5, 10.0])).tolist()[0] == 1e8
    assert np.isnan(shares_from_caps(np.array([0.0]), np.array([10.0]))[0])


def test_exact_and_asof_lookups_stay_within_a_symbol():
    keys = make_keys(np.array([0, 0, 1]), np.array([10, 20, 5]))
    table = make_keys(np.array([0, 1]), np.array([15, 6]))
    vals = np.array([1.0, 2.0])
    assert np.isnan(lookup_asof(keys, table, vals)).tolist() == [True, False, True]   # 1@5 is before 1@6
    assert lookup_asof(keys, table, vals)[1] == 1.0
    v, hit = lookup_exact(make_keys(np.array([1]), np.array([6])), table, vals)
    assert hit.tolist() == [True] and v.tolist() == [2.0]
    first, later = repeats(np.array([3, 1, 3, 3]))
    assert first.tolist() == [0, 2] and later.tolist() == [2, 3] and len(repeats(np.array([1, 2]))[0]) == 0


def test_a_later_source_continues_where_the_earlier_ends():
    d = pd.to_datetime
    a = pd.DataFrame({"symbol": ["600001.SH", "600001.SH"], "date": d(["2020-01-01", "2022-01-14"]),
                      "total_shares": [1e8, 1.2e8], "float_shares": [5e7, 6e7]})
    b = pd.DataFrame({"symbol": ["600001.SH", "600001.SH"], "date": d(["2021-08-30", "2022-04-30"]),
                      "total_shares": [9e9, 1.5e8], "float_shares": [np.nan, np.nan]})
    points = chain([a, b])
    assert points["total_shares"].tolist() == [1e8, 1.2e8, 1.5e8]        # b's 2021 point lies inside a's span
    assert points["float_shares"].tolist() == [5e7, 6e7, 6e7]            # float carried (capped at total)
    idx = SymbolIndex(["600001.SH"])
    keys, _ = frame_keys(idx, ["600001.SH"] * 3, d(["2019-12-31", "2022-03-01", "2023-01-03"]))
    got = carry_forward(idx, keys, points, "total_shares")
    assert np.isnan(got[0]) and got[1:].tolist() == [1.2e8, 1.5e8]
