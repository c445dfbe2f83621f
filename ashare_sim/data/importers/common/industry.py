"""Shenwan industry labels: the level-1 name of a code is the name of its first two digits + '0000'."""
from __future__ import annotations

import pandas as pd


def level1_names(codes: pd.Series, code_table: pd.DataFrame) -> pd.Series:
    """Level-1 name per 6-digit Shenwan code (None when its group is not in `code_table`).

    `code_table` has columns code and level1 (the SW2021 table: 行业代码, 一级行业名称). Older
    schemes (SW2014) share most level-1 groups; a group the table lacks (SW2014 21 采掘) is None.
    """
    names = code_table.dropna(subset=["level1"]).drop_duplicates("code").set_index("code")["level1"]
    group = codes.astype(str).str.strip().str.zfill(6).str[:2] + "0000"
    return group.map(names).astype(object).where(lambda s: s.notna(), None)


def latest(history: pd.DataFrame, column: str = "industry") -> pd.Series:
    """The last dated label of each symbol (index: symbol)."""
    h = history.dropna(subset=[column]).sort_values(["symbol", "start_date"], kind="stable")
    return h.groupby("symbol")[column].last()
