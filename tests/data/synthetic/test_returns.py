"""Caps, turnover, fat tails, volatility clustering, size premium by era, the benchmark."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ashare_sim.data.market import load_market
from ashare_sim.data.synthetic import stats
from ashare_sim.data.synthetic.generator import build_market, generate_market
from ashare_sim.data.synthetic.params import ReturnParams


def test_caps_log_normal_with_small_and_large_caps(market):
    s = stats.cap_stats(market)
    assert 2 <= s["cap_median_bn"] <= 15
    assert s["cap_bottom_third_max_bn"] <= 6
    assert s["cap_over_100bn"] >= 2
    assert s["turnover_small"] > 1.3 * s["turnover_large"]


def test_fat_tails_and_volatility_clustering(market):
    s = stats.return_stats(market)
    assert 0.015 <= s["daily_sd"] <= 0.045
    assert s["excess_kurtosis"] > 1.0
    assert s["abs_benchmark_return_acf_1_5"] > 0.05
    assert 0.08 <= s["benchmark_annual_vol"] <= 0.45


@pytest.fixture(scope="module")
def era_2017_2020(tmp_path_factory):
    # The whole era on 600 stocks (~1.5 s): two years of 300 stocks leave the realized spread at the
    # mercy of the seed; over 2017-2020 it is -1.2..-2.3% a month for seeds 7-12.
    out = tmp_path_factory.mktemp("era") / "market"
    generate_market(out, stocks=600, start=dt.date(2017, 1, 1), end=dt.date(2020, 12, 31), seed=7)
    return load_market(out)


def test_size_premium_is_negative_in_2017_2020(era_2017_2020):
    spread = stats.size_spread_by_year(era_2017_2020)
    assert np.mean([spread[y] for y in (2017, 2018, 2019, 2020)]) < -0.005, spread


def test_size_premium_signs_follow_the_eras():
    # The planted premium, read back from the factor paths (no prices needed).
    from ashare_sim.data.synthetic.calendar import trading_days
    from ashare_sim.data.synthetic.params import GeneratorParams
    from ashare_sim.data.synthetic.returns import factor_paths

    dates = trading_days(dt.date(2010, 1, 1), dt.date(2022, 12, 31))
    paths = factor_paths(dates, GeneratorParams(), np.random.default_rng(0))
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    assert paths.size[(years >= 2010) & (years <= 2016)].mean() > 0
    assert paths.size[(years >= 2017) & (years <= 2020)].mean() < 0
    assert paths.size[years >= 2021].mean() > 0
    drift = ReturnParams().market_drift
    assert abs(paths.market.mean() - drift - sum(
        d * ((dates >= np.datetime64(a)) & (dates <= np.datetime64(b))).sum() for a, b, d, _ in ReturnParams().eras
    ) / len(dates)) < 1e-12


def test_benchmark_is_the_cap_weighted_index_of_listed_stocks(market):
    b = market.benchmark.to_numpy(dtype=np.float64)
    assert b[0] > 0 and np.isfinite(b).all()
    t = np.arange(1, market.n_days)
    ok = market.has_bar & (market.days_listed >= 1)
    w = np.where(ok, market.pre_close.astype(np.float64) * market.total_shares.astype(np.float64), 0.0)
    ret = np.where(ok, market.close.astype(np.float64) / market.pre_close.astype(np.float64) - 1, 0.0)
    implied = (w * ret).sum(axis=1) / w.sum(axis=1)
    assert np.allclose(b[t] / b[t - 1] - 1, implied[t], atol=2e-4)


def test_amount_is_volume_times_a_vwap_inside_the_bar(market_dir):
    bars = pd.read_parquet(market_dir / "bars.parquet")
    vwap = bars["amount"] / bars["volume"]
    assert (vwap >= bars["low"] - 1e-6).all() and (vwap <= bars["high"] + 1e-6).all()
    assert (bars["volume"] % 100 == 0).all() and (bars["volume"] > 0).all()


def test_market_factor_does_not_depend_on_the_number_of_stocks():
    a = build_market(30, dt.date(2021, 1, 1), dt.date(2021, 6, 30), 3)["path"].market
    b = build_market(60, dt.date(2021, 1, 1), dt.date(2021, 6, 30), 3)["path"].market
    assert np.array_equal(a, b)
