"""The factor model of returns: firm traits, factor time series, planted premia.

Daily log move of a stock's fair value:

    beta * market + industry + size_exposure * size_factor + premia + idio + jumps

market: stochastic log-vol with Student-t shocks and stylized eras (the 2015
bubble and crash, the 2016 meltdown, 2018); industries: 30 factors whose vol
follows the market's; size: the premium per sd of -log(cap) changes sign by
era; idio: per-stock stochastic log-vol (volatility clustering), t shocks, higher
for small caps; jumps: rare news, more often up than down. The premia are the
planted, synthetic factor premia of `PremiumParams` (see docs/synthetic.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ashare_sim.data.synthetic.fundamentals import Announced, Fundamentals
from ashare_sim.data.synthetic.listings import GROUPS, Listings
from ashare_sim.data.synthetic.params import GeneratorParams


@dataclass
class Traits:
    cap_ref: np.ndarray        # (N,) CNY total cap at the first bar (after the IPO pop)
    price_ref: np.ndarray      # (N,) CNY steady price at the first bar
    beta: np.ndarray
    log_vol: np.ndarray        # (N,) log of the mean daily idio vol explained by size
    log_turnover: np.ndarray   # (N,) log of the daily turnover explained by size
    vol_dev: np.ndarray        # (N,) starting deviation of log idio vol from log_vol (then AR(1) in the path)
    turn_dev: np.ndarray       # (N,) starting deviation of log turnover from log_turnover


@dataclass
class FactorPaths:
    market: np.ndarray         # (T,) market log return: drift + eras + zero-mean noise
    vol_level: np.ndarray      # (T,) market volatility relative to its mean (SV x eras)
    industry: np.ndarray       # (T, K) industry log returns
    size: np.ndarray           # (T,) size factor return per sd of -log(cap)


def zscore(x: np.ndarray, mask: np.ndarray | None = None, clip: float = 3.0) -> np.ndarray:
    """Cross-sectional z-score over `mask` (and finite values); 0 elsewhere."""
    ok = np.isfinite(x) if mask is None else (mask & np.isfinite(x))
    if ok.sum() < 3:
        return np.zeros_like(x, dtype=np.float64)
    v = x[ok]
    sd = v.std()
    z = np.zeros(x.shape, dtype=np.float64)
    if sd > 0:
        z[ok] = np.clip((v - v.mean()) / sd, -clip, clip)
    return z


def rank_score(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Cross-sectional ranks over `mask` mapped to a uniform score with mean 0 and sd 1; 0 elsewhere.

    Bounded (|score| <= sqrt(3)), so a premium on it cannot run away with the largest caps.
    """
    ok = mask & np.isfinite(x)
    out = np.zeros(x.shape, dtype=np.float64)
    k = int(ok.sum())
    if k < 3:
        return out
    ranks = np.empty(k)
    ranks[np.argsort(x[ok], kind="stable")] = np.arange(k)
    out[ok] = (ranks / (k - 1) - 0.5) * np.sqrt(12.0)
    return out


def zscore_rows(panel: np.ndarray, mask: np.ndarray, clip: float = 3.0) -> np.ndarray:
    """Row-wise z-score of a (T, N) float32 panel over `mask`; 0 outside. float32 out."""
    ok = mask & np.isfinite(panel)
    cnt = ok.sum(axis=1, keepdims=True).astype(np.float32)
    vals = np.where(ok, panel, np.float32(0))
    mean = vals.sum(axis=1, keepdims=True) / np.maximum(cnt, 1)
    dev = np.where(ok, vals - mean, np.float32(0))
    sd = np.sqrt((dev * dev).sum(axis=1, keepdims=True) / np.maximum(cnt, 1))
    z = np.where(ok & (sd > 0), dev / np.where(sd > 0, sd, 1), np.float32(0))
    return np.clip(z, -clip, clip).astype(np.float32)


def firm_traits(lst: Listings, params: GeneratorParams, rng: np.random.Generator) -> Traits:
    sp, rp = params.size, params.returns
    n = lst.n
    shift = np.array([sp.board_log_shift[g] for g in GROUPS])[lst.group]
    large = rng.random(n) < sp.large_share
    log_cap = np.where(large, np.log(sp.large_median) + rng.standard_normal(n) * sp.large_log_sd,
                       np.log(sp.cap_median) + shift + rng.standard_normal(n) * sp.cap_log_sd)
    cap = np.exp(log_cap)
    price = np.exp(np.log(np.where(lst.is_ipo, sp.ipo_price_median, sp.price_median)) + rng.standard_normal(n) * sp.price_log_sd
                   + 0.25 * (log_cap - np.log(sp.cap_median)))
    price = np.clip(price, 2.0, 800.0)
    beta = np.clip(rp.beta_mean + rng.standard_normal(n) * rp.beta_sd, 0.3, 1.8)
    rel = log_cap - np.log(sp.cap_median)
    log_vol = np.log(rp.idio_vol) + rp.idio_size_elasticity * rel
    log_turn = np.log(rp.turnover) + rp.turnover_size_elasticity * rel
    return Traits(cap_ref=cap, price_ref=price, beta=beta, log_vol=log_vol, log_turnover=log_turn,
                  vol_dev=rng.standard_normal(n) * rp.idio_vol_dispersion,
                  turn_dev=rng.standard_normal(n) * rp.turnover_dispersion)


