"""Benchmark: stress grids and one backtest on the default market, and a 100-scenario sweep on the real market.

Goals (issue: stress grids at scale), each printed beside its figure with the ratio to it:
  (a) a full-market scenario's marginal cost <= 1.5 s: grids of 1 and 9 scenarios on one worker, the
      difference over 8 (the fixed part, reading the market and scoring the lists once, is left out);
  (b) the 16-scenario grid grids/slippage_volume_cap.yaml <= 30 s wall on 2 workers (and the 1-worker time);
  (c) a 100-scenario capacity x crowding sweep on the real market over the study's window (2010-01 ..
      2022-03) <= 5 min on 2 workers (`--real DIR`: an imported real market; skipped without it);
  (d) one targets-file backtest (`run.py backtest --set strategy.targets_file=...`, the default config's
      realistic rules) <= 4 s wall end to end, imports included, with where the time goes.

    .venv/bin/python bench/bench_stress.py [--data DIR] [--real DIR] [--repeat 1] [--quick]
                                           [--only marginal|grid|real|single]

Every run is a fresh child process (`run.py` as a user runs it) with a fresh output directory and a
cache folder of its own (ASHARE_SIM_CACHE, removed at the end). The machine may be shared: the load
average before each run is printed beside its figures. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ashare_sim.resources import DEFAULT_CONFIG, grids  # noqa: E402

GRID = grids()["slippage_volume_cap"]
GOAL_MARGINAL_SECONDS = 1.5
GOAL_GRID_SECONDS, GOAL_SPEEDUP = 30.0, 1.7
GOAL_REAL_SECONDS = 300.0
GOAL_SINGLE_SECONDS, GOAL_SINGLE_MB = 4.0, 1536.0
STUDY_WINDOW = ("2010-01-04", "2022-03-31")

# Timed phases of one targets-file backtest, in a child: the CLI's own steps, clocked.
PHASES = r"""
import sys, time, resource
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from ashare_sim.config import load_config
from ashare_sim.data.open import open_market
import ashare_sim.backtest.run as engine_run
t1 = time.perf_counter()
cfg = load_config({config!r}, {sets!r})
market = open_market(cfg)
t2 = time.perf_counter()
result = engine_run.run_backtest(market, cfg, __import__("pathlib").Path({out!r}))
t3 = time.perf_counter()
print({{"imports": t1 - t0, "load": t2 - t1, "run": t3 - t2, **result.timings,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}})
"""

# Where one scenario's time goes, in one process (shared inputs prepared once, as a grid does): the core's day
# loop with the run's tables and metrics (the run's `core` timing), the CSVs and the rest of the files, and
# report.html (the difference with output.report off).
SCENARIO_PHASES = r"""
import sys, time
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, {root!r})
from ashare_sim.config import load_config
from ashare_sim.stress.scenarios import prepare, market_for
from ashare_sim.backtest.run import run_backtest
cfg = load_config({config!r}, ["data.path={data}"])
shared = prepare(cfg, "phases", True, True)
market = market_for(cfg)
best = {{}}
for i in range(4):
    for report in (True, False):
        c = replace(cfg, output=replace(cfg.output, report=report))
        t = time.perf_counter()
        r = run_backtest(market, c, Path({out!r}) / f"{{i}}-{{report}}", signal=shared.signal,
                         benchmark=shared.benchmark, engine="core")
        wall = time.perf_counter() - t
        if i:
            key = "with" if report else "without"
            best[key] = min(best.get(key, 1e9), wall)
            best["core loop"] = min(best.get("core loop", 1e9), r.timings["core"])
