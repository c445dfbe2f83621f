"""The output files' formatting: dates in the CSVs as YYYY-MM-DD, whatever form the tables hold them in."""
import datetime as dt

import pandas as pd
import pytest

from ashare_sim.backtest.outputs import csv_frame

DATE_COLUMNS = {
    "dates that repeat": [dt.date(2020, 1, 1 + i % 5) for i in range(50)],
    "gaps (orders not from a plan)": [None if i % 3 == 0 else dt.date(2020, 1, 1 + i % 5) for i in range(50)],
    "only gaps": [None] * 5,
    "timestamps": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-01"]),
    "timestamps with NaT": pd.to_datetime(["2020-01-01", None, "2020-01-01"]),
    "text": ["2020-01-01", "2020-01-02", "2020-01-01", None],
    "a timestamp, a date and a datetime of one day": [pd.Timestamp("2020-01-01"), dt.date(2020, 1, 1),
                                                      dt.datetime(2020, 1, 1, 12)],
}


@pytest.mark.parametrize("values", DATE_COLUMNS.values(), ids=DATE_COLUMNS.keys())
def test_dates_are_written_as_pandas_formats_them_each_cell(values):
    frame = pd.DataFrame({"date": values, "x": range(len(values))}, index=range(3, 3 + len(values)))
    expected = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
    pd.testing.assert_series_equal(csv_frame(frame, ("date",))["date"], expected, check_exact=True)
