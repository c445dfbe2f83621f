"""Rebalance and signal dates.

Step: schedule
  requires: the trading calendar (`market.dates`), the run window [start, end]
  sets:     rebalance indices (first trading day of each month inside the window),
            signal indices (the trading day before each rebalance day: signals use
            data up to that close), and each block's end (the next month's first
            trading day anywhere in the calendar, -1 when the data ends first).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Schedule:
    rebalance: np.ndarray      # (K,) calendar index of each rebalance day
    signal: np.ndarray         # (K,) rebalance - 1
    next_rebalance: np.ndarray  # (K,) calendar index of the following month start, -1 if none in the data
    dates: np.ndarray          # the calendar, datetime64[D]

    def __len__(self) -> int:
        return len(self.rebalance)

    @property
    def rebalance_dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.dates[self.rebalance].astype("datetime64[ns]"))

    @property
    def signal_dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.dates[self.signal].astype("datetime64[ns]"))


def month_starts(dates: np.ndarray) -> np.ndarray:
    """Calendar indices i >= 1 where dates[i] opens a new month (index 0 is never one:
    the calendar may start mid-month and it has no previous close to signal from)."""
    months = dates.astype("datetime64[M]")
    return np.flatnonzero(months[1:] != months[:-1]) + 1


def month_ends(dates: np.ndarray) -> np.ndarray:
    """Calendar indices of the last trading day of each month that has a successor month."""
    return month_starts(dates) - 1


def _bounds(dates: np.ndarray, start, end) -> tuple[np.datetime64, np.datetime64]:
    """The window as datetime64[D]; an open end (None) is the calendar's first or last day."""
    lo = np.datetime64(start, "D") if start is not None else (dates[0] if len(dates) else np.datetime64("NaT"))
    hi = np.datetime64(end, "D") if end is not None else (dates[-1] if len(dates) else np.datetime64("NaT"))
    return lo, hi


def schedule(dates: np.ndarray, start: dt.date | str | None, end: dt.date | str | None) -> Schedule:
    """Monthly schedule inside [start, end] (both inclusive; None = the calendar's edge)."""
    return rebalance_schedule(dates, start, end, "monthly")


def window_indices(dates: np.ndarray, start: dt.date | str | None, end: dt.date | str | None) -> np.ndarray:
    """Calendar indices inside [start, end] (None = the calendar's edge)."""
    dates = np.asarray(dates).astype("datetime64[D]")
    lo, hi = _bounds(dates, start, end)
    return np.flatnonzero((dates >= lo) & (dates <= hi))


# The rebalance schedules a user strategy may ask for (strategy.rebalance); the scoring pipeline is monthly.
REBALANCE_RULES = ("monthly", "weekly", "daily")


def week_starts(dates: np.ndarray) -> np.ndarray:
    """Calendar indices i >= 1 where dates[i] opens a new ISO week (Monday-based)."""
    days = dates.astype("datetime64[D]").astype(np.int64)
    weeks = (days + 3) // 7                   # 1970-01-01 was a Thursday: weeks then change on Mondays
    return np.flatnonzero(weeks[1:] != weeks[:-1]) + 1


def rebalance_schedule(dates: np.ndarray, start, end, rule: str = "monthly", on=()) -> Schedule:
    """The rebalance days of `rule` inside [start, end], or the given days `on` (trading days of the
    calendar, YYYY-MM-DD or dates) when any are given. Index 0 is never a rebalance day: its list would
    be scored on a close the data does not have. next_rebalance is the following day of the same rule
    anywhere in the calendar (-1 when none)."""
    dates = np.asarray(dates).astype("datetime64[D]")
    if len(on):
        # days after the data are later rebalances (a paper plan reaches them); days inside must trade
        wanted = np.array(sorted({np.datetime64(d, "D") for d in on if np.datetime64(d, "D") <= dates[-1]}),
                          dtype="datetime64[D]")
        pos = np.searchsorted(dates, wanted)
        bad = [str(d) for d, p in zip(wanted, pos) if p >= len(dates) or dates[p] != d]
        if bad:
            raise ValueError(f"not trading days of the market: {', '.join(bad[:5])}"
                             + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""))
        if len(pos) and pos[0] == 0:
            raise ValueError(f"{dates[0]} is the data's first day: no close before it to decide on")
        days = pos
    elif rule == "monthly":
        days = month_starts(dates)
    elif rule == "weekly":
        days = week_starts(dates)
    elif rule == "daily":
        days = np.arange(1, len(dates))
    else:
        raise ValueError(f"rebalance rule {rule!r}; expected one of {', '.join(REBALANCE_RULES)}")
    lo, hi = _bounds(dates, start, end)
    inside = (dates[days] >= lo) & (dates[days] <= hi)
    reb = days[inside]
    pos = np.flatnonzero(inside)
    nxt = np.where(pos + 1 < len(days), days[np.minimum(pos + 1, len(days) - 1)], -1)
    return Schedule(rebalance=reb.astype(np.int64), signal=(reb - 1).astype(np.int64),
                    next_rebalance=nxt.astype(np.int64), dates=dates)
