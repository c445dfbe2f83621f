"""CLI contract (docs/commands.md): exit status 2 with one line for user errors, no tracebacks."""
import subprocess
import sys
from pathlib import Path

from ashare_sim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_bad_config_value_is_one_line_and_exit_2():
    proc = run_cli("backtest", "--set", "broker.volume_cap=1.5")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: config key 'broker.volume_cap': got 1.5; must be <= 1"]
    assert "Traceback" not in proc.stderr


def test_no_command_means_backtest_and_reads_config():
    proc = run_cli("--set", "brokr.cash=1")
    assert proc.returncode == 2
    assert "did you mean 'broker'" in proc.stderr


def test_debug_shows_the_traceback():
    proc = run_cli("backtest", "--debug", "--set", "broker.cash=-1")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_missing_config_file(tmp_path):
    proc = run_cli("backtest", "-c", str(tmp_path / "none.yaml"))
    assert proc.returncode == 2 and "no such config file" in proc.stderr


def test_usage_errors_exit_2(capsys):
    assert main(["data", "generate"]) == 2            # --out is required
    assert main(["backtest", "--bogus"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_generate_rejects_bad_arguments(capsys, tmp_path):
    assert main(["data", "generate", "--out", str(tmp_path / "x"), "--start", "2020-13-01"]) == 2
    assert "--start" in capsys.readouterr().err
    assert main(["data", "generate", "--out", str(tmp_path / "x"), "--start", "2020-01-01", "--end", "2019-01-01"]) == 2
    assert "is not after" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_global_flags_may_stand_before_a_command(tmp_path, capsys):
    assert main(["-q", "data", "validate", str(tmp_path / "nope")]) == 2
    assert "no such data directory" in capsys.readouterr().err
    assert main(["-q", "--set", "brokr.cash=1"]) == 2            # still a backtest without a command
    assert "did you mean 'broker'" in capsys.readouterr().err


def test_a_leading_quiet_flag_is_not_lost_to_the_subcommand(tmp_path, capsys):
    from tests.market_builder import MarketBuilder

    b = MarketBuilder(start="2021-01-04", days=5)
    b.stock("600001.SH", close=[10.0] * 5)
    directory = b.write(tmp_path / "m")
    # loading logs INFO lines before the window is found empty; -q before the command silences them
    assert main(["-q", "backtest", "--set", f"data.path={directory}", "--set", "backtest.start=2030-01-01",
                 "--set", "backtest.end=2030-12-31", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert " INFO " not in err
    assert err.strip().splitlines()[-1].startswith("error: backtest.start 2030-01-01")


def test_data_import_refuses_a_missing_source_path(tmp_path, capsys):
    assert main(["data", "import", "--source", "qlib", str(tmp_path / "src"), "--out", str(tmp_path / "o")]) == 2
    assert "src: no such file or directory" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_global_quiet_flag_before_the_command_silences_info_logs(tmp_path):
    from tests.market_builder import MarketBuilder

    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock("600000.SH", close=[10.0, 10.1, 10.2])
    d = b.write(tmp_path / "m")
    proc = run_cli("-q", "data", "validate", str(d))
    assert proc.returncode == 0 and "INFO" not in proc.stderr
