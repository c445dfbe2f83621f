"""Cross-sectional cleaning of one factor at one signal date.

Step: standardize
  requires: raw factor values (N,), the universe mask (N,), the winsorize quantile q
  sets:     values clipped to the [q, 1 - q] quantiles of the universe's finite values,
            then z-scored (mean 0, population std 1) within the universe; NaN outside
            the universe and where the raw value is missing. A constant factor gives 0.
"""
from __future__ import annotations

import numpy as np


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
