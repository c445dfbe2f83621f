"""`run.py stress` end to end on a small generated market: exit status, messages, files on disk, resuming,
a failing scenario, and the same results from a local process pool and a Dask cluster."""
import contextlib
import io
import json
import re
import time

import pandas as pd
import pytest

from ashare_sim.cli.main import main
from tests.cli.test_main import run_cli

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")

SPEC_COLUMNS = ["annual_return", "excess_annual_return", "information_ratio", "max_drawdown", "annual_turnover",
                "total_costs"]
COMPARED = ["scenario", "broker.slippage.bps", "broker.volume_cap", *SPEC_COLUMNS, "participation_p95",
            "blocked_volume_cap", "status"]


@pytest.fixture(scope="module")
def market_dir(stress_market_dir):
    return stress_market_dir


def sets(market_dir, *extra, report=False):
    # report.html costs ~1 s a scenario in charts: only the first run writes it
    return ["--set", f"data.path={market_dir}", "--set", f"output.report={str(report).lower()}", "--set", "strategy.top_n=8", "--set", "broker.cash=5e7",
            "--set", "strategy.factors.ic_min_periods=4", "--set", "strategy.factors.ic_window=6", *extra]


def write(path, text):
    path.write_text(text)
    return path


def run(*argv):
    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = main(list(argv))
    return code, printed.getvalue(), errors.getvalue()


GRID = "axes:\n  broker.slippage.bps: [0, 40]\n  broker.volume_cap: [null, 0.05]\nbase: {broker.slippage.model: fixed_bps}\n"


