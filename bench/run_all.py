"""Run every benchmark in turn (`make bench`): each prints its own figures; this prints a wall-time summary.

    .venv/bin/python bench/run_all.py                    # all benchmarks, default sizes
    .venv/bin/python bench/run_all.py --only load run    # a subset, by short name
    .venv/bin/python bench/run_all.py --quick            # smaller variants where a benchmark offers them

Each benchmark runs as its own process (its peak RSS is its own). A benchmark that needs data this
machine lacks (the real market's files) says so and is skipped; one that fails is reported and the
rest still run. Nothing is asserted: speed goals are printed next to the figures, never tested.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"

# (short name, script, arguments, arguments with --quick)
BENCHMARKS = [
    ("generate", "bench_generate.py", [], ["--stocks", "1000", "--no-stats"]),
    ("load", "bench_load.py", [], ["--repeat", "1"]),
    ("factors", "bench_factors.py", [], []),
    ("engine", "bench_engine.py", [], ["--naive-stocks", "100"]),
    ("run", "bench_run.py", [], ["--repeat", "1"]),
    ("stress", "bench_stress.py", [], ["--quick"]),
    ("real", "real_market.py", ["--out", "/tmp/bench_real_market"], ["--out", "/tmp/bench_real_market"]),
]


def real_data_present() -> bool:
    shared = Path(os.environ.get("SHARED_REAL", ROOT.parent / "shared" / "real"))
    return (shared / "ashare_daily_raw_2010_2026.parquet").exists()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=[b[0] for b in BENCHMARKS])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    chosen = [b for b in BENCHMARKS if not args.only or b[0] in args.only]
    results = []
    for name, script, full, quick in chosen:
        if name == "real" and not real_data_present():
            print(f"== {name}: skipped (no real market data; set SHARED_REAL to the folder of "
                  "ashare_daily_raw_2010_2026.parquet)", flush=True)
            results.append((name, "skipped", 0.0))
            continue
        cmd = [sys.executable, str(BENCH / script), *(quick if args.quick else full)]
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        began = time.perf_counter()
        code = subprocess.call(cmd, cwd=ROOT)
        results.append((name, "ok" if code == 0 else f"failed (exit {code})", time.perf_counter() - began))
    print("\nsummary")
    for name, status, seconds in results:
        print(f"  {name:<10} {status:<18} {seconds:7.1f} s wall")
    return 0 if all(s in ("ok", "skipped") for _, s, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
