"""The real Shanghai calendar, not Monday to Friday."""
import datetime as dt

import exchange_calendars as xcals
import numpy as np

from ashare_sim.data.synthetic.calendar import trading_days


def test_calendar_is_xshg():
    days = trading_days(dt.date(2019, 1, 1), dt.date(2020, 12, 31))
    expected = xcals.get_calendar("XSHG").sessions_in_range("2019-01-01", "2020-12-31")
    assert np.array_equal(days, np.asarray(expected.strftime("%Y-%m-%d"), dtype="datetime64[D]"))
    assert np.datetime64("2019-02-05") not in days          # Spring Festival
    assert np.datetime64("2020-10-05") not in days          # National Day week
    assert len(days) < len(np.arange(np.datetime64("2019-01-01"), np.datetime64("2021-01-01"))[
        np.is_busday(np.arange(np.datetime64("2019-01-01"), np.datetime64("2021-01-01")))])


def test_market_uses_the_calendar(market):
    days = trading_days(dt.date(2019, 1, 1), dt.date(2020, 12, 31))
    assert np.array_equal(market.dates, days)
