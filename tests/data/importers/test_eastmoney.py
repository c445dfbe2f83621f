"""EastMoney statements: raw datacenter fields and the flattened table, first disclosure, shares."""
import pandas as pd
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.base import ImportLog
from ashare_sim.data.importers.eastmoney import EastMoneyImporter
from tests.data.importers.sources import write_csv


def test_raw_income_and_balance_exports_merge_at_the_later_first_notice(tmp_path):
    write_csv(tmp_path / "em" / "income.csv", pd.DataFrame({
        "SECUCODE": ["600001.SH", "600001.SH", "600001.SH"],
        "REPORT_DATE": ["2020-12-31 00:00:00"] * 3,
        "NOTICE_DATE": ["2021-03-20 00:00:00", "2021-03-20 00:00:00", "2021-08-01 00:00:00"],   # later: restated
        "UPDATE_DATE": ["2021-03-20", "2021-03-22", "2021-08-01"],
        "PARENT_NETPROFIT": [1.0e8, 1.1e8, 9.0e7], "OPERATE_INCOME": [5e8, 5e8, 5e8]}))
    write_csv(tmp_path / "em" / "balance.csv", pd.DataFrame({
        "SECUCODE": ["600001.SH"], "REPORT_DATE": ["2020-12-31"], "NOTICE_DATE": ["2021-03-25"],
        "TOTAL_PARENT_EQUITY": [2e9], "SHARE_CAPITAL": [3e8]}))
    log = ImportLog()
    out = EastMoneyImporter().read(tmp_path / "em", log)
    f = out["fundamentals"].iloc[0]
    assert (f["net_profit"], f["total_equity"], f["revenue"]) == (1.1e8, 2e9, 5e8)   # first notice, its update
    assert f["ann_date"] == pd.Timestamp("2021-03-25")                               # the later statement
    assert out["shares"][["date", "total_shares"]].values.tolist() == [[pd.Timestamp("2021-03-25"), 3e8]]
    assert sum(log.skipped.values()) == 2                                            # revisions counted


def test_flattened_table(tmp_path):
    p = tmp_path / "f.parquet"
    pd.DataFrame({"symbol": ["000001.SZ", "000001.SZ"], "period_end": pd.to_datetime(["2021-03-31", "2021-06-30"]),
                  "ann_date": pd.to_datetime(["2021-04-20", "1900-01-01"]), "net_profit_parent_ytd": [1e9, 2e9],
                  "total_equity_parent": [4e10, 4.1e10], "revenue_ytd": [3e9, 6e9],
                  "share_capital": [1.9e10, 1.9e10]}).to_parquet(p)
    out = EastMoneyImporter().read(p, ImportLog())
    assert out["fundamentals"]["net_profit"].tolist() == [1e9, 2e9]     # the placeholder date is judged later
    assert len(out["shares"]) == 1                                      # only the usable ann_date


def test_a_text_in_a_value_column_names_file_row_and_column(tmp_path):
    write_csv(tmp_path / "inc.csv", pd.DataFrame({"SECUCODE": ["600001.SH", "600001.SH"],
                                                  "REPORT_DATE": ["2020-12-31", "2021-03-31"],
                                                  "NOTICE_DATE": ["2021-03-20", "2021-04-20"],
                                                  "PARENT_NETPROFIT": ["1e8", "一亿"]}))
    with pytest.raises(DataError, match=r"inc.csv row 2 column 'PARENT_NETPROFIT': '一亿' is not a number"):
        EastMoneyImporter().read(tmp_path / "inc.csv", ImportLog())