def ar1_path(shocks: np.ndarray, phi: float, block: int = 512) -> np.ndarray:
    """x_t = phi x_{t-1} + shocks_t along axis 0 (x_{-1} = 0), vectorized in blocks."""
    out = np.empty_like(shocks, dtype=np.float64)
    carry = np.zeros(shocks.shape[1:])
    for a in range(0, len(shocks), block):
        e = shocks[a:a + block]
        k = np.arange(1, len(e) + 1).reshape((-1,) + (1,) * (e.ndim - 1))
        scale = phi ** -k
        out[a:a + block] = phi ** k * (np.cumsum(e * scale, axis=0) + carry)
        carry = out[a + len(e) - 1]
    return out


def factor_paths(dates: np.ndarray, params: GeneratorParams, rng: np.random.Generator) -> FactorPaths:
    """Market, industry and size factor returns for every day, drawn before the price path.

    The market's noise is de-meaned, so its cumulative return is exactly the
    planned drift plus the stylized eras whatever the seed.
    """
    rp = params.returns
    n_days = len(dates)
    drift = np.full(n_days, rp.market_drift)
    mult = np.ones(n_days)
    for a, b, d, m in rp.eras:
        sel = (dates >= np.datetime64(a)) & (dates <= np.datetime64(b))
        drift[sel] += d
        mult[sel] *= m
    t_scale = np.sqrt((rp.t_df - 2) / rp.t_df)
    log_vol = ar1_path(rng.standard_normal(n_days) * rp.market_volvol, rp.market_vol_persistence)
    vol_level = np.exp(log_vol) * mult
    noise = rp.market_vol * vol_level * rng.standard_t(rp.t_df, size=n_days) * t_scale
    market = drift + noise - noise.mean()
    industry = rp.industry_vol * vol_level[:, None] * rng.standard_t(rp.t_df, size=(n_days, len(params.industries))) \
        * t_scale
    industry -= industry.mean(axis=0, keepdims=True)
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    starts = np.array([y for y, _ in rp.size_premium])
    vals = np.array([v for _, v in rp.size_premium])
    size = vals[np.clip(np.searchsorted(starts, years, side="right") - 1, 0, len(vals) - 1)]
    size = size + rp.size_factor_vol * rng.standard_normal(n_days)
    return FactorPaths(market=market, vol_level=vol_level, industry=industry, size=size)


def fundamental_alpha(dates: np.ndarray, listed: np.ndarray, f: Fundamentals, ann: Announced,
                      params: GeneratorParams) -> np.ndarray:
    """(T, N) float32 daily premia from announced ROE, growth and SUE (SUE decaying after ann.)."""
    pp = params.premia
    out = np.zeros(listed.shape, dtype=np.float32)
    for values, lam in ((f.roe_ttm, pp.profitability), (f.growth, pp.growth)):
        panel = ann.panel(np.clip(values, -1.0, 1.0))
        out += np.float32(lam) * zscore_rows(panel, listed)
        del panel
    sue = ann.panel(np.clip(f.sue, -5.0, 5.0))
    rows = np.arange(len(dates), dtype=np.int32)[:, None]
    since = rows - ann.row_t[np.maximum(ann.row_at, 0)]
    decay = np.exp(-since.astype(np.float32) / np.float32(pp.sue_decay_days))
    out += np.float32(pp.sue) * zscore_rows(sue, listed) * decay
    return out


def announcement_jumps(f: Fundamentals, ann: Announced, params: GeneratorParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, sid, jump) on the first trading day after each announcement, sorted by t."""
    sue = np.clip(f.sue[ann.row_sid, ann.row_q], -5.0, 5.0)
    ok = np.isfinite(sue)
    z = np.zeros(len(sue))
    if ok.sum() > 2:
        z[ok] = (sue[ok] - sue[ok].mean()) / max(sue[ok].std(), 1e-9)
    jump = params.premia.announcement_jump * np.clip(z, -3, 3)
    order = np.lexsort((ann.row_sid, ann.row_t))
    return ann.row_t[order], ann.row_sid[order], jump[order]
