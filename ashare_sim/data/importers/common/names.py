"""ST, *ST and delisting spells from stock names (the names carry the status on the exchanges).

    ST东北高 SST华新 -> ST        *ST广厦 S*ST集琦 XR*ST康达 -> *ST
    退市银鸽 长城退 -> delisting (the delisting consolidation period, 退市整理期)

Leading market markers are ignored: XR / XD / DR (ex-rights / ex-dividend days), N and C (new
listings), G (share reform done), U / W (STAR / ChiNext special structures). S (reform pending) may
precede ST or *ST.
"""
from __future__ import annotations

import re
from typing import Optional

import numpy as np
import pandas as pd

_MARKERS = r"(?:XR|XD|DR|N|C|G|U|W)*"
_ST = re.compile(rf"^{_MARKERS}S?(\*?ST)")


def st_kind(name: object) -> Optional[str]:
    """'ST', '*ST', 'delisting' or None for one stock name."""
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return None
    s = str(name).strip().upper().replace("＊", "*").replace(" ", "")
    if s.startswith("退市") or s.endswith("退"):
        return "delisting"
    m = _ST.match(s)
    return m.group(1) if m else None


def st_kinds(names: pd.Series) -> pd.Series:
    """`st_kind` for a column (computed once per distinct name)."""
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    kinds = np.array([st_kind(u) for u in uniques] + [None], dtype=object)
    return pd.Series(kinds[codes], index=names.index, dtype=object)


def spells_from_daily_names(symbol: pd.Series, date: pd.Series, name: pd.Series) -> pd.DataFrame:
    """One spell per run of consecutive rows (traded days) of a stock with the same status from its names.

    Returns the `st` table: symbol, start_date, end_date (the run's last row), kind, name (its first).
    A stock whose last rows are ST gets end_date = its last row: the status after the data is unknown.
    """
    return spells_from_daily_kinds(symbol, date, st_kinds(name), name)


def spells_from_daily_kinds(symbol: pd.Series, date: pd.Series, kind: pd.Series,
                            name: pd.Series | None = None) -> pd.DataFrame:
    """As `spells_from_daily_names`, from a per-row status ('ST', '*ST', 'delisting' or None), e.g. BaoStock isST."""
    df = pd.DataFrame({"symbol": symbol.to_numpy(), "start_date": date.to_numpy(), "end_date": date.to_numpy(),
                       "kind": kind.to_numpy(), "name": name.to_numpy() if name is not None else None})
    return _runs(df)


def spells_from_name_spells(symbol: pd.Series, start: pd.Series, end: pd.Series, name: pd.Series) -> pd.DataFrame:
    """The `st` table from dated name spells (tushare namechange: a name and the dates it held);
    adjacent spells of the same status are joined."""
    df = pd.DataFrame({"symbol": symbol.to_numpy(), "start_date": start.to_numpy(), "end_date": end.to_numpy(),
                       "name": name.to_numpy()})
    df["kind"] = st_kinds(df["name"])
    return _runs(df)


def _runs(df: pd.DataFrame) -> pd.DataFrame:
    """One spell per run of consecutive rows of a stock with the same status: its first start, last end."""
    df = df.sort_values(["symbol", "start_date"], kind="stable").reset_index(drop=True)
    sym, kind = df["symbol"].to_numpy(), df["kind"].fillna("").to_numpy()
    df["run"] = np.cumsum(np.r_[True, (sym[1:] != sym[:-1]) | (kind[1:] != kind[:-1])])
    st = df[df["kind"].notna()].groupby("run", sort=True).agg(
        symbol=("symbol", "first"), start_date=("start_date", "first"), end_date=("end_date", "last"),
        kind=("kind", "first"), name=("name", "first"))
    return st.reset_index(drop=True)
