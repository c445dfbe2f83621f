"""Benchmark: your own Backtrader strategy on per-stock feeds (`sim.make_cerebro`), by number of symbols.

Per-stock feeds cost Backtrader's event loop per feed per bar, so a strategy over many symbols grows with
their number; the full-market engine keeps one clock feed and proxies instead. This prints, for 10, 100
and 500 symbols of the default market over its whole calendar, the wall time of `run_ashare` (feeds,
the 5/20 moving-average example strategy, broker, metrics) and the child's peak RSS, side by side with
the ratio to 10 symbols, and the full-market backtest's time for scale.

    .venv/bin/python bench/bench_feeds.py [--sizes 10 100 500]

Each size runs in a fresh child process. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
import ashare_sim as sim
from examples.ma_crossover import MovingAverageCross
cfg = sim.load_config(overrides={{"output.report": False}})
market = sim.open_market(cfg)
loaded = time.perf_counter()
symbols = [str(s) for s in market.symbols[::max(1, market.n_symbols // {n})][:{n}]]
cerebro = sim.make_cerebro(market, cfg, symbols=symbols)
cerebro.addstrategy(MovingAverageCross, weight=min(0.3, 3.0 / {n}))
result = cerebro.run_ashare()
done = time.perf_counter()
print(json.dumps({{"run": done - loaded, "load": loaded - t0, "fills": len(result.trades),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), n=n)], capture_output=True,
                             text=True, cwd=ROOT, check=True)
        rows.append((n, json.loads(out.stdout.strip().splitlines()[-1])))
    base = rows[0][1]["run"]
    print(f"{'symbols':>8} {'run s':>8} {'x 10':>6} {'s / symbol':>11} {'peak RSS MB':>12} {'fills':>7}")
    for n, r in rows:
        print(f"{n:>8} {r['run']:>8.1f} {r['run'] / base:>6.1f} {r['run'] / n:>11.3f} {r['rss_mb']:>12.0f} {r['fills']:>7}")
    print(f"(market load {rows[0][1]['load']:.1f} s in each child, not counted; 3,159 trading days)")


if __name__ == "__main__":
    main()
