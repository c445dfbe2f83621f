"""Dates in every source spelling, or a refusal naming file, row and column."""
import datetime as dt

import pandas as pd
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.common.dates import parse_dates


@pytest.mark.parametrize("value", ["20190301", "2019-03-01", "2019/03/01", "2019-03-01 00:00:00", 20190301,
                                   20190301.0, dt.date(2019, 3, 1), pd.Timestamp("2019-03-01 15:00")])
def test_each_spelling_is_the_same_day(value):
    out = parse_dates(pd.Series([value], dtype=object), "f.csv", "trade_date")
    assert out.iloc[0] == pd.Timestamp("2019-03-01")


def test_typed_timestamps_drop_the_time_of_day():
    s = pd.Series(pd.to_datetime(["2019-03-01 09:30", "2019-03-04 00:00"]))
    assert parse_dates(s, "f", "d").tolist() == [pd.Timestamp("2019-03-01"), pd.Timestamp("2019-03-04")]


@pytest.mark.parametrize("bad", ["2019-02-30", "March 1st", "12", "2019.13.01"])
def test_not_a_date_names_row_and_column(bad):
    with pytest.raises(DataError, match=r"f.csv row 2 column 'trade_date': .* is not a date; write dates as"):
        parse_dates(pd.Series(["20190301", bad]), "f.csv", "trade_date")


def test_empty_dates_only_where_allowed():
    s = pd.Series(["20190301", None])
    assert parse_dates(s, "f", "end_date", allow_empty=True).isna().tolist() == [False, True]
    with pytest.raises(DataError, match="row 2 column 'ex_date': empty date"):
        parse_dates(s, "f", "ex_date")
