"""A run that cannot mislead: bad --out refused first, nothing mixed or half-written, every dropped target
counted, missing tables said, global flags honoured (CLI tests: exit status, message, what is on disk)."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ashare_sim.cli.main import main
from tests.market_builder import MarketBuilder

ROOT = Path(__file__).resolve().parents[2]
A, B, C = "600000.SH", "000001.SZ", "300001.SZ"


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    b = MarketBuilder(start="2021-01-04", days=60)
    for sym, px in ((A, 10.0), (B, 20.0), (C, 400.0)):
        b.stock(sym, close=[px] * 60)
    b.stock("600004.SH", close=[5.0] * 30, first_day=30, list_date=b.day(30))      # lists on day 30
    return b.write(tmp_path_factory.mktemp("trust") / "market")


def lists(tmp_path, rows):
    p = tmp_path / "lists.csv"
    p.write_text("rebalance_date,symbol,weight\n" + "".join(f"{d},{s},{w}\n" for d, s, w in rows))
    return p


def backtest(market_dir, out, *sets):
    return main(["-q", "backtest", "--out", str(out), "--set", f"data.path={market_dir}",
                 "--set", "backtest.benchmark=none", "--set", "broker.cash=1000000", *sum((["--set", s] for s in sets), [])])


def test_out_is_checked_before_any_work(market_dir, tmp_path, capsys):
    f = tmp_path / "out.txt"
    f.write_text("x")
    started = time.perf_counter()
    assert backtest(tmp_path / "no-market", f) == 2
    assert time.perf_counter() - started < 5                   # refused before loading or scoring anything
    assert "is a file, not a directory" in capsys.readouterr().err
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("x")
    assert backtest(market_dir, foreign) == 2
    assert "not written by this simulator" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["chapter1.tex"]


def test_a_rerun_into_the_same_out_leaves_only_its_own_files(market_dir, tmp_path):
    out = tmp_path / "out"
    t = lists(tmp_path, [("2021-01-11", A, 0.5)])
    assert backtest(market_dir, out, f"strategy.targets_file={t}") == 0
    assert (out / "report.html").exists()
    assert backtest(market_dir, out, f"strategy.targets_file={t}", "output.report=false") == 0
    names = sorted(p.name for p in out.iterdir())
    assert "report.html" not in names                           # the first run's report is gone, not listed
    assert json.loads((out / "run.json").read_text())["files"] == [n for n in names if n != "run.json"]


def test_a_targets_file_sets_the_window_and_every_dropped_target_is_counted(market_dir, tmp_path, capsys):
    out = tmp_path / "out"
    t = lists(tmp_path, [("2021-01-11", A, 0.5), ("2021-01-11", "600004", 0.2),     # not listed yet
                         ("2021-01-11", C, 0.0001),                                   # 100 CNY < 100 x 400
                         ("2021-01-11", B, 0.0)])
    assert main(["backtest", "--out", str(out), "--set", f"data.path={market_dir}", "--set", "backtest.benchmark=none",
                 "--set", "broker.cash=1000000", "--set", f"strategy.targets_file={t}"]) == 0
    err = capsys.readouterr().err
    equity = pd.read_csv(out / "equity.csv")
    assert equity["date"].iloc[0] == "2021-01-11"                # the lists' span, not years of cash before
    m = json.loads((out / "metrics.json").read_text())
    assert {k: v for k, v in m["skipped"].items() if v} == {"not_listed_yet": 1, "below_one_lot": 1,
                                                            "zero_weight": 1}
    assert "gave no order: weight x portfolio value is less than one board lot" in err
    assert "600004.SH on 2021-01-11" in err
    assert m["targets_source"]["kind"] == "file"
    report = (out / "report.html").read_text()
    assert "targets file lists.csv" in report and "Guosen" not in report      # no study column on a file run
    assert "no st table: the universe&#x27;s ST/*ST exclusion" in report
    assert "no st table" in err


def test_rows_outside_an_explicit_window_and_an_empty_file(market_dir, tmp_path):
    out = tmp_path / "out"
    t = lists(tmp_path, [("2021-01-11", A, 0.5), ("2021-03-15", A, 0.5)])
    assert backtest(market_dir, out, f"strategy.targets_file={t}", "backtest.end=2021-02-26") == 0
    assert json.loads((out / "metrics.json").read_text())["skipped"]["outside_window"] == 1
    empty = tmp_path / "empty.csv"
    empty.write_text("rebalance_date,symbol\n")
    before = (out / "metrics.json").read_text()
    assert backtest(market_dir, out, f"strategy.targets_file={empty}") == 2       # not 13 years of cash, exit 0
    assert (out / "metrics.json").read_text() == before


def test_the_summary_states_every_execution_assumption(market_dir, tmp_path, capsys):
    t = lists(tmp_path, [("2021-01-11", A, 0.5)])
    assert backtest(market_dir, tmp_path / "o", f"strategy.targets_file={t}") == 0
    text = capsys.readouterr().out
    for label in ("Deal price", "Slippage", "Volume cap", "Price limits", "Retry", "Commission", "Stamp duty",
                  "Transfer fee", "Dividend tax"):
        assert label in text, label
    assert "the day's VWAP" in text and "square-root impact: 0.3" in text and "10% of the day's volume" in text


def test_global_flags_before_the_command_are_honoured(market_dir, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "--debug", "backtest", "--set", "broker.cash=-1"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "broker.cash" in proc.stderr
    t = lists(tmp_path, [("2021-01-11", A, 0.5)])
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "-q", "backtest", "--out", str(tmp_path / "o"),
                           "--set", f"data.path={market_dir}", "--set", f"strategy.targets_file={t}"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "INFO" not in proc.stderr                            # -q before the command: warnings only


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("ashare-sim ")


def test_a_closed_pipe_ends_quietly(market_dir, tmp_path, monkeypatch, capsys):
    class Gone:
        def write(self, text):
            raise BrokenPipeError

        def flush(self):
            raise BrokenPipeError

    t = lists(tmp_path, [("2021-01-11", A, 0.5)])
    monkeypatch.setattr(sys, "stdout", Gone())
    assert backtest(market_dir, tmp_path / "o", f"strategy.targets_file={t}") == 0
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("where", ["simulation", "writing"])
def test_ctrl_c_leaves_nothing_behind(market_dir, tmp_path, monkeypatch, capsys, where):
    # Ctrl-C in the middle of the simulation, and in the middle of writing the set (the report is written
    # after the CSVs, inside the same staging folder).
    import ashare_sim.backtest.run as engine_run
    from ashare_sim.backtest.strategy import Rebalancer

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "simulation":
        monkeypatch.setattr(Rebalancer, "next", interrupt)
    else:
        monkeypatch.setattr(engine_run, "write_report", interrupt)
    t = lists(tmp_path, [("2021-01-11", A, 0.5)])
    out = tmp_path / "out"
    assert backtest(market_dir, out, f"strategy.targets_file={t}") == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging")]


def test_a_targets_file_run_writes_its_next_list(market_dir, tmp_path):
    t = lists(tmp_path, [("2021-01-11", A, 0.5), ("2021-02-01", B, 0.5), ("2021-03-01", C, 0.5)])
    out = tmp_path / "out"
    assert backtest(market_dir, out, f"strategy.targets_file={t}", "backtest.end=2021-02-26") == 0
    nxt = pd.read_csv(out / "targets_next.csv")
    assert nxt["symbol"].tolist() == [C] and nxt["rebalance_date"].tolist() == ["2021-03-01"]
