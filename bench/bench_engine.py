"""Speed and memory of the execution engine, and the naive Backtrader design beside it.

    .venv/bin/python bench/bench_engine.py                 # (a) full market + (b) side by side at 500 stocks
    .venv/bin/python bench/bench_engine.py --skip-full     # only (b)
    .venv/bin/python bench/bench_engine.py --naive-stocks 200

(a) The default synthetic market (`data/synthetic`, read when present; else a
    5,000 x 3,150 market made in memory with numpy, same shape) with a targets
    file of 156 monthly rebalances x 50 names, all A-share rules on: prints the
    simulation seconds (data in memory -> output files written) and peak RSS.
(b) At 500 stocks, the same targets traded by `bench/naive_engine.py` (one
    PandasData per stock, plain BackBroker, next-open fills, no A-share rules)
    and by our engine with the rules off and the same commission: prints both
    times, the ratio and both final values.

Each timed run is a fresh subprocess so peak RSS and allocator state are its
own. Medians of `--repeat` runs.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA_DIR = ROOT / "data" / "synthetic"
# Share of the portfolio the targets allocate (equal weights), leaving room for costs and next-open gaps.
CASH_BUFFER = 0.99


# ----- a synthetic market in memory -----------------------------------------------
def synthetic_market(n_stocks: int = 5000, n_days: int = 3150, seed: int = 7, start: str = "2010-01-04"):
    """A Market shaped like the default synthetic one, built straight into float32 panels."""
    from ashare_sim.data import derive
    from ashare_sim.data.market import Market
    from ashare_sim.rules import RulesTable

    rules = RulesTable.load()
    rng = np.random.default_rng(seed)
    bdays = pd.bdate_range(start, periods=int(n_days * 1.08))
    keep = np.sort(rng.choice(len(bdays), n_days, replace=False))
    dates = bdays[keep].to_numpy().astype("datetime64[D]")
    T, N = n_days, n_stocks

    # Codes by board: main SH/SZ, ChiNext, STAR (STAR listings only after its opening).
    kinds = rng.choice(4, N, p=[0.45, 0.30, 0.17, 0.08])
    prefix = np.array(["600", "000", "300", "688"])[kinds]
    suffix = np.array(["SH", "SZ", "SZ", "SH"])[kinds]
    symbols = np.array([f"{p}{i:03d}.{s}" for i, (p, s) in enumerate(zip(prefix, suffix))], dtype=object)
    order = np.argsort(symbols)
    symbols, kinds = symbols[order], kinds[order]

    star_open = np.searchsorted(dates, np.datetime64(rules.board_open["star"]))
    late = rng.random(N) < 0.3
    list_index = np.where(late, rng.integers(1, T - 60, N), -100_000).astype(np.int32)
    list_index = np.where(kinds == 3, np.maximum(list_index, star_open + rng.integers(0, 400, N)), list_index)
    list_index = np.minimum(list_index, T - 20).astype(np.int32)
    delisted = rng.random(N) < 0.03
    delist_index = np.where(delisted, np.maximum(list_index, 0) + rng.integers(200, T, N), T - 1)
    delist_index = np.minimum(delist_index, T - 1).astype(np.int32)

    rows = np.arange(T, dtype=np.int32)[:, None]
    is_listed = (rows >= list_index[None, :]) & (rows <= delist_index[None, :])
    has_bar = is_listed & (rng.random((T, N), dtype=np.float32) > 0.005)

    ret = rng.standard_t(4, (T, N)).astype(np.float32) * np.float32(0.018) + np.float32(0.0002)
    np.clip(ret, -0.095, 0.095, out=ret)
    ret[~has_bar] = 0
    close = (np.float32(8.0) * np.exp(np.cumsum(ret, axis=0, dtype=np.float32))).astype(np.float32)
    del ret
    close *= rng.uniform(0.5, 6.0, N).astype(np.float32)[None, :]
    close = np.round(close, 2)
    gap = (rng.standard_normal((T, N), dtype=np.float32) * np.float32(0.006))
    open_ = np.round(close * (1 + gap), 2)
    del gap
    spread = np.abs(rng.standard_normal((T, N), dtype=np.float32)) * np.float32(0.01)
    high = np.round(np.maximum(open_, close) * (1 + spread), 2)
    low = np.round(np.minimum(open_, close) * (1 - spread), 2)
    del spread
    volume = np.round(rng.lognormal(13.5, 0.8, (T, N)).astype(np.float32), -2)
    amount = (volume * (open_ + close) * np.float32(0.5)).astype(np.float32)
    adj = np.ones((T, N), dtype=np.float32)
    shares = np.broadcast_to(rng.uniform(5e7, 2e9, N).astype(np.float32)[None, :], (T, N)).copy()
    panels = {"open": open_, "high": high, "low": low, "close": close, "volume": volume, "amount": amount,
              "adj_factor": adj, "total_shares": shares, "float_shares": shares}
    for name in list(panels):
        panels[name][~has_bar] = np.nan
    panels["pre_close"] = derive.derive_pre_close(close, adj, has_bar)
    is_suspended = is_listed & ~has_bar
    is_st = np.zeros((T, N), dtype=bool)
    board = np.array(["main", "main", "chinext", "star"], dtype=object)[kinds]
    exchange = np.array([s.rsplit(".", 1)[1] for s in symbols], dtype=object)
    day_listed = derive.days_listed(T, list_index)
    list_dates = np.where(list_index >= 0, dates[np.clip(list_index, 0, T - 1)], np.datetime64("2000-01-04"))
    hl, ll = derive.limit_panels(rules, dates, board, is_st, panels["pre_close"], day_listed, list_dates)
    hl[~has_bar] = np.nan
    ll[~has_bar] = np.nan
    panels["high_limit"], panels["low_limit"] = hl, ll
    instruments = pd.DataFrame({"symbol": symbols, "name": symbols, "board": board, "exchange": exchange,
                                "list_date": pd.to_datetime(list_dates)})
    return Market(dates=dates, symbols=symbols, instruments=instruments, rules=rules, panels=panels,
                  has_bar=has_bar, is_listed=is_listed, is_suspended=is_suspended, is_st=is_st,
                  days_listed=day_listed, list_index=list_index, delist_index=delist_index, board=board,
                  exchange=exchange, source=f"<synthetic {N}x{T}>")


def monthly_targets(market, names: int = 50, seed: int = 11, months: int = 156) -> pd.DataFrame:
    """First trading day of each month; `names` random stocks that traded the day before."""
    rng = np.random.default_rng(seed)
    months_of = market.dates.astype("datetime64[M]")
    first = np.flatnonzero(np.r_[True, months_of[1:] != months_of[:-1]])[:months]
    rows = []
    for t in first:
        eve = max(int(t) - 1, 0)
        pool = np.flatnonzero(market.has_bar[eve] & market.is_listed[t])
        pick = rng.choice(pool, min(names, len(pool)), replace=False)
        day = str(market.dates[t])
        rows += [(day, market.symbols[s], round(CASH_BUFFER / len(pick), 8)) for s in pick]
    return pd.DataFrame(rows, columns=["rebalance_date", "symbol", "weight"])


def load_or_make_market(n_stocks: int | None):
    if n_stocks is None and DATA_DIR.exists():
        from ashare_sim.data.market import load_market
        return load_market(DATA_DIR)
    return synthetic_market(n_stocks or 5000)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ----- one timed run, in this process ----------------------------------------------------
def child(kind: str, n_stocks: int | None, rules: str) -> dict:
    from ashare_sim.backtest.run import run_backtest
    from ashare_sim.config import load_config

    t0 = time.perf_counter()
    market = load_or_make_market(n_stocks)
    targets = monthly_targets(market)
    build_s = time.perf_counter() - t0
    rss_data = peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        tfile = Path(tmp) / "targets.csv"
        targets.to_csv(tfile, index=False)
        start, end = str(market.dates[0]), str(market.dates[-1])
        sets = [f"backtest.start={start}", f"backtest.end={end}", f"strategy.targets_file={tfile}",
                "output.report=false", "log_level=WARNING"]
        if kind == "naive":
            sys.path.insert(0, str(ROOT / "bench"))
            from naive_engine import run_naive
            t1 = time.perf_counter()
            final = run_naive(market, targets, cash=10_000_000.0, commission=0.0003)
            sim = time.perf_counter() - t1
            return {"kind": kind, "stocks": int(market.n_symbols), "days": int(market.n_days), "sim_s": sim,
                    "build_s": build_s, "final_value": final, "peak_rss_mb": peak_rss_mb(), "rss_data_mb": rss_data}
        sets += ["backtest.benchmark=" + ("none" if rules == "off" else "pool")]
        if rules == "off":
            sets += ["broker.limit_rule='off'", "broker.volume_cap=null", "broker.lot_size=false",
                     "broker.t_plus_1=false", "broker.commission.min=0", "broker.stamp_duty=0",
                     "broker.transfer_fee=0", "broker.retry=false"]
        cfg = load_config(None, sets)
        from ashare_sim.common.logs import setup_logging
        setup_logging("WARNING")
        t1 = time.perf_counter()
        result = run_backtest(market, cfg, Path(tmp) / "out")
        sim = time.perf_counter() - t1
        return {"kind": kind, "rules": rules, "stocks": int(market.n_symbols), "days": int(market.n_days),
                "sim_s": sim, "build_s": build_s, "final_value": float(result.equity["value"].iloc[-1]),
                "orders": len(result.orders), "fills": len(result.trades), "peak_rss_mb": peak_rss_mb(),
                "stages": {k: round(v, 2) for k, v in result.timings.items()},
                "rss_data_mb": rss_data}


def spawn(kind: str, n_stocks: int | None, rules: str = "on") -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--rules", rules]
    if n_stocks is not None:
        cmd += ["--stocks", str(n_stocks)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_run(kind: str, n: int | None, rules: str, repeat: int) -> dict:
    runs = [spawn(kind, n, rules) for _ in range(repeat)]
    best = dict(runs[0])
    best["sim_s"] = statistics.median(r["sim_s"] for r in runs)
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    best["all_sim_s"] = [round(r["sim_s"], 2) for r in runs]
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", choices=["ours", "naive"])
    ap.add_argument("--rules", choices=["on", "off"], default="on")
    ap.add_argument("--stocks", type=int)
    ap.add_argument("--naive-stocks", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--skip-naive", action="store_true")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.stocks, args.rules)))
        return 0

    if not args.skip_full:
        src = str(DATA_DIR) if DATA_DIR.exists() else "5,000 x 3,150 in memory (numpy)"
        full = median_run("ours", None, "on", args.repeat)
        print(f"(a) full market [{src}]: {full['stocks']} stocks x {full['days']} days, 156 monthly rebalances "
              f"x 50 names, all rules on")
        print(f"    simulation {full['sim_s']:.1f} s (runs {full['all_sim_s']}), peak RSS {full['peak_rss_mb']:.0f} MB "
              f"(market in memory {full['rss_data_mb']:.0f} MB), {full['orders']} orders, {full['fills']} fills, "
              f"final value {full['final_value']:,.0f}")
        print(f"    stages (s): {full['stages']}")
    if not args.skip_naive:
        n = args.naive_stocks
        ours = median_run("ours", n, "off", args.repeat)
        naive = median_run("naive", n, "off", 1)
        ratio = naive["sim_s"] / ours["sim_s"]
        print(f"(b) {n} stocks x {ours['days']} days, same targets, next-open fills, rules off:")
        print(f"    naive (one PandasData per stock, BackBroker): {naive['sim_s']:.1f} s, "
              f"peak RSS {naive['peak_rss_mb']:.0f} MB, final value {naive['final_value']:,.0f}")
        print(f"    ours  (one clock feed, AShareBroker):          {ours['sim_s']:.2f} s, "
              f"peak RSS {ours['peak_rss_mb']:.0f} MB, final value {ours['final_value']:,.0f}")
        print(f"    speed-up: {ratio:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
