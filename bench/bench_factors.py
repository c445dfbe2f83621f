"""Benchmark: the research pipeline (signals.pipeline.build_targets + pool_benchmark) on a market.

Goal (issue 5): the default market (5,000 stocks x 3,150 days) scored in ~20 s.

    .venv/bin/python bench/bench_factors.py                      # data/synthetic (generated when missing)
    .venv/bin/python bench/bench_factors.py --dir PATH [--start 2010-01-01 --end 2022-12-31]

Prints load and pipeline seconds, peak RSS, the RankIC summary and top-N vs pool.
Asserts nothing (speed goals are not unit tests).
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=str(ROOT / "data" / "synthetic"))
    ap.add_argument("--start", default=None)
    ap.add_argument("--end", default=None)
    args = ap.parse_args()

    from ashare_sim.config import load_config
    from ashare_sim.data.market import load_market
    from ashare_sim.signals.pipeline import build_targets
    from ashare_sim.signals.universe import pool_benchmark

    path = Path(args.dir)
    if not path.exists():
        from ashare_sim.config.schema import GenerateConfig
        from ashare_sim.data.synthetic.generator import generate_market
        g = GenerateConfig()
        generate_market(path, stocks=g.stocks, start=g.start, end=g.end, seed=g.seed)
    overrides = [f"backtest.{k}={v}" for k, v in (("start", args.start), ("end", args.end)) if v]
    cfg = load_config(None, overrides)
    t0 = time.perf_counter()
    market = load_market(path)
    t1 = time.perf_counter()
    res = build_targets(market, cfg)
    t2 = time.perf_counter()
    pool = pool_benchmark(market, cfg)
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"market {path}: {market.n_symbols} symbols x {market.n_days} days, {len(res.universe_size)} signals")
    print(f"load {t1 - t0:.1f} s | build_targets {t2 - t1:.1f} s | pool_benchmark {t3 - t2:.1f} s | "
          f"peak RSS {rss:,.0f} MB")
    print(f"universe size: median {res.universe_size.median():.0f}, min {res.universe_size.min()}, "
          f"max {res.universe_size.max()}; dropped factors: {res.dropped_factors or 'none'}")
    print(res.ic_summary.round(4).to_string())
    pr = res.portfolio_returns.mean()
    print(f"forward month, open to open: top {pr['top']:+.2%}, pool {pr['pool']:+.2%}, "
          f"excess {pr['excess']:+.2%} (top ahead in {(res.portfolio_returns['excess'] > 0).mean():.0%} of months)")
    print("quintiles Q1..Q5: " + ", ".join(f"{v:+.2%}" for v in res.quintile_returns.mean()))
    print(f"pool level at the end: {pool.iloc[-1]:.3f}")


if __name__ == "__main__":
    main()
