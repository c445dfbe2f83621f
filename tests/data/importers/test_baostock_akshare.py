"""BaoStock (strings everywhere, tradestatus, isST, adjustflag) and AKShare (Chinese columns, lots)."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.akshare import AKShareImporter
from ashare_sim.data.importers.baostock import BaoStockImporter
from ashare_sim.data.importers.base import ImportLog
from tests.data.importers.sources import one_error, run, write_csv


def kdata(adjustflag="3"):
    return pd.DataFrame({
        "date": ["2020-01-02", "2020-01-03", "2020-01-06"], "code": ["sz.000001"] * 3,
        "open": ["16.65", "", "16.80"], "high": ["16.95", "", "17.00"], "low": ["16.55", "", "16.50"],
        "close": ["16.87", "16.87", "16.60"], "preclose": ["16.45", "16.87", "16.87"],
        "volume": ["153023187", "0", "100000000"], "amount": ["2571196482.8800", "0.0", "1660000000.0"],
        "adjustflag": [adjustflag] * 3, "turn": ["0.79", "", "0.5"], "tradestatus": ["1", "0", "1"],
        "pctChg": ["2.55", "", "-1.6"], "isST": ["0", "0", "1"]})


def test_baostock_strings_arrive_as_numbers_and_spells(tmp_path):
    write_csv(tmp_path / "bs" / "k.csv", kdata())
    write_csv(tmp_path / "bs" / "profit.csv", pd.DataFrame({
        "code": ["sz.000001"], "pubDate": ["2020-04-21"], "statDate": ["2020-03-31"], "roeAvg": ["0.0264"],
        "netProfit": ["14545000000.0"], "MBRevenue": [""], "totalShare": ["19405918198.00"],
        "liqaShare": ["19405752680.00"]}))
    log = ImportLog()
    out = BaoStockImporter().read(tmp_path / "bs", log)
    b = out["bars"].frame()
    assert b["close"].tolist() == [16.87, 16.60] and b["amount"].tolist() == [2571196482.88, 1.66e9]
    assert out["st"][["start_date", "kind"]].values.tolist() == [[pd.Timestamp("2020-01-06"), "ST"]]
    f = out["fundamentals"].iloc[0]
    assert f["net_profit"] == 1.4545e10 and np.isnan(f["total_equity"])
    assert out["shares"]["total_shares"].tolist() == [19405918198.0]
    assert any("no equity" in m for m in log.missing)
    assert sum(n for (_, c), n in log.skipped.items() if "suspended" in c) == 1


def test_baostock_adjusted_prices_are_refused(tmp_path, capsys):
    write_csv(tmp_path / "bs" / "k.csv", kdata(adjustflag="2"))
    code, _, err = run("data", "import", "--source", "baostock", str(tmp_path / "bs"), "--out",
                       str(tmp_path / "m"), capsys=capsys)
    assert code == 2
    assert "k.csv row 1 column 'adjustflag': '2' means adjusted prices" in one_error(err)


def hist(code_col=True):
    df = pd.DataFrame({"日期": ["2024-01-02", "2024-01-03"], "股票代码": ["600001"] * 2, "开盘": [10.0, 10.1],
                       "收盘": [10.1, 9.0], "最高": [10.2, 10.2], "最低": [9.9, 8.9], "成交量": [1000, 2000],
                       "成交额": [1.01e6, 1.9e6], "振幅": [3.0, 12.0], "涨跌幅": [1.0, -1.1],
                       "涨跌额": [0.1, -0.1], "换手率": [0.1, 0.2]})
    return df if code_col else df.drop(columns=["股票代码"])


def test_akshare_lots_and_pre_close_from_the_change(tmp_path):
    write_csv(tmp_path / "ak" / "sz000002.csv", hist(code_col=False).assign(收盘=[20.0, 20.5], 最高=[20.6, 20.6],
                                                                            成交额=[2.0e6, 4.1e6], 涨跌额=[0.0, 0.5]))
    write_csv(tmp_path / "ak" / "600001.csv", hist())
    out = AKShareImporter().read(tmp_path / "ak", ImportLog())
    b = out["bars"].frame().sort_values(["symbol", "date"])
    assert b["symbol"].tolist() == ["000002.SZ", "000002.SZ", "600001.SH", "600001.SH"]
    assert b["volume"].tolist()[2:] == [1e5, 2e5]
    assert b["pre_close"].tolist()[2:] == [10.0, 9.1]         # 收盘 - 涨跌额; 9.1 vs close 10.1: an ex-date
    assert np.allclose(b["adj_factor"].tolist()[2:], [1.0, 10.1 / 9.1])


def test_akshare_english_header_is_the_wrong_language(tmp_path, capsys):
    write_csv(tmp_path / "ak" / "600001.csv", pd.DataFrame({"date": ["2024-01-02"], "open": [1.0], "close": [1.0],
                                                             "high": [1.0], "low": [1.0], "volume": [1.0]}))
    code, _, err = run("data", "import", "--source", "akshare", str(tmp_path / "ak"), "--out", str(tmp_path / "m"),
                       capsys=capsys)
    assert code == 2
    line = one_error(err)
    assert "600001.csv row 0 (header): the column names are English (date, open" in line
    assert "reads its Chinese header (日期, 开盘" in line


def test_akshare_without_a_code_anywhere(tmp_path):
    write_csv(tmp_path / "ak" / "prices.csv", hist(code_col=False))
    with pytest.raises(DataError, match="no 股票代码 column and no stock code in the file name"):
        AKShareImporter().read(tmp_path / "ak", ImportLog())
