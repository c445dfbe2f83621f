import numpy as np
import pytest

from ashare_sim.signals import price_factors as pf
from tests.market_builder import MarketBuilder


def test_amihud_by_hand():
    b = MarketBuilder(start="2021-03-01", days=8)
    closes = [10.0, 11.0, 10.45, 10.45, 11.49, 10.34, 10.0, 10.5]   # cents: pre_close is tick-rounded
    vols = [1e6, 2e6, 1e6, 3e6, 1e6, 2e6, 1e6, 1e6]
    b.stock("600001.SH", close=closes, volume=vols)
    b.stock("600002.SH", close=[10.0, 10, 10, None, None, None, None, 10])   # too few trading days
    m = b.build()
    t, days = 6, 5                                      # window: days 2..6
    rets = [closes[i] / closes[i - 1] - 1 for i in range(2, 7)]
    amounts = [vols[i] * closes[i] for i in range(2, 7)]   # open = close in the builder
    expected = sum(abs(r) / a for r, a in zip(rets, amounts)) / 5
    got = pf.amihud(m, t, days)
    assert got[0] == pytest.approx(expected, rel=1e-5)
    assert np.isnan(got[1])


def test_announcement_gap_by_hand():
    b = MarketBuilder(start="2021-03-01", days=8)
    b.stock("600001.SH", close=[10.0] * 8, open=[10, 10, 10, 10.5, 10, 10, 10, 10])
    b.stock("600002.SH", close=[10, 10, 10, None, 10, 10, 10, 10], open=[10, 10, 10, None, 9, 10, 10, 10])
    b.stock("600003.SH", close=[10.0] * 8)
    m = b.build()
    ann = np.array([m.dates[2], m.dates[2], m.dates[6]], dtype="datetime64[D]")
    got = pf.announcement_gap(m, 6, ann)
    assert got[0] == pytest.approx(0.05)            # day 3 open 10.5 over day 2 close 10
    assert got[1] == pytest.approx(-0.1, rel=1e-6)  # suspended on day 3: first trade day 4, open 9 / 10
    assert np.isnan(got[2])                         # announced on the signal day: not known yet
    nat = np.array(["NaT"] * 3, dtype="datetime64[D]")
    assert np.isnan(pf.announcement_gap(m, 6, nat)).all()


def _six_stock_market(rets_day1):
    b = MarketBuilder(start="2021-03-01", days=2)
    caps = [1, 2, 3, 10, 20, 30]                     # small: first three
    for i, (cap, r) in enumerate(zip(caps, rets_day1)):
        b.stock(f"60000{i}.SH", close=[10.0, 10.0 * (1 + r)], total_shares=cap * 1e8)
    return b.build(), np.array(caps, dtype=float)


def test_ff_factors_by_hand():
    r = np.array([0.01, 0.02, -0.01, 0.03, -0.02, 0.005])
    m, caps = _six_stock_market(r)
    # BP: small stocks L, M, H = 0.1, 0.3, 0.5; big stocks L, M, H = 0.2, 0.4, 0.6
    bp = np.array([0.1, 0.3, 0.5, 0.2, 0.4, 0.6])
    out = pf.ff_factor_returns(m, np.array([0]), 1, lambda f: bp)
    assert np.isnan(out[0]).all()
    mkt = (caps * r).sum() / caps.sum()
    smb = r[:3].mean() - r[3:].mean()
    hml = (r[2] + r[5]) / 2 - (r[0] + r[3]) / 2
    assert out[1] == pytest.approx([mkt, smb, hml], abs=1e-6)   # prices are float32
    out2 = pf.ff_factor_returns(m, np.array([0]), 1, None)       # no book values: no HML
    small = (caps[:3] * r[:3]).sum() / caps[:3].sum()
    big = (caps[3:] * r[3:]).sum() / caps[3:].sum()
    assert out2[1, :2] == pytest.approx([mkt, small - big], abs=1e-6)
    assert np.isnan(out2[1, 2])


def test_residual_vol_matches_per_stock_least_squares():
    rng = np.random.default_rng(3)
    days = 30
    b = MarketBuilder(start="2021-03-01", days=days)
    for i in range(3):
        b.stock(f"60000{i}.SH", close=list(np.round(10 * np.exp(np.cumsum(rng.normal(0, 0.02, days))), 2)))
    b.suspend("600001.SH", 20, 21)
    m = b.build()
    factors = rng.normal(0, 0.01, (days, 3))
    factors[25, 2] = np.nan                                # a day without HML is dropped for everyone
    t, window = days - 1, 20
    got = pf.residual_vol(m, t, window, factors)
    rows = np.arange(t - window + 1, t + 1)
    for n in range(3):
        close = m.close[:, n].astype(float)
        pre = m.pre_close[:, n].astype(float)
        y = close[rows] / pre[rows] - 1
        x = np.column_stack([np.ones(window), factors[rows]])
        ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
        beta, *_ = np.linalg.lstsq(x[ok], y[ok], rcond=None)
        res = y[ok] - x[ok] @ beta
        assert got[n] == pytest.approx(np.sqrt((res ** 2).sum() / (ok.sum() - 4)), rel=1e-4)
