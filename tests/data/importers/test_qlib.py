"""qlib binary tree and long table: raw prices to the cent, suspended days, indices as benchmarks."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.base import ImportLog
from ashare_sim.data.importers.qlib import QlibImporter
from tests.data.importers.sources import one_error, read, run, write_qlib

CAL = ["2021-03-01", "2021-03-02", "2021-03-03", "2021-03-04", "2021-03-05"]


def tree(tmp_path, **over):
    f1, f2 = 1.5, 1.65                                # ex-date on day 3: factor rises
    raw = [10.00, 10.20, 9.09, 9.20]                  # SH600000 from day 1 (start index 1)
    fac = [f1, f1, f2, f2]
    adj = [r * f for r, f in zip(raw, fac)]
    series = {
        "SH600000": {"open": adj, "high": [a * 1.01 for a in adj], "low": [a * 0.99 for a in adj], "close": adj,
                     "volume": [1e6, 0.0, 2e6, 3e6], "factor": fac},
        "SH000300": {"close": [4000, 4010, 4020, 4030, 4040], "factor": [1, 1, 1, 1, 1]},
    }
    series.update(over)
    return write_qlib(tmp_path / "qlib", CAL, series, start={"SH600000": 1})


def test_binary_tree_gives_raw_cents_and_leaves_suspended_days_out(tmp_path):
    log = ImportLog()
    out = QlibImporter().read(tree(tmp_path), log)
    bars = out["bars"].frame()
    assert bars["date"].dt.strftime("%Y-%m-%d").tolist() == ["2021-03-02", "2021-03-04", "2021-03-05"]
    assert bars["close"].tolist() == [10.00, 9.09, 9.20]              # volume 0 on 03-03: no row
    assert bars["volume"].tolist() == [1e6, 2e6, 3e6]
    assert np.allclose(bars["adj_factor"], [1.5, 1.65, 1.65])
    assert list(out["bars"].symbols) == ["600000.SH"]                 # the index is not a stock
    assert out["benchmark"]["index"].unique().tolist() == ["000300.SH"]
    assert out["listing"]["list_date"].tolist() == [pd.Timestamp("2021-03-02")]
    assert sum(n for (w, c), n in log.skipped.items() if "suspended" in c) == 1


def test_import_command_with_benchmark_and_lots(tmp_path, capsys):
    src = tree(tmp_path)
    out = tmp_path / "m"
    code, text, err = run("data", "import", "--source", "qlib", str(src), "--out", str(out), "--benchmark",
                          f"qlib:{src}", "--option", "benchmark.index=SH000300", "--option", "source.volume=lots",
                          capsys=capsys)
    assert code == 0, err
    assert read(out, "bars")["volume"].tolist() == [1e8, 2e8, 3e8]
    assert read(out, "benchmark")["close"].tolist() == [4000, 4010, 4020, 4030, 4040]
    assert "3 rows, 1 symbols" in text and "no share counts" in text
    assert run("data", "validate", str(out)) [0] == 0


def test_long_table_reads_raw_cents(tmp_path):
    p = tmp_path / "long.parquet"
    pd.DataFrame({"date": pd.to_datetime(["2021-03-01", "2021-03-02", "2021-03-01"]).date,
                  "symbol": ["SH600000", "SH600000", "SZ399303"], "open_raw_cents": [1000, 1010, 300000],
                  "high_raw_cents": [1010, 1020, 300000], "low_raw_cents": [990, 1000, 300000],
                  "close_raw_cents": [1005, 1015, 300000], "volume": [100, 0, 5], "factor": [1.2, 1.2, 1.0]}
                 ).to_parquet(p)
    out = QlibImporter().read(p, ImportLog())
    b = out["bars"].frame()
    assert b["close"].tolist() == [10.05] and b["adj_factor"].tolist() == [pytest.approx(1.2)]
    assert out["benchmark"]["close"].tolist() == [3000.0]


def test_a_bin_file_past_the_calendar_is_refused_naming_it(tmp_path, capsys):
    src = tree(tmp_path)
    np.array([3, 1, 2, 3, 4], dtype="<f4").tofile(src / "features" / "sh600000" / "close.day.bin")
    code, _, err = run("data", "import", "--source", "qlib", str(src), "--out", str(tmp_path / "m"), capsys=capsys)
    assert code == 2
    assert "sh600000/close.day.bin: starts at calendar index 3 with 4 values, past the calendar's 5 days" in one_error(err)
    assert not (tmp_path / "m").exists() and not list(tmp_path.glob(".m.partial*"))


def test_a_missing_field_names_the_file(tmp_path):
    src = tree(tmp_path)
    (src / "features" / "sh600000" / "factor.day.bin").unlink()
    with pytest.raises(DataError, match=r"sh600000/factor.day.bin: missing; a qlib stock directory needs"):
        QlibImporter().read(src, ImportLog())


def test_a_long_table_row_with_no_stock_code_is_named(tmp_path, capsys):
    p = tmp_path / "long.csv"
    pd.DataFrame({"date": ["2021-03-01", "2021-03-01"], "symbol": ["SH600000", "XX60000"],
                  "open": [10.0, 1.0], "high": [10.0, 1.0], "low": [10.0, 1.0], "close": [10.0, 1.0],
                  "volume": [100, 100], "factor": [1.0, 1.0]}).to_csv(p, index=False)
    code, _, err = run("data", "import", "--source", "qlib", str(p), "--out", str(tmp_path / "m"), capsys=capsys)
    assert code == 2
    assert "long.csv row 2 column 'symbol': 'XX60000' is not a stock or index code" in one_error(err)
