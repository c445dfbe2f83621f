"""Tushare endpoints: vol in lots, amount in thousands, shares in 10,000s, 20190301 dates."""
import pandas as pd
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.base import ImportLog
from ashare_sim.data.importers.tushare import TushareImporter
from tests.data.importers.sources import one_error, read, run, write_csv

DAYS = ["20190301", "20190304", "20190305"]


def tushare_dir(tmp_path, vol=(1000.0, 2000.0, 1500.0), amount=(1010.0, 2040.0, 1545.0)):
    d = tmp_path / "ts"
    write_csv(d / "daily.csv", pd.DataFrame({
        "ts_code": ["600001.SH"] * 3, "trade_date": DAYS, "open": [10.0, 10.1, 10.2], "high": [10.2, 10.3, 10.4],
        "low": [9.9, 10.0, 10.1], "close": [10.1, 10.2, 10.3], "pre_close": [10.0, 10.1, 10.2],
        "change": [0.1] * 3, "pct_chg": [1.0] * 3, "vol": list(vol), "amount": list(amount)}))
    write_csv(d / "adj_factor.csv", pd.DataFrame({"ts_code": ["600001.SH"] * 3, "trade_date": DAYS,
                                                  "adj_factor": [2.0, 2.0, 2.2]}))
    write_csv(d / "daily_basic.csv", pd.DataFrame({"ts_code": ["600001.SH"] * 3, "trade_date": DAYS,
                                                   "close": [10.1, 10.2, 10.3], "total_share": [12000.0] * 3,
                                                   "float_share": [8000.0] * 3, "total_mv": [1.2e5] * 3}))
    write_csv(d / "stock_basic.csv", pd.DataFrame({"ts_code": ["600001.SH"], "symbol": ["600001"],
                                                   "name": ["甲公司"], "industry": ["银行"],
                                                   "list_date": ["20000104"], "delist_date": [None]}))
    write_csv(d / "namechange.csv", pd.DataFrame({"ts_code": ["600001.SH"] * 2, "name": ["甲公司", "ST甲"],
                                                  "start_date": ["20000104", "20190304"],
                                                  "end_date": ["20190303", None], "ann_date": [None, None],
                                                  "change_reason": ["", "ST"]}))
    write_csv(d / "dividend.csv", pd.DataFrame({
        "ts_code": ["600001.SH"] * 2, "end_date": ["20181231"] * 2, "ann_date": ["20190101"] * 2,
        "div_proc": ["预案", "实施"], "stk_div": [0.0, 0.3], "cash_div": [0.09, 0.09], "cash_div_tax": [0.1, 0.1],
        "ex_date": [None, "20190305"]}))
    write_csv(d / "income.csv", pd.DataFrame({
        "ts_code": ["600001.SH"] * 2, "ann_date": ["20190420", "20190820"], "f_ann_date": ["20190420", "20190820"],
        "end_date": ["20181231", "20181231"], "report_type": ["1", "1"], "update_flag": ["0", "1"],
        "n_income_attr_p": [5e8, 4e8], "revenue": [2e9, 2e9]}))
    write_csv(d / "balancesheet.csv", pd.DataFrame({
        "ts_code": ["600001.SH"], "ann_date": ["20190425"], "f_ann_date": ["20190425"], "end_date": ["20181231"],
        "report_type": ["1"], "total_hldr_eqy_exc_min_int": [6e9]}))
    return d


def test_every_endpoint_arrives_in_our_units(tmp_path):
    out = TushareImporter().read(tushare_dir(tmp_path), ImportLog())
    b = out["bars"].frame()
    assert b["volume"].tolist() == [1e5, 2e5, 1.5e5]                 # lots -> shares
    assert b["amount"].tolist() == [1.01e6, 2.04e6, 1.545e6]         # thousands -> CNY
    assert b["total_shares"].tolist() == [1.2e8] * 3 and b["float_shares"].tolist() == [8e7] * 3
    assert b["adj_factor"].tolist() == [2.0, 2.0, 2.2]
    assert out["st"][["kind", "start_date"]].values.tolist() == [["ST", pd.Timestamp("2019-03-04")]]
    assert out["dividends"].values.tolist() == [["600001.SH", pd.Timestamp("2019-03-05"), 0.1, 0.3]]
    f = out["fundamentals"].iloc[0]
    assert (f["net_profit"], f["total_equity"], f["ann_date"]) == (5e8, 6e9, pd.Timestamp("2019-04-25"))
    assert out["instruments"]["industry"].tolist() == ["银行"]


def test_import_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "m"
    code, text, err = run("data", "import", "--source", "tushare", str(tushare_dir(tmp_path)), "--out", str(out),
                          capsys=capsys)
    assert code == 0, err
    assert sorted(p.stem for p in out.glob("*.parquet")) == ["bars", "dividends", "fundamentals", "instruments", "st"]
    assert read(out, "instruments")["name"].tolist() == ["甲公司"]
    assert run("data", "validate", str(out))[0] == 0


def test_vol_in_shares_is_refused_naming_file_row_and_column(tmp_path, capsys):
    d = tushare_dir(tmp_path, vol=(1e5, 2e5, 1.5e5))
    code, _, err = run("data", "import", "--source", "tushare", str(d), "--out", str(tmp_path / "m"), capsys=capsys)
    assert code == 2
    line = one_error(err)
    assert "daily.csv row 1 column 'vol'" in line and "'vol' looks 100x too large (shares where lots" in line


def test_a_daily_file_without_prices_names_the_missing_columns(tmp_path):
    d = tmp_path / "ts"
    write_csv(d / "daily.csv", pd.DataFrame({"ts_code": ["600001.SH"], "trade_date": ["20190301"], "vol": [1.0],
                                             "amount": [1.0], "open": [1.0]}))
    log = ImportLog()
    with pytest.raises(DataError, match=r"daily.csv row 0 \(header\) column .high., .low., .close.: missing; tushare daily needs"):
        TushareImporter().read(d, log)
