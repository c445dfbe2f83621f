"""`run.py stress --scheduler` when things go wrong, on a real loopback cluster (`dask scheduler` and
`dask worker` processes on 127.0.0.1): Ctrl-C stops the scenarios running on the workers and nothing is
written into --out after the command has exited; a worker killed mid-grid costs nothing but time (its
scenario runs again on the other worker, results equal to the local pool's)."""
from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
import pytest

from ashare_sim.common.outdir import read_manifest

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).with_name("dask")
TOPIC = "ashare-sim-stress"          # what the workers report scenarios starting and stopping on (stress.runner)
GRID = "axes:\n  broker.slippage.bps: [0, 10, 20, 30]\nbase: {broker.slippage.model: fixed_bps}\n"
NAMES = [f"bps={b}" for b in (0, 10, 20, 30)]
TIMING = ["seconds", "reused"]       # stress.csv columns that differ between equal runs


@pytest.fixture(autouse=True)
def _needs_dask():
    pytest.importorskip("distributed")
    if not DASK.exists():
        pytest.skip("no dask command beside this interpreter")


def sets(market_dir: Path, tmp_path: Path, report: bool = True) -> list[str]:
    # A rebalance function turning the book over every day makes each scenario take ~2 s on the small market
    # (~3 s with the report): long enough to be caught running.
    (tmp_path / "daily.py").write_text(
        "def top(view):\n"
        "    pool = sorted(view.pool())\n"
        "    k = view.date.toordinal() % len(pool)\n"
        "    return {s: 1 / 20 for s in (pool[k:] + pool[:k])[:20]}\n")
    return ["--episodes", "none", "--set", f"data.path={market_dir}", "--set", f"output.report={str(report).lower()}",
            "--set", "strategy.top_n=30", "--set", "strategy.rebalance=daily",
            "--set", f"strategy.function={tmp_path / 'daily.py'}:top", "--set", "broker.cash=5e7",
            "--set", "strategy.factors.ic_min_periods=4", "--set", "strategy.factors.ic_window=6"]


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@contextlib.contextmanager
def cluster(tmp_path: Path, workers: int = 2) -> Iterator[tuple[object, list[subprocess.Popen]]]:
    """A scheduler and `workers` single-threaded workers without nannies (a killed worker stays dead), all on
    127.0.0.1; yields a Client to it and the worker processes."""
    from distributed import Client

    address_file = tmp_path / "scheduler.json"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, start_new_session=True)
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                               "127.0.0.1:0", "--no-dashboard", "--scheduler-file", str(address_file)], **quiet)]
    client = None
    try:
        wait_for(address_file.exists, 60, "the scheduler's address file", every=0.2)
        for i in range(workers):
            procs.append(subprocess.Popen(
                [str(DASK), "worker", "--scheduler-file", str(address_file), "--host", "127.0.0.1",
                 "--dashboard-address", "127.0.0.1:0", "--no-dashboard", "--nthreads", "1", "--no-nanny",
                 "--local-directory", str(tmp_path / f"worker{i}")], **quiet))
        client = Client(scheduler_file=str(address_file), timeout="30s")
        client.wait_for_workers(workers, timeout=60)
        yield client, procs[1:]
    finally:
        if client is not None:
            client.close()
        for p in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


def stress(tmp_path: Path, name: str, *argv: str) -> tuple[subprocess.Popen, Path, Path]:
    """`run.py stress` started in the background; its stdout and stderr go to files (no pipe to fill)."""
    out, err = tmp_path / f"{name}.stdout", tmp_path / f"{name}.stderr"
    with open(out, "w") as o, open(err, "w") as e:
        proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "stress", *argv], stdout=o, stderr=e,
                                cwd=ROOT, preexec_fn=_interruptible)
    return proc, out, err


def _interruptible() -> None:
    # A test run started in the background of a shell ignores SIGINT, and so would the command (Python keeps
    # an ignored SIGINT ignored): give it back the default, as a terminal's foreground job has it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def reports(client) -> list[dict]:
    return [msg for _, msg in client.get_events(TOPIC) if isinstance(msg, dict)]


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under `folder`, hidden ones included, with its size and modification time."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


