"""Composite score, the top-N pick and quintile analytics at one signal date.

Step: composite
  requires: z-scored factors (name -> (N,)), weights (name -> float), the universe mask
  sets:     score = sum_f w_f z_f over the universe, a missing z counting as 0 (the
            cross-sectional mean); NaN outside the universe or when every weighted
            factor is missing.

Step: pick_top
  requires: score (N,), top_n
  sets:     the indices of the top_n finite scores, best first (ties: symbol order),
            ranks 1..k and equal weights 1/k over the k names actually picked.

Step: quintile_means
  requires: score, forward returns, mask
  sets:     mean forward return of each score quintile, Q1 = worst ... Q5 = best
            (quintiles of the score's rank among names with both values).
"""
from __future__ import annotations

import numpy as np


def composite(z: dict[str, np.ndarray], weights: dict[str, float], mask: np.ndarray) -> np.ndarray:
    n = len(mask)
    score = np.zeros(n)
    seen = np.zeros(n, dtype=bool)
    for name, w in weights.items():
        if w == 0 or name not in z:
            continue
        v = z[name]
        ok = np.isfinite(v)
        score += w * np.where(ok, v, 0.0)
        seen |= ok
    return np.where(mask & seen, score, np.nan)


def pick_top(score: np.ndarray, top_n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = np.flatnonzero(np.isfinite(score))
    order = np.lexsort((idx, -score[idx]))
    chosen = idx[order[:top_n]]
    k = len(chosen)
    return chosen, np.arange(1, k + 1), np.full(k, 1.0 / k if k else 0.0)


def quintile_means(score: np.ndarray, fwd: np.ndarray, mask: np.ndarray, groups: int = 5) -> np.ndarray:
    sel = mask & np.isfinite(score) & np.isfinite(fwd)
    out = np.full(groups, np.nan)
    n = int(sel.sum())
    if n < groups:
        return out
    s, r = score[sel], fwd[sel]
    order = np.argsort(s, kind="mergesort")
    bucket = np.empty(n, dtype=np.int64)
    bucket[order] = (np.arange(n) * groups) // n
    for g in range(groups):
        out[g] = r[bucket == g].mean()
    return out
