"""Share counts: from market caps, and change points carried forward to every bar."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ashare_sim.data.importers.common.keys import SymbolIndex, frame_keys, lookup_asof

CHANGE_POINT_COLUMNS = ("symbol", "date", "total_shares", "float_shares")


def shares_from_caps(cap: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Shares = cap / close, to the whole share (caps are close x shares at the source)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.round(cap.astype(np.float64) / close.astype(np.float64))
    out[~np.isfinite(out) | (out <= 0)] = np.nan
    return out


def chain(sources: list[pd.DataFrame]) -> pd.DataFrame:
    """Change points of several sources, each later one continuing where the earlier ones end.

    A source covers dates up to its last change point; the next source's points count only after
    that. A later point without float_shares keeps the last float of the stock (capped at its total).
    """
    parts, covered = [], None
    for s in sources:
        s = s.loc[:, list(CHANGE_POINT_COLUMNS)]
        if covered is not None:
            s = s[s["date"] > covered]
        if len(s):
            parts.append(s)
            end = s["date"].max()
            covered = end if covered is None else max(covered, end)
    if not parts:
        return pd.DataFrame({c: [] for c in CHANGE_POINT_COLUMNS})
    out = pd.concat(parts, ignore_index=True).sort_values(["symbol", "date"], kind="stable")
    out["float_shares"] = out.groupby("symbol", sort=False)["float_shares"].ffill()
    out["float_shares"] = np.fmin(out["float_shares"], out["total_shares"])
    return out.drop_duplicates(["symbol", "date"], keep="last").reset_index(drop=True)


def carry_forward(index: SymbolIndex, bar_keys: np.ndarray, points: pd.DataFrame, column: str) -> np.ndarray:
    """`column` of the last change point at or before each bar (NaN before a stock's first point)."""
    keys, sid = frame_keys(index, points["symbol"], points["date"])
    ok = (sid >= 0) & points[column].notna().to_numpy()
    return lookup_asof(bar_keys, keys[ok], points[column].to_numpy(dtype=np.float64)[ok])


def points_at_announcement(df: pd.DataFrame, total: str, float_: str | None = None) -> pd.DataFrame:
    """Change points from share counts reported with a period (symbol, period_end, ann_date, counts):
    known from the ann_date; rows without a positive count or a usable ann_date are left out."""
    ok = df[total].gt(0) & df["ann_date"].notna() & (df["ann_date"] >= df["period_end"])
    d = df[ok]
    out = pd.DataFrame({"symbol": d["symbol"], "date": d["ann_date"], "total_shares": d[total],
                        "float_shares": d[float_] if float_ and float_ in d.columns else np.nan})
    return (out.sort_values(["symbol", "date"], kind="stable").drop_duplicates(["symbol", "date"], keep="last")
            .reset_index(drop=True))
