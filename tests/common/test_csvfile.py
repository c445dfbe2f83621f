"""CSV files in the encodings users have: UTF-8 with or without a BOM, GBK / GB18030; anything else is
refused with the fix."""
import pandas as pd
import pytest

from ashare_sim.common.csvfile import read_csv, write_csv
from ashare_sim.common.errors import UserError

TEXT = "symbol,name\n600000.SH,浦发银行\n000001.SZ,平安银行\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_each_encoding_users_save_in_reads_the_same(tmp_path, encoding):
    p = tmp_path / "t.csv"
    p.write_bytes(TEXT.encode(encoding))
    df = read_csv(p, dtype=str)
    assert list(df.columns) == ["symbol", "name"] and df["name"].tolist() == ["浦发银行", "平安银行"]


def test_gbk_first_met_past_the_sampled_head_still_reads(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(("symbol,name\n" + "600000.SH,abc\n" * 10_000 + "000001.SZ,平安银行\n").encode("gbk"))
    assert read_csv(p, dtype=str)["name"].iloc[-1] == "平安银行"


def test_neither_utf8_nor_gbk_is_refused_with_the_fix(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(b"symbol,name\n600000.SH,\xff\xff\xff\xff\xff\xff\xff\n")
    with pytest.raises(UserError, match=r"t\.csv: the targets file is not text in UTF-8, GBK / GB18030 or UTF-16"
                                        r".*save it as CSV UTF-8"):
        read_csv(p, "targets file", dtype=str)


def test_utf16_is_read_and_a_workbook_is_refused_with_the_fix(tmp_path):
    p = tmp_path / "u.csv"
    p.write_bytes("symbol,name\n600000.SH,浦发银行\n".encode("utf-16"))
    assert read_csv(p, "targets file", dtype=str)["name"].tolist() == ["浦发银行"]
    for magic in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        (tmp_path / "w.xlsx").write_bytes(magic + b"\x00" * 64)
        with pytest.raises(UserError, match=r"w\.xlsx: the targets file is an Excel workbook, not text; in Excel, "
                                            r"save it as \"CSV UTF-8\""):
            read_csv(tmp_path / "w.xlsx", "targets file", dtype=str)


def sparse_csv(path, rows=200_000):
    path.write_text("symbol,date,open,high,low,close,volume,amount\n" + ",,,,,,,\n" * rows)
    return path


def test_the_memory_a_sparse_csv_needs_is_estimated_from_its_cells_not_its_bytes(tmp_path):
    """A sparse CSV is a cell per byte: 2 GB of it once took 14.8 GB of memory in validate and import."""
    from ashare_sim.common.csvfile import memory_estimate
    cells, need = memory_estimate(sparse_csv(tmp_path / "bars.csv"))
    assert cells == pytest.approx(1_600_000, rel=0.01)
    assert need > 10 * (tmp_path / "bars.csv").stat().st_size        # ten times the file's size


def test_a_csv_bigger_than_free_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import ashare_sim.common.csvfile as csvfile
    monkeypatch.setattr(csvfile, "CHECKED_FROM_BYTES", 0)
    monkeypatch.setattr(csvfile, "available_memory", lambda: 5_000_000)
    monkeypatch.setattr(csvfile.pd, "read_csv", lambda *a, **k: pytest.fail("read before the check"))
    with pytest.raises(UserError, match=r"bars\.csv: this CSV of 0\.0 GB holds about 2 million cells, which need "
                                        r"about 0\.0 GB of memory to read; 0\.0 GB is free\. Keep only"):
        read_csv(sparse_csv(tmp_path / "bars.csv"))


def test_validate_and_import_refuse_it_with_exit_2_and_write_nothing(tmp_path, monkeypatch, capsys):
    import ashare_sim.common.csvfile as csvfile
    from ashare_sim.cli.main import main
    monkeypatch.setattr(csvfile, "CHECKED_FROM_BYTES", 0)
    monkeypatch.setattr(csvfile, "available_memory", lambda: 5_000_000)
    market = tmp_path / "m"
    market.mkdir()
    sparse_csv(market / "bars.csv")
    assert main(["data", "validate", str(market)]) == 2
    assert "[schema] bars.csv: this CSV of 0.0 GB holds about 2 million cells" in capsys.readouterr().out
    source = tmp_path / "xbx"
    source.mkdir()
    (source / "sh600001.csv").write_text("股票代码,交易日期,开盘价,最高价,最低价,收盘价,成交量,成交额\n"
                                         + ",,,,,,,\n" * 200_000)
    assert main(["data", "import", "--source", "xbx", str(source), "--out", str(tmp_path / "out")]) == 2
    assert "sh600001.csv: this CSV" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _frames():
    import datetime as dt

    import numpy as np

    rng = np.random.default_rng(4)
    n = 400
    floats = rng.normal(0, 1, n) * 10.0 ** rng.integers(-9, 18, n)
    floats[::17] = np.nan
    floats[1:4] = [0.0, -0.0, np.inf]
    yield "the shapes a run's logs have", pd.DataFrame({
        "date": [dt.date(2020, 1, 1) + dt.timedelta(days=int(i)) for i in range(n)],
        "symbol": pd.array([f"{600000 + i}.SH" for i in range(n)], dtype="string"),
        "qty": rng.integers(-10**9, 10**9, n), "price": np.round(rng.random(n) * 100, 2), "f": floats,
        "ok": rng.random(n) < 0.5, "reason": pd.array([None if i % 5 else "cash" for i in range(n)], dtype="string"),
        "mixed": [None if i % 3 == 0 else (1.5 if i % 3 == 1 else "x") for i in range(n)],
        # values that repeat (each is formatted once): signed zeros apart, text with gaps, and equal-hashing
        # objects of different types (1, True, 1.0) that must keep their own texts
        "repeats": np.tile([0.0, -0.0, 0.1, np.nan, 1e-7], n // 5),
        "side": pd.array([None if i % 7 == 0 else ("buy" if i % 2 else "sell") for i in range(n)], dtype="str"),
        "few": np.tile([3, -3, 10**12], n // 3 + 1)[:n],
        "equal_hashes": [(1, True, 1.0, "a")[i % 4] for i in range(n)]})
    yield "no rows", pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)})
    yield "text that needs quotes", pd.DataFrame({"a": ["x,y", 'say "hi"', "two\nlines"], "b": [1, 2, 3]})
    yield "a column name that needs quotes", pd.DataFrame({"a,b": [1.0], "c": [2]})
    yield "types left to pandas", pd.DataFrame({
        "t": pd.to_datetime(["2020-01-01", "2020-01-02"]), "f32": np.array([0.1, 0.2], dtype=np.float32),
        "nullable": pd.array([1, None], dtype="Int64"), "x": [np.float64(0.1), np.float64(0.2)]})
    yield "one column", pd.DataFrame({"a": ["", "x"]})


@pytest.mark.parametrize("name,frame", list(_frames()), ids=[name for name, _ in _frames()])
def test_our_csv_writer_writes_what_pandas_writes_to_the_byte(tmp_path, monkeypatch, name, frame):
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    write_csv(frame, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    left_to_pandas = []
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, *a, **k: left_to_pandas.append(1))
    write_csv(frame, tmp_path / "again.csv")
    assert bool(left_to_pandas) == (name not in ("the shapes a run's logs have", "no rows"))
