"""The study's strategy on the real A-share market, side by side with the study, and the gap by ablation.

    .venv/bin/python bench/study_real.py [--market /tmp/real_market] [--out /tmp/study_real] [--skip-ablation]

`--market` is the real market as `bench/real_market.py` imports it (run that first). Prints:
1. the study's table (Guosen small-cap study, 2010-01..2022-03) beside our run with the study's
   execution (`configs/study.yaml`) over the same window, the realistic default over the same
   window, and the realistic default over all the data (to 2026);
2. our rows by year;
3. an ablation: one change at a time from the study run (costs, universe, weighting, factor
   families, survivorship, the timing of fundamentals), so the gap to the study is explained by
   measurement, never by tuning;
4. wall time and peak RSS of one study run end to end (load + score + simulate + write).
Nothing is asserted; a benchmark prints figures.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STUDY_WINDOW = ["backtest.start=2010-01-01", "backtest.end=2022-03-31"]
FUNDAMENTAL_FACTORS = ("book_to_price", "roe", "sue", "profit_growth", "announcement_gap")
ALL_FACTORS = ("book_to_price", "dividend_yield", "roe", "sue", "profit_growth", "announcement_gap", "amihud",
               "residual_vol", "size")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(market, sets: list[str], study: bool = True, out: Path | None = None) -> dict:
    from ashare_sim.backtest.run import run_backtest
    from ashare_sim.config import load_config

    cfg = load_config("study" if study else "default",
                      [f"data.path={market.source}", "output.report=false", *sets])
    return run_backtest(market, cfg, out).metrics


def figures(m: dict) -> dict:
    comp = (m.get("factors") or {}).get("composite") or {}
    return {"annual_return": m["annual_return"], "benchmark_annual_return": m["benchmark_annual_return"],
            "excess_annual_return": m["excess_annual_return"], "excess_max_drawdown": m["excess_max_drawdown"],
            "information_ratio": m["information_ratio"], "tracking_error": m["tracking_error"],
            "monthly_win_rate": m["monthly_win_rate"], "composite_ic_ir": comp.get("ic_ir"),
            "max_drawdown": m["max_drawdown"], "costs_annual_pct": m["costs_annual_pct"]}


def fmt(key: str, v) -> str:
    if v is None:
        return "n/a"
    if key in ("information_ratio", "composite_ic_ir"):
        return f"{v:.2f}"
    return f"{v:+.2%}" if key.startswith("excess") else f"{v:.2%}"


def survivors_copy(src: Path, dst: Path) -> Path:
    """The market without the stocks that delisted (what a survivors-only data set holds)."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    inst = pd.read_parquet(dst / "instruments.parquet")
    gone = set(inst.loc[inst["delist_date"].notna(), "symbol"])
    inst[~inst["symbol"].isin(gone)].to_parquet(dst / "instruments.parquet", index=False)
    for name in ("bars", "st", "fundamentals", "dividends", "industry_history"):
        path = dst / f"{name}.parquet"
        if path.exists():
            df = pd.read_parquet(path)
            df = df[~df["symbol"].isin(gone)]
            df = df.assign(symbol=df["symbol"].astype(str))      # no dictionary entries of removed symbols
            df.to_parquet(path, index=False)
    return dst


