"""The real Shanghai trading calendar (XSHG of exchange-calendars)."""
from __future__ import annotations

import datetime as dt

import numpy as np

from ashare_sim.common.errors import UserError


def trading_days(start: dt.date, end: dt.date) -> np.ndarray:
    """XSHG sessions in [start, end] as datetime64[D]; UserError outside the calendar's range."""
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XSHG")
    first, last = cal.first_session.date(), cal.last_session.date()
    for name, day in (("--start", start), ("--end", end)):
        if not first <= day <= last:
            raise UserError(f"{name} {day}: the XSHG calendar of exchange-calendars covers {first}..{last}; "
                            "choose a date inside it")
    sessions = cal.sessions_in_range(start.isoformat(), end.isoformat())
    days = np.asarray(sessions.strftime("%Y-%m-%d"), dtype="datetime64[D]")
    if len(days) < 2:
        raise UserError(f"--start {start} --end {end}: fewer than 2 trading days; widen the range")
    return days


def weekdays(start: dt.date, end: dt.date) -> np.ndarray:
    """Mon-Fri dates in [start, end) (listing dates before the calendar's range)."""
    if end <= start:
        return np.array([], dtype="datetime64[D]")
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    return days[np.is_busday(days)]
