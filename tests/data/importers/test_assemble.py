"""A market from several sources: which one wins, what is filled, what is counted and said."""
import json

import pandas as pd
import pytest

from tests.data.importers.sources import one_error, read, run, write_csv, write_qlib

CAL = ["2021-03-01", "2021-03-02", "2021-03-03", "2021-03-04"]


@pytest.fixture
def market(tmp_path):
    flat = {"open": [10.0] * 4, "high": [10.5] * 4, "low": [9.5] * 4, "close": [10.0] * 4,
            "volume": [1e6] * 4, "factor": [1.0] * 4}
    q = write_qlib(tmp_path / "q", CAL, {"SH600001": flat, "SZ000002": flat, "SH000905": flat})
    x = tmp_path / "x.parquet"                        # a second bar source: 000002 overlaps, 600003 is new
    pd.DataFrame({"date": pd.to_datetime(["2021-03-04", "2021-03-01", "2021-03-02"]),
                  "symbol": ["000002.SZ", "600003.SH", "600003.SH"], "open": [20.0, 5.0, 5.1],
                  "high": [20.0, 5.2, 5.2], "low": [20.0, 4.9, 5.0], "close": [20.0, 5.1, 5.1],
                  "pre_close": [20.0, 5.0, 5.1], "volume": [1e5, 2e5, 2e5], "amount": [2e6, 1.02e6, 1.02e6],
                  "total_shares": [1e9, 3e8, 3e8], "float_shares": [5e8, 1e8, 1e8],
                  "name": ["乙", "丙", "*ST丙"]}).to_parquet(x)
    write_csv(tmp_path / "amount.csv", pd.DataFrame({"symbol": ["600001.SH", "600001.SH", "600001.SH"],
                                                     "date": ["2021-03-01", "2021-03-02", "2021-02-26"],
                                                     "amount": [1.1e7, 1.2e7, 9e6]}))
    write_csv(tmp_path / "shares.csv", pd.DataFrame({"symbol": ["600001.SH", "600001.SH"],
                                                     "date": ["2020-01-02", "2021-03-03"],
                                                     "total_shares": [1e8, 2e8], "float_shares": [5e7, 6e7]}))
    pd.DataFrame({"symbol": ["600001.SH", "600001.SH", "600001.SH", "600099.SH"],
                  "period_end": pd.to_datetime(["2020-12-31", "2020-09-30", "2020-06-30", "2020-12-31"]),
                  "ann_date": pd.to_datetime(["2021-03-02", None, "1900-01-01", "2021-03-01"]),
                  "net_profit_parent_ytd": [1e8, 7e7, 4e7, 1.0], "total_equity_parent": [1e9] * 4,
                  "revenue_ytd": [1e9] * 4, "share_capital": [1e8] * 4}).to_parquet(tmp_path / "em.parquet")
    (tmp_path / "listing.txt").write_text("SH600001\t2005-04-08\t2025-08-06\nSH600003\t1999-01-01\t2021-03-02\n"
                                          "SZ000002\t2005-04-08\t2025-08-06\n")
    return tmp_path, q


def imp(tmp, q, *extra, capsys):
    return run("data", "import", "--source", "qlib", str(q), "--out", str(tmp / "m"),
               "--bars", f"xbx:{tmp / 'x.parquet'}", "--amount", str(tmp / "amount.csv"),
               "--shares", str(tmp / "shares.csv"), "--fundamentals", f"eastmoney:{tmp / 'em.parquet'}",
               "--listing", f"qlib:{tmp / 'listing.txt'}", *extra, capsys=capsys)


