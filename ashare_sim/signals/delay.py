"""`strategy.signal_delay`: trade each target list k trading days after its rebalance day.

Step: delay_targets
  requires: a targets table (rebalance_date = the day the orders would execute), the market's
            calendar, k >= 0
  sets:     the same rows with rebalance_date moved k trading days later (a date that is not a
            trading day first snaps to the next one); a list whose delayed day falls after the
            market's last day is dropped, with one warning. k = 0 returns the table untouched.

The lists themselves do not change: they were scored at the close before the planned day, so a
delay of k means orders sized and sent k days late on stale information (the stress grids'
"one-day signal delay"). The rebalancer still sizes at the close before the (delayed) day.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from loguru import logger


def delay_targets(targets: pd.DataFrame, dates: np.ndarray, k: int) -> pd.DataFrame:
    """`targets` with every rebalance_date k trading days of `dates` later (rows past the end dropped)."""
    if k <= 0 or len(targets) == 0:
        return targets
    days = pd.to_datetime(targets["rebalance_date"]).to_numpy().astype("datetime64[D]")
    calendar = np.asarray(dates).astype("datetime64[D]")
    moved = np.searchsorted(calendar, days, side="left") + int(k)
    inside = moved < len(calendar)
    if not inside.all():
        lost = sorted(set(days[~inside].astype(str)))
        logger.warning(f"strategy.signal_delay {k}: {len(lost)} list(s) would trade after the market's last day "
                       f"{calendar[-1]} and are dropped (e.g. the one of {lost[0]})")
    out = targets.loc[inside].copy()
    out["rebalance_date"] = pd.DatetimeIndex(calendar[moved[inside]].astype("datetime64[ns]"))
    return out.reset_index(drop=True)
