"""Benchmark: `python run.py backtest` end to end, as `make run` does it (market present).

Goal (issue: seed strategy): the default 5,000-stock market, scoring + engine +
outputs + report, in <= 60 s and <= 3 GB peak RSS.

    .venv/bin/python bench/bench_run.py [--repeat 3] [--set KEY=VALUE ...]

Each run is a fresh child process (wall time and the child's peak RSS).
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 60.0
GOAL_RSS_MB = 3072.0


def one_run(out: Path, overrides: list[str]) -> tuple[float, float]:
    cmd = [sys.executable, str(ROOT / "run.py"), "backtest", "-q", "--out", str(out)]
    for o in overrides:
        cmd += ["--set", o]
    code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            f"p = subprocess.run({cmd!r}, cwd={str(ROOT)!r}, stdout=subprocess.DEVNULL); "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
            "p.returncode)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, rss, rc = proc.stdout.split()
    if rc != "0":
        raise SystemExit(f"run.py exited {rc}")
    return float(seconds), float(rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    if not (ROOT / "data" / "synthetic" / "bars.parquet").exists():
        raise SystemExit("data/synthetic is missing: run `make run` once (it generates the market), then rerun")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            runs.append(one_run(Path(tmp) / f"run{i}", args.overrides))
        metrics = json.loads((Path(tmp) / "run0" / "metrics.json").read_text())
    secs = sorted(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    median = secs[len(secs) // 2]
    print(f"run.py backtest on data/synthetic, {args.repeat} run(s): wall {', '.join(f'{s:.1f}' for s in secs)} s; "
          f"median {median:.1f} s (goal {GOAL_SECONDS:.0f} s -> {median / GOAL_SECONDS:.2f} of budget)")
    print(f"peak RSS {rss:.0f} MB (goal {GOAL_RSS_MB:.0f} MB -> {rss / GOAL_RSS_MB:.2f} of budget)")
    print(f"annual return {metrics['annual_return']:.1%} vs benchmark {metrics['benchmark_annual_return']:.1%}, "
          f"IR {metrics['information_ratio']:.2f}, composite RankIC "
          f"{metrics.get('factors', {}).get('composite', {}).get('mean', float('nan')):.3f}")


if __name__ == "__main__":
    main()
