"""Benchmark: load a full-size market from Parquet and derive every flag and limit.

Goal (issue: foundation): 5,000 stocks x 3,150 days in <= 10 s and <= 1.5 GB peak RSS.

    .venv/bin/python bench/bench_load.py                 # uses data/synthetic when present, else builds a market
    .venv/bin/python bench/bench_load.py --dir PATH      # any market data directory
    .venv/bin/python bench/bench_load.py --build-only    # just write the bench market

The load runs in a fresh child process so its peak RSS is the loader's own.
Prints figures; asserts nothing (speed goals are not unit tests).
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 10.0
GOAL_RSS_MB = 1536.0


def build_bench_market(out: Path, stocks: int = 5000, seed: int = 7) -> Path:
    """A plain random market with every bar column of docs/data.md (shape, not realism, matters here)."""
    import exchange_calendars as xcals
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    dates = xcals.get_calendar("XSHG").sessions_in_range("2010-01-04", "2022-12-30").to_numpy().astype("datetime64[D]")
    n_days = len(dates)
    prefixes = np.array(["600", "000", "002", "300", "688"])
    codes = [f"{prefixes[i % 5]}{i // 5:03d}" for i in range(stocks)]
    suffix = {"600": "SH", "000": "SZ", "002": "SZ", "300": "SZ", "688": "SH"}
    symbols = np.array(sorted(f"{c}.{suffix[c[:3]]}" for c in codes), dtype=object)
    start = np.where(rng.random(stocks) < 0.3, rng.integers(0, n_days - 250, stocks), 0)
    start = np.where(np.char.startswith(symbols.astype(str), "688"), np.maximum(start, 2330), start)
    ret = rng.standard_t(4, size=(n_days, stocks)).astype(np.float32) * np.float32(0.012)
    ret = np.clip(ret, -0.095, 0.095)
    close = np.round(10 * np.exp(np.cumsum(ret, axis=0)), 2).astype(np.float64)
    close = np.maximum(close, 0.5)
    rows = np.arange(n_days)[:, None]
    alive = (rows >= start[None, :]) & (rng.random((n_days, stocks)) > 0.02)
    t, n = np.nonzero(alive)
    c = close[t, n]
    o = np.round(c * (1 + rng.normal(0, 0.005, len(c))), 2)
    hi = np.maximum(o, c) + 0.01
    lo = np.maximum(np.minimum(o, c) - 0.01, 0.01)
    vol = np.round(rng.lognormal(13, 1, len(c)), -2)
    inst = pd.DataFrame({"symbol": symbols, "name": symbols, "industry": "ind",
                         "list_date": dates[np.minimum(start, n_days - 1)].astype(str), "delist_date": None})
    out.mkdir(parents=True, exist_ok=True)
    inst.to_parquet(out / "instruments.parquet", index=False)
    table = pa.table({
        "date": pa.array(dates[t]), "symbol": pa.DictionaryArray.from_arrays(pa.array(n.astype(np.int32)),
                                                                            pa.array(list(symbols))),
        "open": o, "high": hi, "low": lo, "close": c, "volume": vol, "amount": vol * c,
        "adj_factor": np.ones(len(c)), "total_shares": np.full(len(c), 5e8), "float_shares": np.full(len(c), 4e8),
    })
    pq.write_table(table, out / "bars.parquet", row_group_size=1_000_000)
    return out


def child(directory: str) -> None:
    from loguru import logger

    from ashare_sim.data.market import load_market

    logger.remove()
    t0 = time.perf_counter()
    market = load_market(directory)
    seconds = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": rss_mb, "panels_mb": market.nbytes() / 1e6,
                      "days": market.n_days, "symbols": market.n_symbols, "rows": int(market.has_bar.sum())}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir")
    ap.add_argument("--child")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    directory = Path(args.dir) if args.dir else ROOT / "data" / "synthetic"
    tmp = None
    if not (directory / "instruments.parquet").exists() or args.build_only:
        tmp = Path(tempfile.mkdtemp(prefix="bench_load_"))
        t0 = time.perf_counter()
        directory = build_bench_market(tmp / "market")
        print(f"built bench market in {time.perf_counter() - t0:.1f} s at {directory}")
        if args.build_only:
            return
    size_mb = sum(p.stat().st_size for p in directory.glob("*.parquet")) / 1e6
    print(f"market: {directory} ({size_mb:.0f} MB of Parquet)")
    runs = []
    for _ in range(args.repeat):
        proc = subprocess.run([sys.executable, __file__, "--child", str(directory)], capture_output=True, text=True,
                              check=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    secs = sorted(r["seconds"] for r in runs)
    rss = max(r["peak_rss_mb"] for r in runs)
    r0 = runs[0]
    print(f"symbols x days: {r0['symbols']:,} x {r0['days']:,} ({r0['rows']:,} bars); panels {r0['panels_mb']:.0f} MB")
    print(f"load + derive: median {secs[len(secs) // 2]:.2f} s (runs {', '.join(f'{s:.2f}' for s in secs)}); "
          f"goal <= {GOAL_SECONDS:.0f} s -> {secs[len(secs) // 2] / GOAL_SECONDS:.2f} of budget")
    print(f"peak RSS: {rss:.0f} MB; goal <= {GOAL_RSS_MB:.0f} MB -> {rss / GOAL_RSS_MB:.2f} of budget")
    if tmp:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