def deadline_copy(src: Path, dst: Path) -> Path:
    """The market with every report usable only from its statutory deadline (no early-announcer edge,
    and a margin against restated values announced later)."""
    from ashare_sim.rules import RulesTable

    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    rules = RulesTable.load()
    f = pd.read_parquet(dst / "fundamentals.parquet")
    deadline = pd.to_datetime([rules.report_deadline(d.date()) for d in pd.to_datetime(f["period_end"])])
    f["ann_date"] = np.maximum(pd.to_datetime(f["ann_date"]).to_numpy(), deadline.to_numpy())
    f.to_parquet(dst / "fundamentals.parquet", index=False)
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--market", default="/tmp/real_market")
    ap.add_argument("--out", default="/tmp/study_real")
    ap.add_argument("--skip-ablation", action="store_true")
    args = ap.parse_args()
    from loguru import logger

    logger.remove()
    from ashare_sim.data.market import load_market
    from ashare_sim.metrics import study

    market_dir = Path(args.market)
    if not (market_dir / "bars.parquet").exists():
        sys.exit(f"{market_dir}: no imported real market; run bench/real_market.py --out {market_dir} first")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    market = load_market(market_dir)
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    ours = run(market, STUDY_WINDOW, out=out / "study")
    run_s = time.perf_counter() - t1
    print(f"one study run: load {load_s:.1f} s + score, simulate and write {run_s:.1f} s = "
          f"{load_s + run_s:.1f} s (goal 60 s), peak RSS {rss_mb():,.0f} MB")
    realistic = run(market, STUDY_WINDOW, study=False)
    to_end = run(market, [], study=False, out=out / "realistic_2026")

    rows = [("annual return", "annual_return"), ("pool (equal weight)", "benchmark_annual_return"),
            ("excess (annual)", "excess_annual_return"), ("max drawdown of the excess", "excess_max_drawdown"),
            ("information ratio", "information_ratio"), ("tracking error", "tracking_error"),
            ("monthly win rate", "monthly_win_rate"), ("composite RankIC IR", "composite_ic_ir"),
            ("max drawdown", "max_drawdown"), ("costs a year", "costs_annual_pct")]
    cols = [figures(ours), figures(realistic), figures(to_end)]
    print(f"\n{'figure':<28} {'study':>10} {'ours, study exec':>17} {'ours, realistic':>16} "
          f"{'realistic to ' + str(to_end['end'])[:4]:>18}")
    for label, key in rows:
        s = study.FIGURES.get(key)
        print(f"{label:<28} {fmt(key, s):>10} " + " ".join(f"{fmt(key, c[key]):>16}" for c in cols))
    print(f"(study: {study.SOURCE}; ours on {market_dir}, {ours['start']}..{ours['end']}; "
          f"realistic to {to_end['start']}..{to_end['end']})")

    print("\nby year (ours, study execution)   portfolio      pool    excess")
    for r in ours["by_year"]:
        print(f"  {r['year']}                           {r['portfolio_return']:>8.2%} {r['benchmark_return']:>9.2%} "
              f"{r['excess_return']:>+9.2%}")
    print("  (the study's own per-year rows are not part of this project's sources)")

    if args.skip_ablation:
        return
    base = figures(ours)
    variants = [
        ("no trading costs", ["broker.commission.rate=0"]),
        ("deal at the close, not the open", ["broker.deal_price=close"]),
        ("universe by free-float cap", ["strategy.universe.cap=float"]),
        ("ST names kept in the pool", ["strategy.universe.exclude_st=false"]),
        ("equal factor weights", ["strategy.factors.weighting=equal"]),
        ("IC-IR factor weights", ["strategy.factors.weighting=ic_ir"]),
        ("price factors only (no fundamentals)",
         ["strategy.factors.use=[" + ", ".join(f for f in ALL_FACTORS if f not in FUNDAMENTAL_FACTORS) + "]"]),
        ("fundamentals only", ["strategy.factors.use=[" + ", ".join(FUNDAMENTAL_FACTORS + ("dividend_yield",)) + "]"]),
    ]
    print(f"\nablation (one change from the study run)     {'annual':>8} {'pool':>8} {'excess':>8} {'IR':>6} "
          f"{'win':>7} {'IC-IR':>6}")

    def line(label: str, f: dict) -> None:
        print(f"  {label:<42} {f['annual_return']:>8.2%} {f['benchmark_annual_return']:>8.2%} "
              f"{f['excess_annual_return']:>+8.2%} {f['information_ratio']:>6.2f} {f['monthly_win_rate']:>7.1%} "
              f"{(f['composite_ic_ir'] or float('nan')):>6.2f}")

    line("study run (as above)", base)
    for label, sets in variants:
        line(label, figures(run(market, STUDY_WINDOW + sets)))
    del market
    for label, maker, name in (("survivors only (delisted stocks removed)", survivors_copy, "survivors"),
                               ("reports used from their statutory deadline", deadline_copy, "deadline")):
        copy = maker(market_dir, out / f"market_{name}")
        line(label, figures(run(load_market(copy), STUDY_WINDOW)))
        shutil.rmtree(copy, ignore_errors=True)


if __name__ == "__main__":
    main()
