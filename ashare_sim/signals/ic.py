"""Rank information coefficients and the composite's trailing IC weights.

Step: rank_ic
  requires: a factor (N,), forward returns (N,), the universe mask
  sets:     Spearman correlation (Pearson on average ranks) over the names with both
            values; NaN with fewer than MIN_NAMES names.

IC timing. The IC of signal date s_k compares the factor at the close of s_k with the
return from the open of rebalance day r_k = s_k + 1 to the open of the next rebalance
day r_{k+1}. It is therefore KNOWN only at r_{k+1}. The weights at signal date s_j use
only ICs whose forward window ended strictly before s_j (r_{k+1} < s_j, which on a
monthly calendar means k <= j - 2: the latest IC is the one from two signals back).

Step: trailing_weights
  requires: the IC table so far (rows = signal dates, columns = factors), the calendar
            index at which each row's IC became known, the signal index t, the factors
            present at t, the factors config
  sets:     a weight per factor, sum of |w| = 1:
            - equal: 1 / count
            - rank_ic: mean of the last `ic_window` known monthly RankICs
            - ic_ir: that mean over their std (ddof 1)
            a factor with fewer than `ic_min_periods` known ICs in the window gets 0
            while others are ready; if no factor is ready, equal weights. With
            negative_ic = zero a negative trailing value gives weight 0 (keep: the
            negative weight flips the factor). All-zero weights fall back to equal.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

MIN_NAMES = 10


def average_rank(v: np.ndarray) -> np.ndarray:
    """Ranks 1..n of a finite 1-d array, ties sharing their average rank."""
    n = len(v)
    order = np.argsort(v, kind="mergesort")
    sv = v[order]
    new = np.r_[True, sv[1:] != sv[:-1]] if n else np.zeros(0, bool)
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], n]
    avg = (starts + ends - 1) / 2.0 + 1.0
    out = np.empty(n)
    out[order] = avg[np.cumsum(new) - 1]
    return out


def rank_ic(factor: np.ndarray, fwd: np.ndarray, mask: np.ndarray | None = None,
            min_names: int = MIN_NAMES) -> float:
    sel = np.isfinite(factor) & np.isfinite(fwd)
    if mask is not None:
        sel &= mask
    if sel.sum() < min_names:
        return math.nan
    a, b = average_rank(factor[sel]), average_rank(fwd[sel])
    a -= a.mean()
    b -= b.mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else math.nan


def trailing_weights(ic: pd.DataFrame, known_at: np.ndarray, t: int, present: list[str], fcfg) -> pd.Series:
    """Weights at signal index t from ICs known strictly before t (see the module doc)."""
    return trailing_weights_array(ic.to_numpy(dtype=np.float64), list(ic.columns), known_at, t, present, fcfg)


def trailing_weights_array(ic: np.ndarray, columns: list[str], known_at: np.ndarray, t: int,
                           present: list[str], fcfg) -> pd.Series:
    """`trailing_weights` on a (rows, factors) array of ICs named by `columns`."""
    present = list(present)
    if not present:
        return pd.Series(0.0, index=present)
    equal = pd.Series(1.0 / len(present), index=present)
    if fcfg.weighting == "equal":
        return equal
    known_at = np.asarray(known_at)
    usable = np.flatnonzero((known_at >= 0) & (known_at < t))[-int(fcfg.ic_window):]
    past = np.asarray(ic, dtype=np.float64)[usable]
    where = {c: j for j, c in enumerate(columns)}
    w = np.zeros(len(present))
    ready = False
    for i, name in enumerate(present):
        if name not in where:
            continue
        vals = past[:, where[name]]
        vals = vals[np.isfinite(vals)]
        if len(vals) < int(fcfg.ic_min_periods):
            continue
        ready = True
        mean = float(vals.mean())
        if fcfg.weighting == "ic_ir":
            sd = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
            value = mean / sd if sd > 0 else 0.0
        else:
            value = mean
        if fcfg.negative_ic == "zero" and value < 0:
            value = 0.0
        w[i] = value
    total = float(np.abs(w).sum())
    if not ready or total == 0.0:
        return equal
    return pd.Series(w / total, index=present)


def summarize(ic: pd.DataFrame) -> pd.DataFrame:
    """Per column: mean, std, ic_ir = sqrt(12) x mean / std, win_rate = share of ICs > 0, n."""
    rows = {}
    for name in ic.columns:
        v = ic[name].dropna().to_numpy(dtype=np.float64)
        n = len(v)
        mean = float(v.mean()) if n else math.nan
        std = float(v.std(ddof=1)) if n > 1 else math.nan
        rows[name] = {"mean": mean, "std": std,
                      "ic_ir": math.sqrt(12.0) * mean / std if n > 1 and std > 0 else math.nan,
                      "win_rate": float((v > 0).mean()) if n else math.nan, "n": n}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "std", "ic_ir", "win_rate", "n"])
    out["n"] = out["n"].astype(int)
    return out
