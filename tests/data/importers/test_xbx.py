"""xbx daily CSVs (note line, GBK) and their flattened table: bars, shares from caps, ST from names."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.base import ImportLog
from ashare_sim.data.importers.xbx import XbxImporter
from tests.data.importers.sources import one_error, run, write_csv

NOTE = "数据由邢不行整理，对数据字段有疑问的，可以直接微信私信邢不行"


def xbx_frame(code="sh600001", vol_scale=1.0):
    return pd.DataFrame({
        "股票代码": [code] * 4, "股票名称": ["甲公司", "ST甲", "ST甲", "退市甲"],
        "交易日期": ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"],
        "开盘价": [10.0, 9.5, 9.0, 8.0], "最高价": [10.2, 9.6, 9.3, 8.1], "最低价": [9.8, 9.4, 8.9, 7.9],
        "收盘价": [10.0, 9.5, 9.2, 8.0], "前收盘价": [9.9, 10.0, 9.5, 9.2 / 1.1],       # 01-07: 1.1 bonus shares
        "成交量": np.array([1e6, 2e6, 0, 3e6]) * vol_scale, "成交额": [1.0e7, 1.9e7, 0.0, 2.4e7],
        "流通市值": [5e8, 4.75e8, 4.6e8, 4.4e8], "总市值": [1e9, 9.5e8, 9.2e8, 8.8e8]})


def test_per_stock_gbk_csv_with_a_note_line(tmp_path):
    write_csv(tmp_path / "xbx" / "sh600001.csv", xbx_frame(), encoding="gbk", note=NOTE)
    log = ImportLog()
    out = XbxImporter().read(tmp_path / "xbx", log)
    b = out["bars"].frame()
    assert b["date"].dt.strftime("%m-%d").tolist() == ["01-02", "01-03", "01-07"]      # 成交量 0: suspended
    assert b["amount"].tolist() == [1.0e7, 1.9e7, 2.4e7] and b["volume"].tolist() == [1e6, 2e6, 3e6]
    assert b["total_shares"].tolist() == [1e8, 1e8, 1.1e8]                                # 总市值 / 收盘价
    assert np.allclose(b["adj_factor"], [1.0, 1.0, 1.1])                                  # from 前收盘价
    st = out["st"]
    assert st[["kind", "start_date", "end_date"]].astype(str).values.tolist() == [
        ["ST", "2020-01-03", "2020-01-06"], ["delisting", "2020-01-07", "2020-01-07"]]
    inst = out["instruments"].iloc[0]
    assert (inst["symbol"], inst["name"], str(inst["list_date"].date())) == ("600001.SH", "退市甲", "2020-01-02")


def test_flattened_table(tmp_path):
    p = tmp_path / "delisted.parquet"
    pd.DataFrame({"date": pd.to_datetime(["2020-01-02", "2020-01-03"]), "symbol": ["600001.SH"] * 2,
                  "open": [10.0, 10.1], "high": [10.2, 10.3], "low": [9.9, 10.0], "close": [10.1, 10.2],
                  "pre_close": [10.0, 10.1], "volume": [1e6, 1e6], "amount": [1.01e7, 1.02e7],
                  "total_shares": [1e8, 1e8], "float_shares": [5e7, 5e7], "name": ["*ST甲", "*ST甲"]}).to_parquet(p)
    out = XbxImporter().read(p, ImportLog())
    assert out["bars"].frame()["float_shares"].tolist() == [5e7, 5e7]
    assert out["st"]["kind"].tolist() == ["*ST"]


def test_volume_in_lots_is_a_unit_error_naming_file_row_and_column(tmp_path, capsys):
    write_csv(tmp_path / "xbx" / "sh600001.csv", xbx_frame(vol_scale=0.01), note=NOTE)
    code, _, err = run("data", "import", "--source", "xbx", str(tmp_path / "xbx"), "--out", str(tmp_path / "m"),
                       capsys=capsys)
    assert code == 2
    line = one_error(err)
    assert "sh600001.csv row 1 column '成交量'" in line and "looks 100x too small" in line
    assert not (tmp_path / "m").exists()


def test_conflicting_duplicate_rows_are_refused(tmp_path):
    df = xbx_frame()
    df = pd.concat([df, df.iloc[[1]].assign(收盘价=9.6)], ignore_index=True)
    write_csv(tmp_path / "x" / "sh600001.csv", df, note=NOTE)
    with pytest.raises(DataError, match=r"sh600001.csv row 5 column '.*': duplicate \(date, symbol\)"):
        XbxImporter().read(tmp_path / "x", ImportLog())


def test_an_akshare_header_is_a_missing_column_not_a_crash(tmp_path):
    write_csv(tmp_path / "x" / "600001.csv", pd.DataFrame({"日期": ["2020-01-02"], "开盘": [1.0]}))
    with pytest.raises(DataError, match=r"row 0 \(header\) column '股票代码', .*missing; xbx needs"):
        XbxImporter().read(tmp_path / "x", ImportLog())
