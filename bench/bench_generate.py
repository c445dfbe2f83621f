"""Benchmark: generate the default embedded market (5,000 stocks, 2010-2022) and describe it.

Goals (issue 3): <= 60 s and <= 3 GB peak RSS on a 2-core machine; Parquet <= 600 MB.

    .venv/bin/python bench/bench_generate.py                  # default market into a temp dir
    .venv/bin/python bench/bench_generate.py --stocks 1000 --keep DIR
    .venv/bin/python bench/bench_generate.py --no-stats       # timing only

Generation runs in a fresh child process, so the peak RSS printed is the
generator's own (resource.getrusage of the child). Then the market is loaded
and its statistics printed (data.synthetic.stats: the figures docs/synthetic.md quotes).
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
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 60.0
GOAL_RSS_MB = 3072.0
GOAL_DISK_MB = 600.0

CHILD = """
import datetime as dt, sys, time
from pathlib import Path
from ashare_sim.common.logs import setup_logging
from ashare_sim.data.synthetic.generator import generate_market
setup_logging("WARNING")
t = time.perf_counter()
generate_market(Path(sys.argv[1]), stocks=int(sys.argv[2]), start=dt.date.fromisoformat(sys.argv[3]),
                end=dt.date.fromisoformat(sys.argv[4]), seed=int(sys.argv[5]))
print(time.perf_counter() - t)
"""


def generate(out: Path, stocks: int, start: str, end: str, seed: int) -> tuple[float, float, float]:
    """(seconds inside the generator, wall seconds of the child, child peak RSS MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", CHILD, str(out), str(stocks), start, end, str(seed)],
                         cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if res.returncode != 0:
        sys.exit(res.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return float(res.stdout.strip().splitlines()[-1]), wall, max(peak, before) / 1024


def describe(directory: Path) -> dict:
    from ashare_sim.data.market import load_market
    from ashare_sim.data.synthetic import stats

    m = load_market(directory)
    out = stats.all_stats(m)
    out["size_spread_by_year"] = {y: round(v, 4) for y, v in stats.size_spread_by_year(m).items()}
    out["rank_ic"] = {k: round(v, 4) for k, v in stats.factor_rank_ic(m).items()}
    out["rank_ic_with_lookahead"] = {k: round(v, 4) for k, v in stats.factor_rank_ic(m, lookahead=True).items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stocks", type=int, default=5000)
    ap.add_argument("--start", default="2010-01-01")
    ap.add_argument("--end", default="2022-12-31")
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--keep", type=Path, help="write here and keep it (must not exist)")
    ap.add_argument("--no-stats", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "market"
        inner, wall, rss = generate(out, args.stocks, args.start, args.end, args.seed)
        disk = sum(p.stat().st_size for p in out.iterdir()) / 1e6
        print(f"generate {args.stocks} stocks {args.start}..{args.end}: {inner:.1f} s in the generator, "
              f"{wall:.1f} s wall (goal {GOAL_SECONDS:.0f}), peak RSS {rss:.0f} MB (goal {GOAL_RSS_MB:.0f}), "
              f"Parquet {disk:.0f} MB (goal {GOAL_DISK_MB:.0f})")
        for p in sorted(out.iterdir()):
            print(f"  {p.name:22s} {p.stat().st_size / 1e6:8.1f} MB")
        if not args.no_stats:
            began = time.perf_counter()
            figures = describe(out)
            print(json.dumps(figures, indent=1, default=float))
            print(f"statistics in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
