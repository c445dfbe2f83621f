"""The full real market of ../shared/real, built through the importers, then loaded and validated.

    .venv/bin/python bench/real_market.py --out DIR [--real ../shared/real] [--keep]

Thin: the import is `run.py data import --manifest bench/real_market.yaml --base REAL` (the manifest
names every source and companion). Each phase runs in its own child process so
its wall time and peak RSS are its own (os.wait4):

    import    goal <= 120 s and <= 3 GB peak RSS
    load      data.market.load_market on the result: goal <= 10 s and <= 2 GB
    validate  run.py data validate on the result: its summary and warnings

then the realism figures (limit events, bars outside the rules' limits) from the loaded market.
Prints figures and ratios; asserts nothing (speed goals are not unit tests). The data stays outside
the repo; DIR is replaced when it holds a previous import (--keep reuses it instead).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "bench" / "real_market.yaml"
GOALS = {"import": (120.0, 3072.0), "load": (10.0, 2048.0)}

LOAD_AND_MEASURE = r"""
import json, resource, sys, time
import numpy as np
from ashare_sim.data.market import load_market
t0 = time.perf_counter()
m = load_market(sys.argv[1])
seconds = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
traded = m.has_bar & ~m.is_suspended
with np.errstate(invalid="ignore"):
    up = traded & (np.abs(m.close - m.high_limit) < 0.005)
    down = traded & (np.abs(m.close - m.low_limit) < 0.005)
    over = traded & ((m.high > m.high_limit + 0.005) | (m.low < m.low_limit - 0.005))
n = int(traded.sum())
print(json.dumps({"seconds": seconds, "rss_mb": rss, "symbols": int(m.n_symbols), "days": int(m.n_days),
                  "traded": n, "suspended_share": float(m.is_suspended.sum() / m.is_listed.sum()),
                  "limit_up": float(up.sum() / n), "limit_down": float(down.sum() / n),
                  "one_price_up": float((up & (m.open == m.high) & (m.low == m.high)).sum() / n),
                  "outside": int(over.sum()),
                  "outside_by_board": {b: int(over[:, m.board == b].sum()) for b in ("main", "chinext", "star", "bse")},
                  "st_share": float((m.is_st & m.is_listed).sum() / m.is_listed.sum()),
                  "benchmarks": list(m.benchmarks.columns) if m.benchmarks is not None else []}))
"""


def child(argv: list[str], capture: bool = True) -> tuple[float, float, int, str]:
    """(wall s, peak RSS MB, exit status, stdout) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE if capture else None, text=True)
    out = proc.stdout.read() if capture else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, proc.returncode, out


def goal_line(phase: str, seconds: float, rss: float) -> str:
    gs, gr = GOALS[phase]
    ok = "met" if seconds <= gs and rss <= gr else "MISSED"
    return (f"{phase:<8} {seconds:7.1f} s ({seconds / gs:.0%} of {gs:.0f} s)   peak RSS {rss:7.0f} MB "
            f"({rss / gr:.0%} of {gr:.0f} MB)   goal {ok}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="market data directory to write (outside the repo)")
    ap.add_argument("--real", default=str(ROOT.parent / "shared" / "real"), help="the real data (default ../shared/real)")
    ap.add_argument("--keep", action="store_true", help="reuse --out when it already holds an import")
    args = ap.parse_args()
    out, real = Path(args.out).resolve(), Path(args.real).resolve()
    if not (real / "ashare_daily_raw_2010_2026.parquet").exists():
        print(f"error: {real}: no real data there (ashare_daily_raw_2010_2026.parquet); pass --real DIR", file=sys.stderr)
        return 2
    py = sys.executable
    figures = []
    if not (args.keep and (out / "import.json").exists()):
        seconds, rss, status, text = child([py, "run.py", "-q", "data", "import", "--manifest", str(MANIFEST),
                                            "--base", str(real), "--out", str(out), "--replace"])
        print(text.rstrip())
        if status:
            print(f"error: the import failed (exit {status})", file=sys.stderr)
            return status
        figures.append(goal_line("import", seconds, rss))
    seconds, rss, status, text = child([py, "-c", LOAD_AND_MEASURE, str(out)])
    if status:
        return status
    m = json.loads(text)
    figures.append(goal_line("load", m["seconds"], m["rss_mb"]) + f"   (process {seconds:.1f} s, {rss:.0f} MB "
                                                                 "with the realism figures)")
    v_seconds, v_rss, v_status, v_text = child([py, "run.py", "-q", "data", "validate", str(out)])
    print()
    print(v_text.rstrip())
    print(f"validate {v_seconds:7.1f} s, peak RSS {v_rss:.0f} MB, exit {v_status}")
    print()
    print(f"real market: {m['symbols']:,} stocks x {m['days']:,} days, {m['traded']:,} traded stock-days; "
          f"benchmarks {', '.join(m['benchmarks'])}")
    print(f"  suspended {m['suspended_share']:.2%} of listed days, ST / *ST / delisting {m['st_share']:.2%}; "
          f"close at limit-up {m['limit_up']:.2%}, at limit-down {m['limit_down']:.2%}, one-price limit-up "
          f"{m['one_price_up']:.2%}")
    print(f"  bars outside the rules' limits {m['outside']:,} ({m['outside'] / m['traded']:.4%}): "
          + ", ".join(f"{b} {k:,}" for b, k in m["outside_by_board"].items() if k))
    print()
    print("\n".join(figures))
    return 0 if v_status == 0 else v_status


if __name__ == "__main__":
    sys.exit(main())
