"""Percentiles within a series' own history, known at each date.

Step: expanding_percentile
  requires: values (T,) in date order, their dates, the months of history required
  sets:     at each date, the mid-rank percentile of this date's value among the finite
            values up to and including this date: 100 x (values below + half the values
            equal to it, itself included) / count. A new high of n values is
            100 x (n - 0.5) / n; a value shared by most days sits in the middle of them
            (a day like most days is never "extreme" because of ties); NaN
            where the value is missing or before the series has `min_months` months of
            history since its first finite value. Only past values count: the figure of
            a date never changes when later data arrive.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def expanding_percentile(values: np.ndarray, dates: np.ndarray, min_months: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    out = np.full(len(v), np.nan)
    ok = np.flatnonzero(np.isfinite(v))
    if len(ok) == 0:
        return out
    first = pd.Timestamp(np.asarray(dates)[ok[0]])
    ready = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates))) >= first + pd.DateOffset(months=int(min_months))
    seen = v[ok]
    for j, i in enumerate(ok):
        if ready[i]:
            past = seen[: j + 1]
            out[i] = 100.0 * (float((past < seen[j]).sum()) + 0.5 * float((past == seen[j]).sum())) / (j + 1)
    return out
