"""Turn ../shared/real (qlib-derived raw daily bars) into a market data directory, then load and validate it.

A realism check of the loader and the rules table at full-market scale:
every traded bar outside the limits our rules compute is counted per board.
The data stays outside the repo (default /tmp/real_market); nothing here is a test.

    .venv/bin/python bench/real_market.py [--src ../shared/real] [--out /tmp/real_market]
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def convert(src: Path, out: Path) -> Path:
    from rules import RulesTable

    rules = RulesTable.load()
    table = pq.read_table(src / "ashare_daily_raw_2010_2026.parquet")
    qlib_symbols = table.column("symbol").combine_chunks().dictionary.to_pylist()
    spec = {s: f"{s[2:]}.{s[:2]}" for s in qlib_symbols}
    boards, _ = rules.boards_of(list(spec.values()))
    keep_symbols = {q for q, b in zip(qlib_symbols, boards) if b is not None}   # indices have no board
    mask = pc.is_in(table.column("symbol").cast(pa.string()), pa.array(sorted(keep_symbols)))
    table = table.filter(mask)
    df = pd.DataFrame({
        "date": table.column("date").to_numpy(),
        "symbol": pd.Categorical(table.column("symbol").cast(pa.string()).to_numpy(zero_copy_only=False)).rename_categories(spec),
        "open": table.column("open_raw_cents").to_numpy() / 100.0,
        "high": table.column("high_raw_cents").to_numpy() / 100.0,
        "low": table.column("low_raw_cents").to_numpy() / 100.0,
        "close": table.column("close_raw_cents").to_numpy() / 100.0,
        "volume": table.column("volume").to_numpy().astype(np.float64),
        "adj_factor": table.column("factor").to_numpy().astype(np.float64),
    })
    df["symbol"] = df["symbol"].astype(str)
    listing = pd.read_csv(src / "csi_instruments" / "all.txt", sep="\t", names=["q", "first", "last"])
    listing["symbol"] = listing["q"].map(lambda s: f"{s[2:]}.{s[:2]}")
    first = df.groupby("symbol")["date"].min()
    inst = pd.DataFrame({"symbol": first.index, "name": first.index})
    known = inst["symbol"].map(listing.drop_duplicates("symbol").set_index("symbol")["first"])
    inst["list_date"] = known.fillna(pd.Series(first.astype(str).to_numpy(), index=inst.index))
    out.mkdir(parents=True, exist_ok=True)
    inst.to_parquet(out / "instruments.parquet", index=False)
    df.sort_values(["date", "symbol"]).to_parquet(out / "bars.parquet", index=False, row_group_size=1_000_000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default=str(ROOT.parent / "shared" / "real"))
    ap.add_argument("--out", default="/tmp/real_market")
    args = ap.parse_args()
    from loguru import logger

    logger.remove()
    out = Path(args.out)
    if not (out / "bars.parquet").exists():
        t0 = time.perf_counter()
        convert(Path(args.src), out)
        print(f"converted {args.src} -> {out} in {time.perf_counter() - t0:.1f} s")
    from feeds.market import load_market

    t0 = time.perf_counter()
    m = load_market(out)
    print(f"load_market: {m.n_symbols:,} symbols x {m.n_days:,} days in {time.perf_counter() - t0:.1f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    traded = m.has_bar & ~m.is_suspended
    with np.errstate(invalid="ignore"):
        at_up = traded & (np.abs(m.close - m.high_limit) < 0.005)
        at_down = traded & (np.abs(m.close - m.low_limit) < 0.005)
        over = traded & ((m.high > m.high_limit + 0.005) | (m.low < m.low_limit - 0.005))
    n = traded.sum()
    print(f"traded stock-days {n:,}; suspended share of listed days {m.is_suspended.sum() / m.is_listed.sum():.2%}")
    print(f"close at limit-up {at_up.sum() / n:.2%}, at limit-down {at_down.sum() / n:.2%}")
    locked = at_up & (m.open == m.high) & (m.low == m.high)
    print(f"one-price limit-up bars {locked.sum() / n:.2%}")
    print(f"bars outside the computed limits: {over.sum():,} ({over.sum() / n:.4%})")
    for board in ("main", "chinext", "star", "bse"):
        cols = m.board == board
        if cols.any():
            k = over[:, cols].sum()
            print(f"  {board:8s} outside {k:8,} of {traded[:, cols].sum():10,}")
    t, j = np.nonzero(over)
    for i in range(min(5, len(t))):
        a, b = t[i], j[i]
        print(f"  e.g. {m.symbols[b]} {m.dates[a]} pre_close {m.pre_close[a, b]:.2f} high {m.high[a, b]:.2f} "
              f"low {m.low[a, b]:.2f} limits {m.low_limit[a, b]:.2f}..{m.high_limit[a, b]:.2f} "
              f"days_listed {m.days_listed[a, b]}")


if __name__ == "__main__":
    main()