def test_a_bad_grid_is_exit_2_and_one_line_before_anything_runs(market_dir, tmp_path):
    bad = write(tmp_path / "bad.yaml", "axes:\n  broker.volume_cap: [0.1, 2]\n")
    proc = run_cli("stress", "--grid", str(bad), "--out", str(tmp_path / "o"), *sets(market_dir))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad}: axes broker.volume_cap[1] = 2: config key 'broker.volume_cap': got 2.0; must be <= 1"]
    assert not (tmp_path / "o").exists()
    for text, message in [("axes:\n  broker.crowd: []\n", "axes broker.crowd: the list is empty"),
                          ("scenarios:\n  - {name: x, broker.nope: 1}\n", "scenarios[0] (x): config key 'broker.nope'"),
                          ("axes: {broker.crowd: [1]}\nscenarios: [{name: a}]\n", "not both"),
                          ("{{{", "not valid YAML")]:
        code, _, err = run("stress", "--grid", str(write(bad, text)), "--out", str(tmp_path / "o"), *sets(market_dir))
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    code, _, err = run("stress", "--grid", str(write(bad, GRID)), "--out", str(tmp_path / "o"), "--workers", "0",
                       *sets(market_dir))
    assert code == 2 and "--workers 0: give at least 1" in err
    code, _, err = run("stress", "--grid", str(bad), "--out", str(tmp_path / "o"), "--episodes", "nope.yaml",
                       *sets(market_dir))
    assert code == 2 and "--episodes nope.yaml: no such file" in err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, _, err = run("stress", "--grid", str(bad), "--out", str(foreign), *sets(market_dir))
    assert code == 2 and "not written by this simulator" in err
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def first_run(market_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stress_run")
    grid = write(folder / "grid.yaml", GRID)
    out = folder / "out"
    code, printed, err = run("stress", "--grid", str(grid), "--out", str(out), "--workers", "1",
                             *sets(market_dir, report=True))
    assert code == 0, err
    return grid, out, printed


def test_files_on_disk_and_the_printed_tables(first_run):
    grid, out, printed = first_run
    table = pd.read_csv(out / "stress.csv")
    assert list(table.columns[:3 + len(SPEC_COLUMNS)]) == ["scenario", "broker.slippage.bps", "broker.volume_cap",
                                                            *SPEC_COLUMNS]
    assert {"blocked_limit_up", "blocked_limit_down", "blocked_suspended", "blocked_volume_cap", "commission",
            "stamp_duty", "transfer_fee", "slippage", "participation_mean", "participation_p95", "status",
            "error"} <= set(table.columns)
    assert list(table["scenario"]) == ["bps=0,volume_cap=none", "bps=0,volume_cap=0.05", "bps=40,volume_cap=none",
                                       "bps=40,volume_cap=0.05"]
    assert (table["status"] == "ok").all() and not table["reused"].any()
    for name in table["scenario"]:
        folder = out / "scenarios" / name
        assert {"metrics.json", "equity.csv", "orders.csv", "trades.csv", "report.html", "run.json"} <= \
            {p.name for p in folder.iterdir()}
        run_json = json.loads((folder / "run.json").read_text())
        assert run_json["stress"]["scenario"] == name and len(run_json["stress"]["inputs"]) == 20
    episodes = pd.read_csv(out / "episodes.csv", keep_default_na=False)
    crash = episodes[(episodes["episode"] == "2015 crash")]
    assert len(crash) == 4 and (crash["skipped"] == "").all()
    assert episodes[episodes["episode"] == "2024 micro-cap liquidity crisis"]["skipped"].str.startswith(
        "outside the market's dates").all()
    page = (out / "stress.html").read_text()
    assert not re.search(r"(src|href)=\"https?://", page)
    assert page.count("data:image/png;base64,") >= 3            # the two axes and the episodes
    for heading in ("Scenarios", "Each metric against each axis", "Historical episodes"):
        assert heading in page
    assert "stress grid" in printed and "bps=40,volume_cap=0.05" in printed and "2015 crash" in printed
    assert json.loads((out / "stress.json").read_text())["status"] == "complete"


def test_a_second_run_reuses_finished_scenarios_and_runs_only_what_changed(first_run, market_dir):
    grid, out, _ = first_run
    stamp = (out / "scenarios" / "bps=0,volume_cap=none" / "metrics.json").stat().st_mtime_ns
    code, printed, _ = run("stress", "--grid", str(grid), "--out", str(out), "--workers", "1",
                           *sets(market_dir, report=True))
    assert code == 0 and "0 ran, 4 reused" in printed
    assert (out / "scenarios" / "bps=0,volume_cap=none" / "metrics.json").stat().st_mtime_ns == stamp
    # one axis value replaced: its two scenarios run, the other two are reused, the dropped ones' folders go
    write(grid, GRID.replace("[0, 40]", "[0, 20]"))
    code, printed, _ = run("stress", "--grid", str(grid), "--out", str(out), "--workers", "1",
                           *sets(market_dir, report=True))
    assert code == 0 and "2 ran, 2 reused" in printed
    assert sorted(p.name for p in (out / "scenarios").iterdir()) == [
        "bps=0,volume_cap=0.05", "bps=0,volume_cap=none", "bps=20,volume_cap=0.05", "bps=20,volume_cap=none"]
    # another config for the same grid: nothing is reused
    code, printed, _ = run("stress", "--grid", str(grid), "--out", str(out), "--workers", "1",
                           *sets(market_dir, "--set", "broker.commission.rate=0.001"))
    assert code == 0 and "4 ran, 0 reused" in printed


def test_a_failing_scenario_is_recorded_and_the_grid_goes_on(market_dir, tmp_path):
    grid = write(tmp_path / "g.yaml", "scenarios:\n  - {name: base}\n  - {name: lists, strategy.targets_file: none.csv}\n")
    code, printed, err = run("stress", "--grid", str(grid), "--out", str(tmp_path / "o"), "--workers", "1",
                             "--episodes", "none", *sets(market_dir))
    assert code == 1
    table = pd.read_csv(tmp_path / "o" / "stress.csv", keep_default_na=False).set_index("scenario")
    assert table.loc["base", "status"] == "ok"
    assert table.loc["lists", "status"] == "failed"
    assert "none.csv: targets file not found" in table.loc["lists", "error"]
    assert "1 of 2 scenarios failed" in err and "failed: " in printed
    assert not (tmp_path / "o" / "scenarios" / "lists").exists()


def test_dask_cluster_gives_the_process_pools_results(market_dir, tmp_path):
    distributed = pytest.importorskip("distributed")
    grid = write(tmp_path / "g.yaml", "axes:\n  broker.slippage.bps: [0, 40]\n  broker.volume_cap: [0.05]\n"
                                      "base: {broker.slippage.model: fixed_bps}\n")
    proc = run_cli("stress", "-q", "--grid", str(grid), "--out", str(tmp_path / "pool"), "--workers", "2",
                   "--episodes", "none", *sets(market_dir))
    assert proc.returncode == 0, proc.stderr
    assert "on 2 local worker processes" in proc.stdout
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, protocol="tcp",
                                  host="127.0.0.1") as cluster:
        code, printed, err = run("stress", "-q", "--grid", str(grid), "--out", str(tmp_path / "dask"),
                                 "--scheduler", cluster.scheduler_address, "--episodes", "none", *sets(market_dir))
    assert code == 0, err
    assert "on Dask scheduler tcp://127.0.0.1" in printed
    compared = [c for c in COMPARED if c != "broker.volume_cap"]
    pool = pd.read_csv(tmp_path / "pool" / "stress.csv")[compared]
    dask = pd.read_csv(tmp_path / "dask" / "stress.csv")[compared]
    pd.testing.assert_frame_equal(pool, dask)


