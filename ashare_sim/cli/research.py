"""`research`: config -> market -> research analytics -> DIR/research/*.csv + DIR/research.html."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from loguru import logger

from ashare_sim.cli.backtest import load_cli_config
from ashare_sim.common.outdir import check_output_dir
from ashare_sim.common.text import shown_path
from ashare_sim.data.open import check_output_outside_market, open_market


def run_research_command(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    started = time.perf_counter()
    out = Path(args.out or cfg.output.dir)
    check_output_dir(out)                   # before any work
    check_output_outside_market(out, cfg)
    market = open_market(cfg)
    logger.info(f"market {market.source}: {market.n_symbols} symbols x {market.n_days} days; research to {out}")
    from ashare_sim.research.build import run_research

    result = run_research(market, cfg)
    files = result.write(out)
    print(summary_text(result, out, files, time.perf_counter() - started))
    return 0


def summary_text(r, out: Path, files: list[str], seconds: float) -> str:
    """The headline research figures for the terminal; the files hold the rest."""
    def p(x, signed: bool = False) -> str:
        return "n/a" if x is None or x != x else format(x, "+.1%" if signed else ".1%")

    lines = [f"{r.window[0]} .. {r.window[1]}  research on {shown_path(r.source)} in {seconds:.0f} s"]
    sg = r.size_groups
    if len(sg):
        g_max = int(sg["group"].max())
        for era, part in sg.groupby("era", sort=False):
            e = part.set_index("group")["excess_annual_return"]
            lines.append(f"  size {era:<14} D1 {p(e.get(1), True):>7}  D{g_max} {p(e.get(g_max), True):>7} a year "
                         "vs the equal-weight market")
    by = r.smallest_by_year
    if len(by):
        cols = [c for c in by.columns if c != "year"]
        lines.append("  by year          " + "  ".join(f"{c:>11}" for c in cols))
        for _, row in by.iterrows():
            lines.append(f"  {int(row['year']):<16} " + "  ".join(f"{p(row[c]):>11}" for c in cols))
        rates = r.smallest_rates
        lines.append("  whole (annual)   " + "  ".join(f"{p(rates.get(c)):>11}" for c in cols))
    v = r.valuation
    if len(v):
        x = v.iloc[-1]
        lines.append(f"  valuation {str(x['date'])[:10]}  PB {x['pb_median']:.2f} (pct {x['pb_percentile']:.0f}), "
                     f"PE-TTM {x['pe_ttm_median']:.1f} (pct {x['pe_ttm_percentile']:.0f})")
    lines.append(f"  crowding: {r.flag.text.split(' An indicator')[0]}")
    lines.append(f"  files: {out / 'research.html'}, {out / 'research'}/ ({', '.join(files[:4])}, ...)")
    return "\n".join(lines)
