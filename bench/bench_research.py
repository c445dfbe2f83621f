"""Benchmark: `run.py research` on a market directory, a fresh process per run.

Goal (issue 12): the full default market (5,000 stocks x 3,159 days) in <= 60 s.

    .venv/bin/python bench/bench_research.py                                  # data/synthetic
    .venv/bin/python bench/bench_research.py --dir /work/main/data/synthetic --repeat 3
    .venv/bin/python bench/bench_research.py --set research.compare_neutral=ic

Prints, per run: wall seconds of the whole command (start-up, load, research, files),
the seconds of each research step, and the process's peak RSS. Asserts nothing (speed
goals are not unit tests).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(directory: str, out: str, overrides: list[str]) -> None:
    """One run in this process; prints one JSON line of timings."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from ashare_sim.common.logs import setup_logging
    from ashare_sim.config import load_config
    from ashare_sim.data.market import load_market
    from ashare_sim.research.build import run_research
    from ashare_sim.research.outputs import write_research

    setup_logging("WARNING")
    cfg = load_config(None, [f"data.path={directory}", *overrides])
    t0 = time.perf_counter()
    market = load_market(directory)
    t1 = time.perf_counter()
    result = run_research(market, cfg)
    t2 = time.perf_counter()
    write_research(Path(out), result, cfg)
    t3 = time.perf_counter()
    print(json.dumps({"load": t1 - t0, "research": t2 - t1, "write": t3 - t2, "steps": result.timings,
                      "shape": [market.n_symbols, market.n_days]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=str(ROOT / "data" / "synthetic"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.dir, args.out, args.overrides)
        return
    walls = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench_research_") as tmp:
            cmd = [sys.executable, __file__, "--child", "--dir", args.dir, "--out", tmp,
                   *[a for o in args.overrides for a in ("--set", o)]]
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
            out, _ = proc.communicate()
            wall = time.perf_counter() - start
            # the child's own peak RSS (ru_maxrss of the waited child, KB on Linux)
            rss = _child_peak_rss()
        if proc.returncode != 0:
            raise SystemExit(f"run {i + 1} failed with exit status {proc.returncode}")
        figures = json.loads(out.strip().splitlines()[-1])
        walls.append(wall)
        steps = ", ".join(f"{k} {v:.1f}" for k, v in figures["steps"].items())
        print(f"run {i + 1}: {figures['shape'][0]} symbols x {figures['shape'][1]} days: wall {wall:.1f} s "
              f"(load {figures['load']:.1f}, research {figures['research']:.1f}, files {figures['write']:.1f}), "
              f"peak RSS {rss / 1024:,.0f} MB")
        print(f"  steps: {steps}")
    if len(walls) > 1:
        print(f"wall: median {statistics.median(walls):.1f} s, min {min(walls):.1f}, max {max(walls):.1f}")



def _child_peak_rss() -> int:
    """Peak RSS of the latest child: RUSAGE_CHILDREN keeps the max over all children, so a run that
    peaks lower than an earlier one reports the earlier figure (the max is what the goal is about)."""
    import resource
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


if __name__ == "__main__":
    main()
