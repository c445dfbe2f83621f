import math

import numpy as np
import pandas as pd
import pytest

from ashare_sim.config.schema import FactorsConfig
from ashare_sim.signals.composite import composite, pick_top, quintile_means
from ashare_sim.signals.ic import average_rank, rank_ic, summarize, trailing_weights
from ashare_sim.signals.transform import standardize, winsorize, zscore


def test_winsorize_and_zscore_by_hand():
    x = np.array([1, 2, 3, 4, 100, 50.0])
    mask = np.array([True, True, True, True, True, False])
    w = winsorize(x, mask, 0.25)                     # quantiles of [1,2,3,4,100]: 2 and 4
    assert list(w[:5]) == [2, 2, 3, 4, 4] and np.isnan(w[5])
    z = standardize(x, mask, 0.25)
    assert z[:5] == pytest.approx(np.array([-1, -1, 0, 1, 1]) / math.sqrt(0.8))
    assert np.isnan(zscore(np.array([1.0, np.nan]), np.array([True, True]))[1])
    assert list(zscore(np.array([2.0, 2.0]), np.array([True, True]))) == [0.0, 0.0]


def test_rank_ic_by_hand_with_ties():
    assert list(average_rank(np.array([3.0, 1.0, 3.0, 2.0]))) == [3.5, 1, 3.5, 2]
    f = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan])
    r = np.array([2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 0.5])
    # ranks of r: 2 1 4 3 6 5 8 7 10 9; d^2 = 1 each -> rho = 1 - 6*10/(10*99)
    assert rank_ic(f, r) == pytest.approx(1 - 60 / 990)
    assert math.isnan(rank_ic(f[:5], r[:5]))         # too few names


def _cfg(**kw):
    return FactorsConfig(**{"ic_window": 3, "ic_min_periods": 2, **kw})


def test_trailing_weights_use_only_ics_known_before_the_signal():
    ic = pd.DataFrame({"a": [0.10, 0.20, 0.30, -0.9], "b": [0.05, -0.10, 0.10, 0.9]})
    known_at = np.array([20, 40, 60, 80])           # day index each IC became known
    w = trailing_weights(ic, known_at, 61, ["a", "b"], _cfg())
    # known strictly before 61: rows 0..2 -> a = mean(.1,.2,.3)=.2, b = mean(.05,-.1,.1)=.0166..
    a, b = 0.2, 0.05 / 3
    assert w["a"] == pytest.approx(a / (a + b)) and w["b"] == pytest.approx(b / (a + b))
    # row 2 is known exactly at 60: not strictly before 60
    w60 = trailing_weights(ic, known_at, 60, ["a", "b"], _cfg())
    a2, b2 = 0.15, -0.025
    assert w60["a"] == pytest.approx(1.0) and w60["b"] == 0.0        # negative_ic: zero
    keep = trailing_weights(ic, known_at, 60, ["a", "b"], _cfg(negative_ic="keep"))
    assert keep["b"] == pytest.approx(b2 / (abs(a2) + abs(b2)))
    # changing ICs not yet known changes nothing
    ic2 = ic.copy()
    ic2.loc[3] = [5.0, -5.0]
    pd.testing.assert_series_equal(trailing_weights(ic2, known_at, 61, ["a", "b"], _cfg()), w)


def test_trailing_weights_ic_ir_window_min_periods_and_equal():
    ic = pd.DataFrame({"a": [0.9, 0.1, 0.3, 0.2], "b": [0.1, 0.2, np.nan, 0.4]})
    known = np.arange(4)
    w = trailing_weights(ic, known, 10, ["a", "b"], _cfg(weighting="ic_ir"))
    a = np.array([0.1, 0.3, 0.2])                    # window of 3: row 0 falls out
    b = np.array([0.2, 0.4])
    ia, ib = a.mean() / a.std(ddof=1), b.mean() / b.std(ddof=1)
    assert w["a"] == pytest.approx(ia / (ia + ib))
    w1 = trailing_weights(ic, known, 10, ["a", "b"], _cfg(ic_min_periods=3))   # b has only 2
    assert w1["a"] == 1.0 and w1["b"] == 0.0
    eq = trailing_weights(ic, known, 1, ["a", "b"], _cfg())                  # one IC known: equal
    assert list(eq) == [0.5, 0.5]
    assert list(trailing_weights(ic, known, 10, ["a", "b", "c"], _cfg(weighting="equal"))) == [1 / 3] * 3


