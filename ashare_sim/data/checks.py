"""What makes a bar wrong, defined once: `data validate` reports it, the loader refuses (or, with
`data.bad_bars: drop`, leaves out and counts) it, and `data import` refuses to write it.

    faults = bar_faults(columns)          # columns: name -> array (or Series) of equal length
    for f in faults: f.check, f.column, f.message, f.mask

A bar traded (volume > 0) must have positive prices (open, high, low, close, pre_close, adj_factor)
with high at or above max(open, close) and low at or below min(open, close); volume and amount are
never negative.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ashare_sim.data.schema import PRICE_FIELDS

# Float storage noise allowed in the OHLC order (prices are cents).
OHLC_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Fault:
    check: str                  # the `data validate` check it belongs to
    column: str
    message: str
    mask: np.ndarray            # rows (or cells) at fault


def bar_faults(columns: dict) -> list[Fault]:
    """Every fault of the bars given as columns (rows or panel cells; missing optional columns skipped)."""
    def get(name):
        v = columns.get(name)
        return None if v is None else np.asarray(v, dtype=np.float64)

    volume = get("volume")
    traded = np.nan_to_num(volume, nan=0.0) > 0
    out = []
    with np.errstate(invalid="ignore"):
        for col in (*PRICE_FIELDS, "pre_close", "adj_factor"):
            v = get(col)
            if v is not None:
                out.append(Fault("non_positive", col, "price must be > 0", (v <= 0) & traded))
        for col in ("volume", "amount"):
            v = get(col)
            if v is not None:
                out.append(Fault("negative", col, "must be >= 0", v < 0))
        o, h, lo, c = (get(k) for k in PRICE_FIELDS)
        top, bottom = np.maximum(o, c), np.minimum(o, c)
        out.append(Fault("ohlc", "high", "high below max(open, close)", traded & (h < top - OHLC_TOLERANCE)))
        out.append(Fault("ohlc", "low", "low above min(open, close)", traded & (lo > bottom + OHLC_TOLERANCE)))
    return [f for f in out if f.mask.any()]
