"""ST / *ST / delisting status from names, and spells from daily names."""
import pandas as pd
import pytest

from ashare_sim.data.importers.common.names import (
    spells_from_daily_names,
    spells_from_name_spells,
    st_kind,
)


@pytest.mark.parametrize("name, kind", [
    ("ST东北高", "ST"), ("SST华新", "ST"), ("*ST广厦", "*ST"), ("S*ST集琦", "*ST"), ("XR*ST康达", "*ST"),
    ("XDST中冠", "ST"), ("G*ST天龙", "*ST"), ("退市银鸽", "delisting"), ("长城退", "delisting"),
    ("*ST长油退", "delisting"), ("浦发银行", None), ("S佳通", None), ("N中芯", None), (None, None),
])
def test_status_from_a_name(name, kind):
    assert st_kind(name) == kind


def test_spells_are_runs_of_traded_days():
    days = pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09"])
    names = ["甲公司", "ST甲", "ST甲", "*ST甲", "甲公司", "退市甲"]
    st = spells_from_daily_names(pd.Series(["600001.SH"] * 6), pd.Series(days), pd.Series(names))
    assert st[["start_date", "end_date", "kind"]].astype(str).values.tolist() == [
        ["2020-01-03", "2020-01-06", "ST"], ["2020-01-07", "2020-01-07", "*ST"],
        ["2020-01-09", "2020-01-09", "delisting"]]


def test_spells_from_dated_names_join_neighbours_of_the_same_kind():
    st = spells_from_name_spells(pd.Series(["000001.SZ"] * 3),
                                 pd.Series(pd.to_datetime(["2019-01-01", "2019-05-01", "2020-01-01"])),
                                 pd.Series(pd.to_datetime(["2019-04-30", "2019-12-31", None])),
                                 pd.Series(["*ST甲", "*ST甲乙", "甲"]))
    assert len(st) == 1 and st.loc[0, "kind"] == "*ST"
    assert (st.loc[0, "start_date"], st.loc[0, "end_date"]) == (pd.Timestamp("2019-01-01"), pd.Timestamp("2019-12-31"))
