"""Cross-sectional cleaning of one factor at one signal date.

Step: standardize
  requires: raw factor values (N,), the universe mask (N,), the winsorize quantile q
  sets:     values clipped to the [q, 1 - q] quantiles of the universe's finite values,
            then z-scored (mean 0, population std 1) within the universe; NaN outside
            the universe and where the raw value is missing. A constant factor gives 0.

Step: neutralize (strategy.neutralize: industry)
  requires: a z-scored factor (N,), the universe mask, industry codes (N,) from
            `industry_codes(market)`
  sets:     the factor less its industry mean inside the universe (the residual of a
            regression on industry dummies), z-scored again so the composite's weights
            keep their meaning; every industry then has mean 0, and so does the composite
            (a weighted sum of such factors, a missing value counting as 0).
"""
from __future__ import annotations

import numpy as np

from ashare_sim.common.errors import UserError


def winsorize(x: np.ndarray, mask: np.ndarray, q: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    sel = mask & np.isfinite(x)
    out = np.where(sel, x, np.nan)
    if q <= 0 or sel.sum() == 0:
        return out
    lo, hi = np.quantile(x[sel], [q, 1.0 - q])
    return np.where(sel, np.clip(x, lo, hi), np.nan)


def zscore(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    sel = mask & np.isfinite(x)
    out = np.full(x.shape, np.nan)
    if sel.sum() == 0:
        return out
    v = x[sel]
    sd = v.std()
    out[sel] = (v - v.mean()) / sd if sd > 0 else 0.0
    return out


def standardize(x: np.ndarray, mask: np.ndarray, q: float) -> np.ndarray:
    return zscore(winsorize(x, mask, q), mask)


def industries(market) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels, (N,) int code per symbol) from instruments.industry, an empty label its own group
    "(none)"; None when the data has no industries."""
    inst = market.instruments
    if "industry" not in inst.columns or inst["industry"].isna().all():
        return None
    def compute() -> tuple[np.ndarray, np.ndarray]:
        labels, codes = np.unique(inst["industry"].fillna("(none)").astype(str).to_numpy(), return_inverse=True)
        return labels, codes.astype(np.int64)
    return market.memo("industries", compute)


def industry_codes(market) -> np.ndarray:
    """(N,) industry codes for strategy.neutralize: industry (an error naming the fix without them)."""
    found = industries(market)
    if found is None:
        raise UserError(f"{market.source}: strategy.neutralize is 'industry' but instruments has no 'industry' "
                        "column; add one (docs/data.md) or set strategy.neutralize: none")
    return found[1]


def neutralize(z: np.ndarray, mask: np.ndarray, groups: np.ndarray) -> np.ndarray:
    sel = mask & np.isfinite(z)
    out = np.full(z.shape, np.nan)
    if not sel.any():
        return out
    g = groups[sel]
    n_groups = int(groups.max()) + 1
    sums = np.bincount(g, weights=z[sel], minlength=n_groups)
    counts = np.bincount(g, minlength=n_groups)
    out[sel] = z[sel] - sums[g] / counts[g]
    return zscore(out, mask)