print({{"day loop, tables and metrics": best["core loop"],
        "CSVs and other files": best["without"] - best["core loop"],
        "report.html": best["with"] - best["without"], "in all": best["with"]}})
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def child(cmd: list[str]) -> tuple[float, float, str, str]:
    """(wall s, peak RSS MB of the largest process, stdout, stderr) of a child command."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               f"p = subprocess.run({cmd!r}, cwd={str(ROOT)!r}, capture_output=True, text=True); "
               "print(repr((time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
               "p.returncode, p.stdout, p.stderr)))")
    proc = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    seconds, rss, rc, out, err = eval(proc.stdout)            # our own repr of a tuple
    if rc != 0:
        raise SystemExit(f"{' '.join(cmd[1:4])} exited {rc}: {err.strip().splitlines()[-1:]}")
    return seconds, rss, out, err


def run_py(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "run.py"), *args]


def bench_grid(data: Path, tmp: Path, repeat: int, grid: Path) -> None:
    name = "grids/slippage_volume_cap.yaml" if grid == GRID else "a 4-scenario quick grid"
    print(f"(b) the scenarios of {name} on {data}")
    warm(data, tmp)
    best = {}
    for workers in (1, 2):
        for i in range(repeat):
            before = load()
            secs, rss, out, _ = child(run_py("stress", "-q", "--grid", str(grid), "--out", str(tmp / f"grid{workers}-{i}"),
                                             "--workers", str(workers), "--set", f"data.path={data}"))
            best[workers] = min(best.get(workers, float("inf")), secs)
            head = out.splitlines()[0] if out else ""
            print(f"    --workers {workers}: {secs:6.1f} s wall, largest process {rss:5.0f} MB peak RSS "
                  f"(load average before: {before})  [{head.split(': ', 1)[-1]}]", flush=True)
    ratio = best[1] / best[2]
    print(f"    best 1 worker {best[1]:.1f} s, 2 workers {best[2]:.1f} s: {ratio:.2f}x faster "
          f"(goals: <= {GOAL_GRID_SECONDS:.0f} s -> {best[2] / GOAL_GRID_SECONDS:.2f} of budget; >= {GOAL_SPEEDUP}x)")


def warm(data: Path, tmp: Path, sets: list[str] = ()) -> None:
    """A one-scenario grid fills the cache (the mapped market and the pool benchmark), as on every run after a
    market's first."""
    one = tmp / "one.yaml"
    one.write_text("scenarios:\n  - {name: warm}\n")
    child(run_py("stress", "-q", "--grid", str(one), "--out", str(tmp / f"warm-{data.name}"), "--episodes", "none",
                 "--set", f"data.path={data}", "--set", "output.report=false", *[a for x in sets for a in ("--set", x)]))


