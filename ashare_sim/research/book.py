"""The book a targets table holds, by rebalance day.

Step: books
  requires: a targets table (rebalance_date, symbol, weight), the market's calendar
  sets:     rebalance day index r -> (symbol ids, weights) of the list bought on r;
            its signal day is r - 1 (signals.calendar's schedule).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def books(market, targets: pd.DataFrame) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for day, block in targets.groupby("rebalance_date"):
        r = market.index_of(pd.Timestamp(day).date())
        out[r] = (np.array([market.symbol_index[s] for s in block["symbol"]], dtype=np.int64),
                  block["weight"].to_numpy(dtype=np.float64))
    return out
