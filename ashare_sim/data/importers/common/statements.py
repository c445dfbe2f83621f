"""Financial statements point in time: the first disclosure of each period, statements side by side."""
from __future__ import annotations

import pandas as pd

VALUES = ("net_profit", "total_equity", "revenue", "share_capital")


def first_disclosure(df: pd.DataFrame, where: str, log, revision: str | None = None) -> pd.DataFrame:
    """One row per (symbol, period_end): the earliest ann_date; among rows of that same ann_date the last
    by `revision` (an UPDATE_DATE or update_flag: the corrected figures of that announcement)."""
    sort = ["symbol", "period_end", "ann_date"] + ([revision] if revision and revision in df.columns else [])
    df = df.sort_values(sort, kind="stable", na_position="last")
    first = df.drop_duplicates(["symbol", "period_end", "ann_date"], keep="last")
    first = first.drop_duplicates(["symbol", "period_end"], keep="first")
    log.skip(where, "later revisions of a period (the first disclosure is kept)", len(df) - len(first))
    return first.drop(columns=[revision] if revision and revision in first.columns else [])


def side_by_side(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Statements of the same periods in one row; its ann_date is the later of their ann_dates
    (a row is usable only once all its figures are public)."""
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on=["symbol", "period_end"], how="outer", suffixes=("", "_b"))
        out["ann_date"] = out[["ann_date", "ann_date_b"]].max(axis=1)
        for c in VALUES:
            if f"{c}_b" in out.columns:
                out[c] = out[c].combine_first(out[f"{c}_b"]) if c in out.columns else out[f"{c}_b"]
        out = out.drop(columns=[c for c in out.columns if c.endswith("_b")])
    return out