def test_ctrl_c_stops_the_scenarios_on_the_workers_and_nothing_is_written_after_exit(stress_market_dir, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    out = tmp_path / "out"
    with cluster(tmp_path) as (client, _):
        proc, _, err = stress(tmp_path, "run", "--grid", str(grid), "--out", str(out), "--scheduler",
                              client.scheduler.address, *sets(stress_market_dir, tmp_path))
        try:
            wait_for(lambda: any(m["state"] == "started" for m in reports(client)) or proc.poll() is not None, 90,
                     "a scenario to start on a worker")
            assert proc.poll() is None, err.read_text()
            started = {m["scenario"] for m in reports(client) if m["state"] == "started"}
            proc.send_signal(signal.SIGINT)
            sent = time.monotonic()
            proc.wait(timeout=30)
            exited = time.monotonic()
        finally:
            if proc.poll() is None:
                proc.kill()
        text = err.read_text()
        assert proc.returncode == 130, text
        assert exited - sent < 10, f"{exited - sent:.1f} s from SIGINT to exit"
        message = next(line for line in text.splitlines() if "interrupted: " in line)
        assert "cancelled on the Dask cluster" in message, message
        for name in started:                   # each one said to be kept, or stopped with nothing written
            assert re.search(rf"[(\s]{re.escape(name)}[,)]", message), (name, message)
        at_exit = listing(out)

        # The workers were told to stop: every scenario that started reports stopping (or having finished).
        def settled() -> bool:
            last: dict[str, str] = {}
            for m in reports(client):
                last[m["attempt"]] = m["state"]
            return bool(last) and all(state != "started" for state in last.values())

        wait_for(settled, 30, "the started scenarios to stop on their workers")
        # Those seen starting (~0.1 s before SIGINT; a scenario takes ~3 s) were stopped, not run to the end
        # (or, on a machine slow enough to let one finish first, kept).
        stopped = {m["scenario"] for m in reports(client) if m["state"] == "stopped"}
        kept = message.split("; the other")[0]
        for name in started:
            assert name in stopped or re.search(rf"[(\s]{re.escape(name)}[,)]", kept), (name, stopped, text)
        if stopped:
            assert "then stopped on the workers with nothing written" in message, message
        # ~15 s more (the scenarios took ~2 s each): nothing appears, changes or goes in --out
        deadline = exited + 15
        while time.monotonic() < deadline:
            assert listing(out) == at_exit
            time.sleep(0.5)
    assert listing(out) == at_exit
    folders = list((out / "scenarios").iterdir()) if (out / "scenarios").is_dir() else []
    assert not [p.name for p in folders if p.name.startswith(".")]              # no staging folder left
    for p in folders:                                                            # every folder kept is whole
        assert p.name in NAMES and (p / "metrics.json").is_file()
        files = sorted(q.name for q in p.iterdir() if q.name != "run.json")
        assert sorted(read_manifest(p, "run.json")["files"]) == files
        assert re.search(rf"[(\s]{re.escape(p.name)}[,)]", message), (p.name, message)


def test_a_worker_killed_mid_grid_costs_only_time(stress_market_dir, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    argv = ["--grid", str(grid), *sets(stress_market_dir, tmp_path, report=False)]
    pool, _, pool_err = stress(tmp_path, "pool", *argv, "--out", str(tmp_path / "pool"), "--workers", "2")
    with cluster(tmp_path) as (client, _):
        pids = client.run(os.getpid)                 # worker address -> its process
        proc, printed, err = stress(tmp_path, "dask", *argv, "--out", str(tmp_path / "dask"), "--scheduler",
                                    client.scheduler.address)
        try:
            victim = wait_for(lambda: next((m for m in reports(client) if m["state"] == "started"), None)
                              or proc.poll() is not None, 90, "a scenario to start on a worker")
            assert proc.poll() is None, err.read_text()
            os.kill(pids[victim["worker"]], signal.SIGKILL)
            assert proc.wait(timeout=120) == 0, err.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
        assert len(client.scheduler_info()["workers"]) == 1
        ends = {(m["attempt"], m["worker"]) for m in reports(client) if m["scenario"] == victim["scenario"]
                and m["state"] == "finished"}
        if (victim["attempt"], victim["worker"]) not in ends:          # killed before it finished (the rule)
            assert {w for _, w in ends} - {victim["worker"]}, ends       # so it ran again, on the other worker
    assert pool.wait(timeout=120) == 0, pool_err.read_text()
    assert "on Dask scheduler tcp://127.0.0.1" in printed.read_text()
    dask = pd.read_csv(tmp_path / "dask" / "stress.csv").drop(columns=TIMING)
    local = pd.read_csv(tmp_path / "pool" / "stress.csv").drop(columns=TIMING)
    assert list(dask["scenario"]) == NAMES and (dask["status"] == "ok").all()
    pd.testing.assert_frame_equal(dask, local)
    assert sorted(p.name for p in (tmp_path / "dask" / "scenarios").iterdir()) == sorted(NAMES)


def test_a_scenario_finished_on_a_worker_when_the_grid_is_cancelled_is_kept(stress_market_dir, tmp_path):
    """Its work is done: the cancel writes its folder (before the command exits) instead of dropping it."""
    from distributed import LocalCluster, wait

    from ashare_sim.config.load import load_config
    from ashare_sim.stress.grid import load_grid
    from ashare_sim.stress.run import make_tasks, shared_inputs
    from ashare_sim.stress.runner import DaskRunner
    from ashare_sim.stress.scenarios import finished, prepare

    cfg = load_config(overrides=[f"data.path={stress_market_dir}", "output.report=false", "strategy.top_n=8",
                                 "strategy.factors.ic_min_periods=4", "strategy.factors.ic_window=6"])
    (tmp_path / "grid.yaml").write_text("scenarios:\n  - {name: done}\n  - {name: later}\n")
    grid = load_grid(tmp_path / "grid.yaml", cfg)
    tasks = make_tasks(grid, tmp_path / "out", ())
    (key, args), = shared_inputs(grid, tasks, need_pool=False).items()
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, protocol="tcp",
                      host="127.0.0.1") as cluster:
        runner = DaskRunner(cluster.scheduler_address)
        shared = runner.submit(prepare, args[0], key, *args[1:])
        done = runner.submit_scenario(tasks[0], shared)
        wait([done], timeout=60)
        runner.close(cancel=True)                    # Ctrl-C before its outcome was taken
    assert runner.cancelled.kept == ["done"]
    assert runner.cancelled.text() in ("the other 1 were cancelled on the Dask cluster: 1 not started", "")
    assert finished(Path(tasks[0].out), tasks[0].inputs)
    assert read_manifest(Path(tasks[0].out), "run.json")["stress"]["scenario"] == "done"
    assert not (tmp_path / "out" / "scenarios" / "later").exists()