def test_a_cluster_without_workers_is_refused_not_waited_on_for_ever(market_dir, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    from ashare_sim.stress import runner

    monkeypatch.setattr(runner, "NO_WORKERS_SECONDS", 2.0)
    grid = write(tmp_path / "g.yaml", "scenarios:\n  - {name: a}\n")
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None, protocol="tcp",
                                  host="127.0.0.1") as cluster:
        started = time.monotonic()
        code, printed, err = run("stress", "-q", "--grid", str(grid), "--out", str(tmp_path / "s"),
                                 "--scheduler", cluster.scheduler_address, "--episodes", "none", *sets(market_dir))
    assert code == 2 and "the scheduler has no workers (waited 2 s)" in err
    assert time.monotonic() - started < 60


def test_pool_workers_die_with_their_parent(tmp_path):
    import signal
    import subprocess
    import sys

    # A parent (like a killed `stress`) starts the pool, records its workers' pids, and is killed -9.
    code = ("import os, sys, time\n"
            "from ashare_sim.stress.runner import PoolRunner\n"
            "r = PoolRunner(2)\n"
            "futs = [r.submit(time.sleep, 0.1) for _ in range(2)]\n"
            "[f.result() for f in futs]\n"
            "print(' '.join(str(p) for p in r.pool._processes), flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]
        time.sleep(0.1)
    assert not alive, f"workers {alive} outlived their killed parent"



def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                                   # a zombie waiting for init to reap it is gone for our purpose
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_a_grid_runs_a_rebalance_function_and_its_error_is_one_message(market_dir, tmp_path):
    grid = write(tmp_path / "g.yaml", "axes:\n  broker.slippage.bps: [0, 30]\nbase: {broker.slippage.model: fixed_bps}\n")
    write(tmp_path / "mine.py", "def top(view):\n    return view.scores().to_frame()\n")
    code, printed, _ = run("stress", "-q", "--grid", str(grid), "--out", str(tmp_path / "ok"), "--workers", "1",
                           "--episodes", "none", *sets(market_dir, "--set", f"strategy.function={tmp_path}/mine.py:top"))
    assert code == 0 and "2 scenarios (2 ran" in printed
    table = pd.read_csv(tmp_path / "ok" / "stress.csv")
    assert (table["status"] == "ok").all() and table["annual_return"].iloc[0] > table["annual_return"].iloc[1]
    write(tmp_path / "bad.py", "def top(view):\n    raise ValueError('boom')\n")
    code, _, err = run("stress", "-q", "--grid", str(grid), "--out", str(tmp_path / "bad"), "--workers", "1",
                       "--episodes", "none", *sets(market_dir, "--set", f"strategy.function={tmp_path}/bad.py:top"))
    assert code == 2 and err.count("error:") == 1 and "bad.py\", line 2, in top" in err and "ValueError: boom" in err
    assert not (tmp_path / "bad").exists()