def bench_marginal(data: Path, tmp: Path, repeat: int) -> None:
    print(f"(a) a scenario's marginal cost: grids of 1 and 9 scenarios on one worker, on {data}")
    warm(data, tmp)
    walls = {}
    for n in (1, 9):
        grid = tmp / f"n{n}.yaml"
        grid.write_text("base: {broker.slippage.model: fixed_bps}\naxes:\n  broker.slippage.bps: "
                        f"[{', '.join(str(10 * k) for k in range(n))}]\n")
        for i in range(repeat):
            before = load()
            secs, rss, _, _ = child(run_py("stress", "-q", "--grid", str(grid), "--out", str(tmp / f"m{n}-{i}"),
                                           "--workers", "1", "--episodes", "none", "--set", f"data.path={data}"))
            walls[n] = min(walls.get(n, float("inf")), secs)
            print(f"    {n} scenario(s): {secs:6.1f} s wall, {rss:5.0f} MB peak RSS (load average before: {before})",
                  flush=True)
    marginal = (walls[9] - walls[1]) / 8
    print(f"    marginal cost of a scenario: ({walls[9]:.1f} - {walls[1]:.1f}) / 8 = {marginal:.2f} s "
          f"(goal <= {GOAL_MARGINAL_SECONDS} s -> {marginal / GOAL_MARGINAL_SECONDS:.2f} of budget)")
    code = SCENARIO_PHASES.format(root=str(ROOT), config=str(DEFAULT_CONFIG), data=str(data), out=str(tmp / "phases"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    phases = eval(proc.stdout.strip().splitlines()[-1])
    print("    where a scenario's time goes (in one process, best of 3 after a first): "
          + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))


def bench_real(real: Path, tmp: Path) -> None:
    print(f"(c) 100 scenarios, capital x crowding, on the real market {real}, {STUDY_WINDOW[0]}..{STUDY_WINDOW[1]}")
    sets = [f"backtest.start={STUDY_WINDOW[0]}", f"backtest.end={STUDY_WINDOW[1]}"]
    warm(real, tmp, sets)
    grid = tmp / "sweep.yaml"
    grid.write_text("base: {broker.slippage.model: sqrt_impact, broker.volume_cap: 0.10}\naxes:\n"
                    "  broker.cash: [1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9, 2e9, 5e9, 1e10]\n"
                    "  broker.crowd: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]\n")
    before = load()
    secs, rss, out, _ = child(run_py("stress", "-q", "--grid", str(grid), "--out", str(tmp / "sweep"), "--workers",
                                     "2", "--episodes", "none", "--set", f"data.path={real}",
                                     *[a for x in sets for a in ("--set", x)]))
    print(f"    --workers 2: {secs:6.1f} s wall, largest process {rss:5.0f} MB peak RSS (load average before: "
          f"{before}); goal <= {GOAL_REAL_SECONDS:.0f} s -> {secs / GOAL_REAL_SECONDS:.2f} of budget", flush=True)


def bench_single(data: Path, tmp: Path, repeat: int) -> None:
    print(f"(d) one targets-file backtest with every rule of config.yaml on {data}")
    base = tmp / "base"
    os.environ["ASHARE_SIM_CACHE"] = "off"                     # the lists only: nothing cached yet
    child(run_py("backtest", "-q", "--out", str(base), "--set", f"data.path={data}", "--set", "output.report=false"))
    targets = tmp / "targets.csv"
    targets.write_text((base / "targets.csv").read_text())
    sets = [f"data.path={data}", f"strategy.targets_file={targets}"]
    walls = []
    os.environ["ASHARE_SIM_CACHE"] = str(tmp / "cache")      # cold first, as on a market's first run
    for i in range(repeat + 1):
        before = load()
        secs, rss, _, _ = child(run_py("backtest", "-q", "--out", str(tmp / f"single{i}"),
                                       *[a for s in sets for a in ("--set", s)]))
        if i:
            walls.append((secs, rss))
        what = ("first run on this market: read, derived and cached" if i == 0 else
                "market mapped and pool benchmark read from the cache")
        print(f"    run.py backtest ({what}): {secs:5.1f} s wall, {rss:5.0f} MB peak RSS "
              f"(load average before: {before})", flush=True)
        if i == 0:
            continue
        code = PHASES.format(root=str(ROOT), config=str(DEFAULT_CONFIG), sets=sets, out=str(tmp / f"phase{i}"))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        phases = eval(proc.stdout.strip().splitlines()[-1])
        print("      phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items() if k != "peak_mb")
              + f"; peak {phases['peak_mb']:.0f} MB")
    secs = sorted(w[0] for w in walls)[len(walls) // 2]
    rss = max(w[1] for w in walls)
    print(f"    cached runs: median {secs:.1f} s (goal {GOAL_SINGLE_SECONDS:.0f} s -> {secs / GOAL_SINGLE_SECONDS:.2f} of budget), "
          f"peak {rss:.0f} MB (goal {GOAL_SINGLE_MB:.0f} MB -> {rss / GOAL_SINGLE_MB:.2f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "synthetic")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a 4-scenario grid instead of the 16")
    ap.add_argument("--real", type=Path, help="an imported real market (bench/real_market.py --out DIR) for (c)")
    ap.add_argument("--only", choices=["marginal", "grid", "real", "single"])
    args = ap.parse_args()
    if not (args.data / "bars.parquet").exists():
        raise SystemExit(f"{args.data} has no market: run `make run` once (it generates data/synthetic), "
                         "or give --data DIR")
    with tempfile.TemporaryDirectory(prefix="bench-stress-") as tmp:
        tmp = Path(tmp)
        grid = GRID
        if args.quick:
            grid = tmp / "quick.yaml"
            grid.write_text("base: {broker.slippage.model: fixed_bps}\naxes:\n  broker.slippage.bps: [0, 30]\n"
                            "  broker.volume_cap: [null, 0.05]\n")
        os.environ["ASHARE_SIM_CACHE"] = str(tmp / "cache")     # never the user's cache
        if args.only in (None, "marginal"):
            bench_marginal(args.data, tmp, args.repeat)
        if args.only in (None, "grid"):
            bench_grid(args.data, tmp, args.repeat, grid)
        if args.only in (None, "real"):
            if args.real is not None and (args.real / "bars.parquet").exists():
                bench_real(args.real, tmp)
            else:
                print("(c) skipped: give --real DIR, a real market imported by bench/real_market.py")
        if args.only in (None, "single"):
            bench_single(args.data, tmp, args.repeat)


if __name__ == "__main__":
    main()