def test_sources_merge_with_every_choice_said(market, capsys):
    tmp, q = market
    code, text, err = imp(tmp, q, "--benchmark", f"qlib:{q}", "--option", "benchmark.index=SH000905", capsys=capsys)
    assert code == 0, err
    out = tmp / "m"
    bars = read(out, "bars")
    assert len(bars) == 4 + 4 + 2                                        # the main source wins on 000002 03-04
    b2 = bars[bars.symbol == "000002.SZ"]
    assert b2["close"].tolist() == [10.0] * 4
    a = bars[bars.symbol == "600001.SH"].set_index("date")
    assert a["amount"].tolist()[:2] == [1.1e7, 1.2e7]                    # from the amount table
    assert a["amount"].tolist()[2:] == [1e6 * (10.5 + 9.5 + 10.0) / 3] * 2   # estimated (and said)
    assert a["total_shares"].tolist() == [1e8, 1e8, 2e8, 2e8]             # change points carried forward
    assert bars.loc[bars.symbol == "600003.SH", "total_shares"].tolist() == [3e8, 3e8]   # the source's own
    inst = read(out, "instruments").set_index("symbol")
    assert str(inst.loc["600001.SH", "list_date"]) == "2005-04-08"        # earliest a source knows
    assert str(inst.loc["600003.SH", "delist_date"]) == "2021-03-02"
    assert inst.loc["600003.SH", "name"] == "*ST丙" and inst.loc["600001.SH", "name"] == "600001.SH"
    assert read(out, "st")["kind"].tolist() == ["*ST"]                   # from the xbx names
    f = read(out, "fundamentals")
    assert f["net_profit"].tolist() == [1e8]
    assert read(out, "benchmark")["index"].unique().tolist() == ["000905.SH"]
    for needle in ("1  fundamentals: no ann_date", "1  fundamentals: ann_date before period_end",
                   "1  fundamentals: symbol has no bars", "1  /", "already given by an earlier bar source",
                   "amount estimated as volume x (high+low+close)/3 for 6 bars", "no dividends (add --dividends)"):
        assert needle in text, needle
    stamp = json.loads((out / "import.json").read_text())
    assert stamp["plan"]["source"] == "qlib" and stamp["plan"]["shares"][0]["source"] == "table"
    assert run("data", "validate", str(out))[0] == 0


def test_an_unknown_index_fails_after_reading_and_leaves_nothing(market, capsys):
    tmp, q = market
    code, _, err = imp(tmp, q, "--benchmark", f"qlib:{q}", "--option", "benchmark.index=SH000300", capsys=capsys)
    assert code == 2
    assert "index 'SH000300' is not in" in one_error(err) and "it has 000905.SH" in err
    assert not (tmp / "m").exists() and not list(tmp.glob(".m.*"))


def test_a_previous_import_is_replaced_only_when_asked(market, capsys):
    tmp, q = market
    assert imp(tmp, q, capsys=capsys)[0] == 0
    before = (tmp / "m" / "bars.parquet").stat().st_mtime_ns
    code, _, err = imp(tmp, q, capsys=capsys)
    assert code == 2 and "holds a previous import; add --replace" in one_error(err)
    assert (tmp / "m" / "bars.parquet").stat().st_mtime_ns == before
    code, _, err = imp(tmp, q, "--replace", "--start", "2021-03-02", capsys=capsys)
    assert code == 0, err
    assert str(read(tmp / "m", "bars")["date"].min()) == "2021-03-02"
    assert not list(tmp.glob(".m.*"))


def test_output_through_head_is_not_an_error(market):
    import subprocess
    import sys
    from pathlib import Path

    tmp, q = market
    root = Path(__file__).resolve().parents[3]
    cmd = (f"{sys.executable} {root / 'run.py'} -q data import --source qlib {q} --out {tmp / 'm'} | head -2")
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120)
    assert proc.stdout.count("\n") == 2 and "Traceback" not in proc.stderr and "Error" not in proc.stderr
    assert (tmp / "m" / "import.json").exists()


def test_a_main_source_file_without_bars_is_named(tmp_path, capsys):
    p = write_csv(tmp_path / "dividend.csv", pd.DataFrame({"ts_code": ["600001.SH"], "div_proc": ["实施"],
                                                           "ex_date": ["20190305"], "cash_div_tax": [0.1]}))
    code, _, err = run("data", "import", "--source", "tushare", str(p), "--out", str(tmp_path / "m"), capsys=capsys)
    assert code == 2
    assert "gave no bars (it gave dividends); the main source must hold the daily bars" in one_error(err)
    assert not (tmp_path / "m").exists()
