import numpy as np
import pandas as pd
import pytest
from loguru import logger

from ashare_sim.config import load_config
from ashare_sim.data.market import Market
from ashare_sim.signals.calendar import month_starts
from ashare_sim.signals.pipeline import build_targets, write_analytics, write_targets
from ashare_sim.signals.targets import TARGET_COLUMNS
from ashare_sim.signals.universe import universe_mask
from tests.signals.random_market import random_frames


def _market(frames):
    return Market.from_frames(frames["instruments"], frames["bars"], st=frames["st"],
                              fundamentals=frames["fundamentals"], dividends=frames["dividends"],
                              calendar=frames["calendar"])


@pytest.fixture(scope="module")
def frames():
    return random_frames(n_stocks=90, n_days=330, start="2019-01-01", seed=11)


@pytest.fixture(scope="module")
def market(frames):
    return _market(frames)


def _cfg(**extra):
    sets = {"backtest.start": "2019-01-01", "backtest.end": "2020-03-31", "strategy.top_n": 10,
            "strategy.factors.ic_min_periods": 3, "strategy.factors.ic_window": 6}
    sets.update(extra)
    return load_config(None, [f"{k}={v}" for k, v in sets.items()])


def test_targets_are_well_formed(market, tmp_path):
    cfg = _cfg()
    res = build_targets(market, cfg)
    t = res.targets
    assert list(t.columns) == TARGET_COLUMNS
    assert pd.api.types.is_datetime64_any_dtype(t["rebalance_date"])
    starts = {pd.Timestamp(d) for d in market.dates[month_starts(market.dates)]}
    assert set(t["rebalance_date"]) <= starts
    assert t["rebalance_date"].nunique() == len(res.universe_size) == 14      # 2019-02 .. 2020-03
    for day, block in t.groupby("rebalance_date"):
        assert len(block) == 10
        assert block["weight"].sum() == pytest.approx(1.0)
        assert list(block["rank"]) == list(range(1, 11))
        assert block["score"].is_monotonic_decreasing
        s = market.index_of(day) - 1                        # the signal day
        pool = set(market.symbols[universe_mask(market, s, cfg.strategy.universe)])
        assert set(block["symbol"]) <= pool
    assert (res.universe_size > 0).all()
    assert list(res.factor_ic.columns) == res.factors_used + ["composite"]
    assert list(res.factor_weights.columns) == res.factors_used
    assert np.allclose(res.factor_weights.abs().sum(axis=1), 1.0)
    assert list(res.ic_summary.columns) == ["mean", "std", "ic_ir", "win_rate", "n"]
    assert list(res.ic_summary.index) == res.factors_used + ["composite"]
    assert list(res.quintile_returns.columns) == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert res.dropped_factors == []
    path = write_targets(t, tmp_path / "targets.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == TARGET_COLUMNS and back["rebalance_date"].iloc[0] == str(t["rebalance_date"].iloc[0].date())
    files = write_analytics(res, tmp_path / "analytics")
    assert sorted(p.name for p in files) == sorted(["factor_ic.csv", "factor_weights.csv", "quintile_returns.csv",
                                                    "universe_size.csv", "portfolio_returns.csv", "ic_summary.csv"])
    ic = pd.read_csv(tmp_path / "analytics" / "factor_ic.csv", index_col="signal_date")
    assert list(ic.columns) == res.factors_used + ["composite"] and len(ic) == 14


def _targets_with_warnings(market):
    """build_targets plus the warnings it logged."""
    seen = []
    sink = logger.add(lambda msg: seen.append(str(msg)), level="WARNING")
    try:
        return build_targets(market, _cfg()), seen
    finally:
        logger.remove(sink)


def test_missing_tables_drop_factors_with_one_warning_each(frames):
    f = dict(frames)
    f["fundamentals"] = None
    f["dividends"] = None
    res, seen = _targets_with_warnings(_market(f))
    dropped = ["book_to_price", "dividend_yield", "roe", "sue", "profit_growth", "announcement_gap"]
    assert res.dropped_factors == dropped
    assert res.factors_used == ["amihud", "residual_vol", "size"]
    for name in dropped:
        assert sum(f"'{name}'" in s for s in seen) == 1
    assert len(res.targets) > 0


def test_planted_lookahead_does_not_move_earlier_signals(frames, market):
    cut = pd.Timestamp("2019-09-15")
    f = dict(frames)
    fund = frames["fundamentals"].copy()
    late = pd.to_datetime(fund["ann_date"]) >= cut
    rng = np.random.default_rng(0)
    fund.loc[late, "net_profit"] *= rng.uniform(-3, 3, late.sum())
    fund.loc[late, "total_equity"] *= rng.uniform(0.2, 3, late.sum())
    f["fundamentals"] = fund
    cfg = _cfg()
    a, b = build_targets(market, cfg), build_targets(_market(f), cfg)
    # a row announced on `cut` is usable from the next trading day: signals up to `cut` see nothing
    early_reb = [d for d, s in zip(pd.to_datetime(market.dates[month_starts(market.dates)]),
                                   pd.to_datetime(market.dates[month_starts(market.dates) - 1])) if s <= cut]
    ta = a.targets[a.targets["rebalance_date"].isin(early_reb)].reset_index(drop=True)
    tb = b.targets[b.targets["rebalance_date"].isin(early_reb)].reset_index(drop=True)
    assert len(ta) > 0
    pd.testing.assert_frame_equal(ta, tb)
    early = a.factor_weights.index <= cut
    pd.testing.assert_frame_equal(a.factor_weights[early], b.factor_weights[early])
    assert not a.targets.equals(b.targets)                 # the change does bite later


def test_weights_follow_past_ics(market):
    res = build_targets(market, _cfg(**{"strategy.factors.ic_min_periods": 2, "strategy.factors.ic_window": 2}))
    ic, w = res.factor_ic[res.factors_used], res.factor_weights
    # the IC of signal k is known at rebalance k+1, i.e. strictly before signal k+2 only
    for k in range(len(w)):
        known = ic.iloc[: max(k - 1, 0)].tail(2)
        if len(known) < 2 or known.isna().any().any():
            continue
        expect = known.mean().clip(lower=0)
        if expect.sum() == 0:
            continue
        assert w.iloc[k].to_numpy() == pytest.approx((expect / expect.sum()).to_numpy())


def test_without_total_shares_size_and_bp_drop_and_no_cap_cut(frames):
    f = dict(frames)
    f["bars"] = frames["bars"].drop(columns=["total_shares", "float_shares"])
    m = _market(f)
    res, seen = _targets_with_warnings(m)
    assert res.dropped_factors == ["book_to_price", "size"]
    assert "residual_vol" in res.factors_used and "roe" in res.factors_used
    assert sum("small-cap cut" in s for s in seen) == 1
    cfg = _cfg()
    s = int(np.flatnonzero(m.dates == np.datetime64("2019-06-28"))[0])
    from ashare_sim.signals.universe import eligible_mask
    assert (universe_mask(m, s, cfg.strategy.universe) == eligible_mask(m, s, cfg.strategy.universe)).all()
    assert len(res.targets) > 0


def test_empty_window_gives_empty_well_formed_result(market):
    res = build_targets(market, _cfg(**{"backtest.start": "2030-01-01", "backtest.end": "2030-12-31"}))
    assert list(res.targets.columns) == TARGET_COLUMNS and len(res.targets) == 0
    assert len(res.factor_ic) == 0 and len(res.universe_size) == 0


@pytest.mark.parametrize("weighting", ["equal", "ic_ir"])
def test_other_weightings(market, weighting):
    res = build_targets(market, _cfg(**{"strategy.factors.weighting": weighting}))
    w = res.factor_weights
    assert np.allclose(w.abs().sum(axis=1), 1.0)
    if weighting == "equal":            # equal over the factors present that month
        for _, row in w.iterrows():
            live = row[row != 0]
            assert np.allclose(live, 1.0 / len(live))
        assert np.allclose(w.iloc[-1], 1.0 / w.shape[1])
    assert len(res.targets) > 0


def test_factor_subset_from_config(market):
    res = build_targets(market, _cfg(**{"strategy.factors.use": "[size, sue]"}))
    assert res.factors_used == ["size", "sue"]
    assert list(res.factor_ic.columns) == ["size", "sue", "composite"]


def test_bars_after_the_signal_close_do_not_move_the_signal(frames, market):
    cut = pd.Timestamp("2019-08-30")                       # a signal day (last trading day of August)
    f = dict(frames)
    bars = frames["bars"].copy()
    after = pd.to_datetime(bars["date"]) > cut
    k = np.random.default_rng(1).uniform(0.5, 1.5, after.sum())
    for col in ("open", "high", "low", "close"):
        bars.loc[after, col] = (bars.loc[after, col] * k).round(2)
    bars.loc[after, "volume"] *= k
    bars.loc[after, "amount"] *= k
    f["bars"] = bars
    cfg = _cfg()
    a, b = build_targets(market, cfg), build_targets(_market(f), cfg)
    early = a.universe_size.index <= cut
    assert early.sum() >= 7
    reb = pd.to_datetime(market.dates[month_starts(market.dates)])
    reb = reb[(reb > a.universe_size.index[0]) & (reb <= cut + pd.Timedelta(days=5))]
    ta = a.targets[a.targets["rebalance_date"].isin(reb)].reset_index(drop=True)
    tb = b.targets[b.targets["rebalance_date"].isin(reb)].reset_index(drop=True)
    pd.testing.assert_frame_equal(ta, tb)
    pd.testing.assert_frame_equal(a.factor_weights[early], b.factor_weights[early])
    pd.testing.assert_series_equal(a.universe_size[early], b.universe_size[early])


def test_no_usable_factor_is_a_user_error(frames):
    from ashare_sim.common.errors import UserError
    f = dict(frames)
    f["fundamentals"] = None
    with pytest.raises(UserError, match="strategy.factors.use"):
        build_targets(_market(f), _cfg(**{"strategy.factors.use": "[roe, sue]"}))


def test_industry_neutral_scoring_needs_industries_and_changes_the_picks(frames):
    from ashare_sim.common.errors import UserError
    f = dict(frames)
    inst = f["instruments"].copy()
    inst["industry"] = np.where(np.arange(len(inst)) % 3 == 0, "banks", np.where(np.arange(len(inst)) % 3 == 1,
                                                                                  "media", "steel"))
    m = Market.from_frames(inst, f["bars"], st=f["st"], fundamentals=f["fundamentals"], dividends=f["dividends"],
                           calendar=f["calendar"])
    plain = build_targets(m, _cfg())
    neutral = build_targets(m, _cfg(**{"strategy.neutralize": "industry"}))
    assert not plain.targets.equals(neutral.targets)
    assert list(neutral.ic_summary.index) == list(plain.ic_summary.index)
    bare = Market.from_frames(inst.drop(columns="industry"), f["bars"], calendar=f["calendar"])
    with pytest.raises(UserError, match="strategy.neutralize is 'industry' but instruments has no 'industry'"):
        build_targets(bare, _cfg(**{"strategy.neutralize": "industry", "strategy.factors.use": "[amihud, size]"}))
