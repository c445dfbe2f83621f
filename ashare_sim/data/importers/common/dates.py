"""Dates in the spellings sources use, parsed once per distinct value, or refused naming the row."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ashare_sim.common.errors import DataError


def parse_dates(values: pd.Series, where: str, column: str, allow_empty: bool = False) -> pd.Series:
    """datetime64[ns] dates (time of day dropped) from `20190301`, `2019-03-01`, `2019/03/01`,
    `2019-03-01 00:00:00`, Python / numpy / Arrow timestamps. Empty values are NaT when `allow_empty`,
    else an error; anything else that is no date is a DataError naming `where`, the data row and `column`."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        out = out.dt.normalize().astype("datetime64[ns]")
        return _check_empty(out, values, where, column, allow_empty)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).map(_as_text)
    parsed = _parse_text(text)
    bad = parsed.isna() & text.ne("")
    if bad.any():
        first = int(np.flatnonzero(np.isin(codes, np.flatnonzero(bad.to_numpy())))[0])
        raise DataError(f"{where} row {first + 1} column '{column}': {values.iloc[first]!r} is not a date; "
                        "write dates as YYYY-MM-DD or YYYYMMDD")
    lookup = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    out = pd.Series(lookup[codes], index=values.index)
    return _check_empty(out, values, where, column, allow_empty)


def _as_text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))                       # 20190301.0 from a CSV column with gaps
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v).strip()


def _parse_text(text: pd.Series) -> pd.Series:
    compact = text.str.fullmatch(r"\d{8}")
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if compact.any():
        out[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
    rest = ~compact & text.ne("")
    if rest.any():
        # Only things that start like a date: a bare number such as '12' is not one.
        datelike = text[rest].str.match(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
        parsed = pd.to_datetime(text[rest][datelike], format="mixed", errors="coerce")
        out[parsed.index] = parsed.dt.tz_localize(None) if getattr(parsed.dt, "tz", None) else parsed
    return out.dt.normalize()


def _check_empty(out: pd.Series, values: pd.Series, where: str, column: str, allow_empty: bool) -> pd.Series:
    if not allow_empty and out.isna().any():
        first = int(np.flatnonzero(out.isna().to_numpy())[0])
        raise DataError(f"{where} row {first + 1} column '{column}': empty date; every row needs one")
    return out


def day_numbers(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 as int32 (NaT -> a large negative number)."""
    d = np.asarray(dates).astype("datetime64[D]")
    out = d.astype(np.int64)
    out[np.isnat(d)] = -(2**31)
    return out.astype(np.int32) if len(out) else out.astype(np.int32)
