"""Tables in our own column names, and the Shenwan industry history."""
import pandas as pd
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.base import ImportLog
from ashare_sim.data.importers.shenwan import ShenwanImporter
from ashare_sim.data.importers.table import TableImporter
from tests.data.importers.sources import write_csv


def test_a_table_is_read_in_our_names_with_symbols_normalised(tmp_path):
    p = write_csv(tmp_path / "st.csv", pd.DataFrame({"symbol": ["sh600001", "000002"], "start_date": ["20200102", "2020-03-01"],
                                                     "end_date": ["2020-06-30", None], "kind": ["ST", "*ST"]}))
    st = TableImporter(kind="st").read(p, ImportLog())["st"]
    assert st["symbol"].tolist() == ["600001.SH", "000002.SZ"]
    assert st["start_date"].tolist() == [pd.Timestamp("2020-01-02"), pd.Timestamp("2020-03-01")]
    assert st["end_date"].isna().tolist() == [False, True]


def test_a_bad_code_names_row_and_column(tmp_path):
    p = write_csv(tmp_path / "amount.csv", pd.DataFrame({"symbol": ["600001.SH", "ABC"], "date": ["2020-01-02"] * 2,
                                                         "amount": [1.0, 2.0]}))
    with pytest.raises(DataError, match=r"amount.csv row 2 column 'symbol': 'ABC' is not a stock code"):
        TableImporter(kind="amount").read(p, ImportLog())


def test_shenwan_level1_names_and_history(tmp_path):
    hist = write_csv(tmp_path / "industry_sw_history.csv", pd.DataFrame({
        "symbol": ["000001.SZ", "000001.SZ", "600001.SH"],
        "start_date": ["2014-01-01 00:00:00", "2021-07-30 00:00:00", "2010-01-01 00:00:00"],
        "industry_code": ["480101", "480301", "210101"]}))
    write_csv(tmp_path / "industry_sw2021_codes.csv", pd.DataFrame({
        "行业代码": ["480000", "480300", "480301"], "一级行业名称": ["银行", "银行", "银行"],
        "二级行业名称": [None, "农商行", "农商行"], "三级行业名称": [None, None, "农商行Ⅲ"]}))
    log = ImportLog()
    h = ShenwanImporter().read(hist, log)["industry_history"]
    assert h["industry"].tolist() == ["银行", "银行", None]          # SW2014 group 21 (采掘) has no SW2021 name
    assert any("older Shenwan scheme" in n for n in log.notes)
