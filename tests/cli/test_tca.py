"""`paper tca` (docs/commands.md): bad input is one line and exit 2 with nothing written; a run prints the k
estimate and writes the set, with --backtest the two backtests side by side."""
import datetime as dt
import json

import pytest

import ashare_sim as sim
from ashare_sim.cli.main import main
from tests.conftest import generated_market


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    """(market folder, a backtest's folder) on a 60-stock year."""
    market_dir = generated_market(tmp_path_factory, "tca_cli", stocks=60, start=dt.date(2020, 1, 1),
                                  end=dt.date(2020, 12, 31), seed=3)
    cfg = sim.load_config(overrides={"data.path": str(market_dir)})
    out = tmp_path_factory.mktemp("bt") / "out"
    sim.run_backtest(sim.open_market(cfg), cfg, out=out)
    return market_dir, out


@pytest.mark.parametrize("args,message", [
    ([], "paper tca: give exactly one of --account DB (a paper account's fills) or --trades FILE"),
    (["--account", "a.db", "--trades", "t.csv"], "or --trades FILE (a backtest's trades.csv), not both"),
    (["--trades", "missing.csv"], "--trades missing.csv: no such file; give a backtest's trades.csv"),
    (["--account", "missing.db"], "--account missing.db: no such paper account; `paper plan` creates one"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(backtest, tmp_path, monkeypatch, capsys, args, message):
    market_dir, _ = backtest
    monkeypatch.chdir(tmp_path)
    code = main(["-q", "paper", "tca", *args, "--set", f"data.path={market_dir}", "--out", "report"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_trades_csv_names_the_flag_and_the_columns(backtest, tmp_path, capsys):
    market_dir, out = backtest
    code = main(["-q", "paper", "tca", "--trades", str(out / "orders.csv"), "--set", f"data.path={market_dir}",
                 "--out", str(tmp_path / "report")])
    assert code == 2
    assert f"--trades {out / 'orders.csv'}: not a trades CSV (missing column(s)" in capsys.readouterr().err
    assert not (tmp_path / "report").exists()


def test_a_run_prints_the_estimate_and_with_backtest_both_runs(backtest, tmp_path, capsys):
    market_dir, out = backtest
    report = tmp_path / "report"
    code = main(["-q", "paper", "tca", "--trades", str(out / "trades.csv"), "--set", f"data.path={market_dir}",
                 "--out", str(report), "--backtest"])
    text = capsys.readouterr().out
    assert code == 0, text
    meta = json.loads((report / "tca.json").read_text())
    k = meta["k_estimate"]
    assert f"k estimate     {k['k']:.4f} (95% CI {k['ci_low']:.4f}..{k['ci_high']:.4f}, n {k['n']:,} fills" in text
    assert "configured k   0.3 (sqrt_impact)" in text and "vs decision" in text and "left out: cut_for_cash" in text
    runs = meta["backtest_comparison"]["runs"]
    assert [r["label"] for r in runs] == ["configured k", "estimated k"]
    assert runs[1]["k"] == round(k["k"], 6)
    # The configured run is the backtest the fills came from.
    metrics = json.loads((out / "metrics.json").read_text())
    assert runs[0]["final_value"] == pytest.approx(metrics["final_value"])
    assert runs[0]["slippage"] == pytest.approx(metrics["slippage"])
    assert "backtest, configured k 0.3000" in text and "backtest, estimated k" in text
    assert "tca.html" in text.splitlines()[-1]
