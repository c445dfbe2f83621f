"""`backtest`: config -> market -> engine -> output files."""
from __future__ import annotations

import argparse
import gc
from pathlib import Path

from loguru import logger

from ashare_sim.common.logs import setup_logging
from ashare_sim.common.outdir import check_output_dir
from ashare_sim.common.text import shown_path
from ashare_sim.config import Config, load_config
from ashare_sim.data.open import check_output_outside_market, open_market
from ashare_sim.metrics.performance import headline_returns


def load_cli_config(args: argparse.Namespace) -> Config:
    path = args.config
    if path is None:
        path = "config.yaml" if Path("config.yaml").is_file() else "default"
    cfg = load_config(path, args.overrides)
    if not getattr(args, "log_level_forced", False):
        setup_logging(cfg.log_level)
    return cfg


def run_backtest_command(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    out = Path(args.out or cfg.output.dir)
    check_output_dir(out)                   # before loading anything: a bad --out costs a second, not a run
    check_output_outside_market(out, cfg)
    market = open_market(cfg)
    logger.info(f"market {market.source}: {market.n_symbols} symbols x {market.n_days} days "
                f"({market.nbytes() / 1e6:.0f} MB of panels); output to {out}")
    from ashare_sim.backtest.run import run_backtest

    if getattr(args, "one_shot", False):
        # The modules and the market loaded so far stay until the process exits: the collector's passes during
        # and after the run need not walk them again (about 0.2 s of a full-market run). Not in a process that
        # goes on (tests, a notebook): there it would also keep any garbage cycle alive now.
        gc.freeze()
    result = run_backtest(market, cfg, out, progress=True)
    print(summary_text(result.metrics, out))
    return 0


def summary_text(m: dict, out: Path) -> str:
    """The headline figures and the run's execution assumptions for the terminal; the files hold the rest."""
    def pct(key: str, sign: str = "+") -> str:
        v = m.get(key)
        return "n/a" if v is None else format(v, f"{sign}.1%")

    def num(key: str, fmt: str = "{:.2f}") -> str:
        v = m.get(key)
        return "n/a" if v is None else fmt.format(v)

    def signed(v) -> str:
        return "n/a" if v is None else format(v, "+.1%")

    bench = m.get("benchmark_label") or "no benchmark"
    head = headline_returns(m)
    lines = [
        f"{m.get('start')} .. {m.get('end')}  final value {num('final_value', '{:,.0f}')} CNY"
        + (f"  ({head['note']})" if head["note"] else ""),
        f"  {head['label'] + ' return':<17} {signed(head['portfolio']):>8}   {bench}: {signed(head['benchmark'])}",
        f"  {'excess (' + head['label'] + ')':<17} {signed(head['excess']):>8}   IR {num('information_ratio')}, "
        f"TE {pct('tracking_error', '')}, monthly win rate {num('monthly_win_rate', '{:.1%}')}",
        f"  max drawdown      {pct('max_drawdown'):>8}   Sharpe {num('sharpe')}, turnover {num('annual_turnover')}x/yr, "
        f"costs {num('total_costs', '{:,.0f}')} CNY ({num('costs_annual_pct', '{:.2%}')} a year)",
    ]
    if m.get("execution"):
        lines.append("execution assumptions:")
        width = max(len(label) for label, _ in m["execution"])
        lines += [f"  {label:<{width}}  {text}" for label, text in m["execution"]]
    stale = (m.get("data") or {}).get("stale")
    if stale:
        lines.append(f"data: {stale['count']} stock(s) without a bar for over a year and no delisting date, carried as "
                     f"suspended (e.g. {', '.join(stale['examples'][:2])})")
    skipped = {k: v for k, v in (m.get("skipped") or {}).items() if v and k != "at_target"}
    if skipped:
        lines.append("targets without an order: " + ", ".join(f"{k} {v:,}" for k, v in skipped.items()))
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir()) if out.is_dir() else []
    lines.append(f"files in {shown_path(out)}/: " + " ".join(names))
    return "\n".join(lines)
