"""Price and volume factors at a signal day t (inputs: bars up to the close of t only).

- amihud: mean over the last `days` trading days of |daily total return| / amount (CNY),
  over the days the stock traded (at least half the window). The raw value is returned;
  the factor used in the composite is log(amihud): illiquid small caps earn a premium,
  so higher is better.
- announcement_gap: for the latest report announced before the signal date, the
  open-to-previous-close return (open / pre_close - 1) of the first trading day after
  its ann_date (the first day the stock traded when it was suspended then). Higher is
  better (post-announcement drift).
- residual_vol: standard deviation (ddof = number of regressors) of the residuals of a
  Fama-French three-factor regression of daily total returns on the last `days` trading
  days (days the stock did not trade are masked out; at least half the window). Lower
  is better, so the composite uses its negative.

Fama-French factors built from the data (`ff_factor_returns`): at each month end f,
every listed stock trading that day with a known market cap is sorted into Small / Big
(median cap) and, when book-to-price is known, Low / Mid / High (30% / 70% of BP > 0).
The six portfolios are cap-weighted with the caps at f and held over the days (f, next f]:
MKT = cap-weighted return of all of them, SMB = mean(S/L, S/M, S/H) - mean(B/L, B/M, B/H),
HML = mean(S/H, B/H) - mean(S/L, B/L). Without book-to-price, SMB uses the two size
halves and HML is absent; without market caps, MKT is equal-weighted and SMB is absent.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from ashare_sim.signals.returns import daily_returns, traded

MIN_WINDOW_SHARE = 0.5      # share of the window a stock must have traded
MAX_GAP_SEARCH = 60         # trading days searched for the first trade after an announcement


def _matmul_narrow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for a narrow b (a few columns), one matrix-vector product per column.

    Same result as `a @ b`; avoids the multithreaded small-GEMM path of OpenBLAS, which
    costs ~50x more than the arithmetic on these shapes when cores are shared."""
    return np.stack([a @ b[:, j] for j in range(b.shape[1])], axis=1)