def test_summarize():
    s = summarize(pd.DataFrame({"a": [0.1, 0.3, -0.1, np.nan]}))
    v = np.array([0.1, 0.3, -0.1])
    assert s.loc["a", "mean"] == pytest.approx(0.1)
    assert s.loc["a", "ic_ir"] == pytest.approx(math.sqrt(12) * 0.1 / v.std(ddof=1))
    assert s.loc["a", "win_rate"] == pytest.approx(2 / 3) and s.loc["a", "n"] == 3


def test_composite_pick_and_quintiles():
    z = {"a": np.array([1.0, -1.0, np.nan, 0.5]), "b": np.array([0.0, 2.0, np.nan, np.nan])}
    mask = np.array([True, True, True, False])
    s = composite(z, {"a": 0.75, "b": 0.25}, mask)
    assert s[0] == pytest.approx(0.75) and s[1] == pytest.approx(-0.25)
    assert np.isnan(s[2]) and np.isnan(s[3])
    idx, ranks, w = pick_top(np.array([0.1, 0.5, np.nan, 0.5, -1.0]), 3)
    assert list(idx) == [1, 3, 0] and list(ranks) == [1, 2, 3] and w == pytest.approx([1 / 3] * 3)
    idx, _, w = pick_top(np.array([0.1, np.nan]), 5)
    assert list(idx) == [0] and list(w) == [1.0]
    score = np.arange(10.0)
    fwd = np.arange(10.0) / 100
    q = quintile_means(score, fwd, np.ones(10, bool))
    assert q == pytest.approx([0.005, 0.025, 0.045, 0.065, 0.085])


from hypothesis import given, settings
from hypothesis import strategies as st

_vals = st.lists(st.integers(-5, 5), min_size=12, max_size=40)


@settings(max_examples=60, deadline=None)
@given(_vals, st.randoms(use_true_random=False))
def test_rank_ic_equals_spearman(xs, rnd):
    x = np.array(xs, dtype=float)
    y = np.array([rnd.randint(-3, 3) for _ in xs], dtype=float)
    expect = pd.DataFrame({"x": x, "y": y}).corr(method="spearman").loc["x", "y"]
    got = rank_ic(x, y)
    if np.isnan(expect):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expect, abs=1e-12)


def test_neutralize_leaves_every_industry_with_mean_zero_and_so_the_composite():
    from ashare_sim.signals.transform import neutralize
    rng = np.random.default_rng(3)
    groups = np.repeat([0, 1, 2], 8)
    mask = np.ones(24, dtype=bool)
    mask[[0, 9]] = False                                     # outside the universe: NaN, left out of the means
    a = standardize(rng.normal(size=24) + groups * 2.0, mask, 0.0)   # strong industry effect
    b = standardize(rng.normal(size=24) - groups, mask, 0.0)
    b[5] = np.nan                                            # a missing value counts as 0 in the composite
    na, nb = neutralize(a, mask, groups), neutralize(b, mask, groups)
    assert np.isnan(na[0]) and np.isnan(nb[5])
    for g in range(3):
        sel = mask & (groups == g)
        assert np.nanmean(na[sel]) == pytest.approx(0.0, abs=1e-12)
        assert np.nanmean(nb[sel]) == pytest.approx(0.0, abs=1e-12)
    assert np.nanstd(na[mask]) == pytest.approx(1.0)           # z-scored again
    score = composite({"a": na, "b": nb}, {"a": 0.7, "b": 0.3}, mask)
    for g in range(3):
        assert score[mask & (groups == g)].mean() == pytest.approx(0.0, abs=1e-12)
    # within an industry the order is unchanged: demeaning is a shift
    sel = mask & (groups == 1)
    assert (np.argsort(na[sel]) == np.argsort(a[sel])).all()