def amihud(market, t: int, days: int) -> np.ndarray:
    rows = np.arange(max(t - days + 1, 0), t + 1)
    r = daily_returns(market, rows)
    amt = market.amount[rows].astype(np.float64)
    ok = np.isfinite(r) & np.isfinite(amt) & (amt > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(ok, np.abs(r) / np.where(ok, amt, 1.0), 0.0)
    cnt = ok.sum(axis=0)
    out = ratio.sum(axis=0) / np.maximum(cnt, 1)
    return np.where(cnt >= np.ceil(days * MIN_WINDOW_SHARE), out, np.nan)


def announcement_gap(market, t: int, last_ann: np.ndarray) -> np.ndarray:
    """(N,) gap return of the first trade after each stock's latest ann_date (NaN if none by day t)."""
    n = market.n_symbols
    out = np.full(n, np.nan)
    known = ~np.isnat(last_ann)
    g = np.full(n, t + 1, dtype=np.int64)
    g[known] = np.searchsorted(market.dates, last_ann[known], side="right")
    todo = np.flatnonzero(known & (g <= t))
    cur = g[todo]
    for _ in range(MAX_GAP_SEARCH):
        if len(todo) == 0:
            break
        vol = market.volume[cur, todo]
        ok = market.has_bar[cur, todo] & (np.nan_to_num(vol) > 0) & (market.days_listed[cur, todo] >= 1)
        hit = todo[ok]
        op = market.open[cur[ok], hit].astype(np.float64)
        pre = market.pre_close[cur[ok], hit].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[hit] = np.where(pre > 0, op / pre - 1.0, np.nan)
        keep = ~ok & (cur + 1 <= t)
        todo, cur = todo[keep], cur[keep] + 1
    return out


def ff_factor_returns(market, formations: np.ndarray, last_day: int,
                      bp_at: Optional[Callable[[int], np.ndarray]] = None) -> np.ndarray:
    """(T, 3) daily MKT, SMB, HML; NaN on days not covered (before the first formation)
    or where a factor cannot be built."""
    T = market.n_days
    out = np.full((T, 3), np.nan)
    formations = np.asarray(formations, dtype=np.int64)
    for j, f in enumerate(formations):
        f = int(f)
        stop = int(formations[j + 1]) if j + 1 < len(formations) else last_day
        if stop <= f:
            continue
        rows = np.arange(f + 1, stop + 1)
        weights = _portfolio_weights(market, f, bp_at(f) if bp_at is not None else None)
        r = daily_returns(market, rows)
        ok = np.isfinite(r)
        r0 = np.where(ok, r, 0.0)
        okf = ok.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            port = _matmul_narrow(r0, weights) / _matmul_narrow(okf, weights)   # (days, P)
        out[rows, 0] = port[:, 0]
        p = port[:, 1:]
        if p.shape[1] == 6:     # S/L S/M S/H B/L B/M B/H
            out[rows, 1] = p[:, 0:3].mean(axis=1) - p[:, 3:6].mean(axis=1)
            out[rows, 2] = (p[:, 2] + p[:, 5]) / 2 - (p[:, 0] + p[:, 3]) / 2
        elif p.shape[1] == 2:   # S B
            out[rows, 1] = p[:, 0] - p[:, 1]
    return out


def _portfolio_weights(market, f: int, bp: Optional[np.ndarray]) -> np.ndarray:
    """(N, 1 + P) cap weights: column 0 the market, then the size (x value) portfolios."""
    elig = market.is_listed[f] & traded(market, f)
    cap = market.market_cap[f].astype(np.float64)
    has_cap = elig & np.isfinite(cap) & (cap > 0)
    if not has_cap.any():
        return elig.astype(np.float64)[:, None]         # equal-weighted market only
    w = np.where(has_cap, cap, 0.0)
    small = has_cap & (cap <= np.median(cap[has_cap]))
    big = has_cap & ~small
    cols = [w]
    if bp is not None and np.isfinite(bp[has_cap]).any():
        pos = has_cap & np.isfinite(bp) & (bp > 0)
        if pos.sum() >= 3:
            lo, hi = np.quantile(bp[pos], [0.3, 0.7])
            low, high = pos & (bp <= lo), pos & (bp > hi)
            mid = pos & ~low & ~high
            for s in (small, big):
                for v in (low, mid, high):
                    cols.append(np.where(s & v, w, 0.0))
            return np.stack(cols, axis=1)
    cols += [np.where(small, w, 0.0), np.where(big, w, 0.0)]
    return np.stack(cols, axis=1)


def residual_vol(market, t: int, days: int, factors: np.ndarray, cols: Optional[np.ndarray] = None) -> np.ndarray:
    """(N,) residual volatility of daily returns on [1, factors] over the last `days` days to t.

    Only the columns `cols` (e.g. the universe) are estimated when given; NaN elsewhere.
    One batched least-squares solve: per stock, X'MX and X'My from the masked days."""
    n_all = market.n_symbols
    out = np.full(n_all, np.nan)
    cols = np.arange(n_all) if cols is None else np.asarray(cols)
    if len(cols) == 0:
        return out
    rows = np.arange(max(t - days + 1, 0), t + 1)
    y = daily_returns(market, rows)[:, cols]                # (D, n)
    f = factors[rows]                                       # (D, 3)
    usable = [k for k in range(f.shape[1]) if np.isfinite(f[:, k]).sum() >= days * MIN_WINDOW_SHARE]
    x = np.column_stack([np.ones(len(rows))] + [f[:, k] for k in usable])   # (D, K)
    day_ok = np.isfinite(x).all(axis=1)
    x = np.where(day_ok[:, None], x, 0.0)
    k = x.shape[1]
    m = (np.isfinite(y) & day_ok[:, None]).astype(np.float64)               # (D, n)
    y0 = np.where(m > 0, y, 0.0)
    outer = (x[:, :, None] * x[:, None, :]).reshape(len(rows), k * k)      # (D, K*K)
    xtx = _matmul_narrow(m.T, outer).reshape(-1, k, k)                      # (n, K, K)
    xty = _matmul_narrow(y0.T, x)                                           # (n, K)
    cnt = m.sum(axis=0)
    good = cnt >= max(days * MIN_WINDOW_SHARE, k + 2)
    beta = np.zeros_like(xty)
    if good.any():
        a, b = xtx[good], xty[good]
        try:
            beta[good] = np.linalg.solve(a, b[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:                      # a degenerate window somewhere
            beta[good] = np.einsum("nij,nj->ni", np.linalg.pinv(a), b)
    # SSR = y'My - 2 b'X'My + b'X'MX b, no residual matrix needed
    ssr = (y0 * y0).sum(axis=0) - 2 * (beta * xty).sum(axis=1) + np.einsum("ni,nij,nj->n", beta, xtx, beta)
    with np.errstate(invalid="ignore", divide="ignore"):
        vol = np.sqrt(np.maximum(ssr, 0.0) / (cnt - k))
    out[cols] = np.where(good, vol, np.nan)
    return out


# ----- style descriptors (research.exposure: what the portfolio leans on, not scored) -----
def momentum(trp, t: int, lookback: int, skip: int) -> np.ndarray:
    """(N,) total return from the close `lookback` days before t to the close `skip` days before t
    (the last month left out: it reverses in A-shares); NaN without both prices."""
    if t - lookback < 0:
        return np.full(trp.last.shape[1], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return trp.close_tr(t - skip) / trp.close_tr(t - lookback) - 1.0


def volatility(market, t: int, days: int) -> np.ndarray:
    """(N,) std (ddof 1) of daily total returns over the last `days` days traded (at least half)."""
    r = daily_returns(market, np.arange(max(t - days + 1, 0), t + 1))
    cnt = np.isfinite(r).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.nanstd(np.where(cnt[None, :] > 1, r, 0.0), axis=0, ddof=1)
    return np.where(cnt >= max(np.ceil(days * MIN_WINDOW_SHARE), 2), sd, np.nan)


def turnover(market, t: int, days: int) -> np.ndarray:
    """(N,) log of the mean daily turnover (volume / float shares) over the last `days` days,
    suspended days counting as 0; NaN without float shares or any trade in the window."""
    rows = np.arange(max(t - days + 1, 0), t + 1)
    vol = np.nan_to_num(market.volume[rows].astype(np.float64)).sum(axis=0) / len(rows)
    shares = market.float_shares[rows].astype(np.float64)
    known = np.isfinite(shares).sum(axis=0)
    mean_shares = np.nansum(shares, axis=0) / np.maximum(known, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((known > 0) & (mean_shares > 0) & (vol > 0), np.log(vol / mean_shares), np.nan)
