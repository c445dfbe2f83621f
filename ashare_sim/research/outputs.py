"""`DIR/research/*.csv` and `DIR/research.html`, written as one set (common.outdir.output_set,
manifest research.json).

The previous run's research/ folder is replaced whole, so no file of it is left beside the
new ones; a backtest's files in the same DIR are not touched, and its report.html gains a
link to research.html (report.html.link_pages). Dates are YYYY-MM-DD; percentiles 0..100.

Files (docs/outputs.md; the contract's first, then the supporting tables):
  size_groups.csv           era, group, excess_annual_return, annual_return, market_annual_return, months
  smallest100.csv           year, smallest<N>, pool[, benchmark]   (named for research.smallest_n)
  valuation.csv             date, pb_median, pe_ttm_median, pb_percentile, pe_ttm_percentile, aggregates, names
  crowding.csv              date, pool_pe_percentile, smallcap_turnover_share, participation, days_to_exit,
                            limit_down_names, <indicator>_percentile, extremes
  crowding_worst_days.csv   the crowding rows of the days with the most names at limit-down
  size_groups_monthly.csv   date (rebalance), D1..DG, market: monthly equal-weight returns
  style_exposure.csv        date (signal), size, value, roe, growth, momentum, volatility, liquidity
  industry_weights.csv      date, industry, portfolio, pool, active
  neutral_ic.csv            factor, then mean / ic_ir / win_rate per strategy.neutralize variant
  neutral_backtest.csv      figure, one column per variant
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from loguru import logger

from ashare_sim.backtest.outputs import csv_frame
from ashare_sim.common.outdir import output_set
from ashare_sim.report.html import link_pages
from ashare_sim.report.research import render
from ashare_sim.research.build import ResearchResult


def tables(r: ResearchResult) -> dict[str, pd.DataFrame]:
    """File name -> table, as written."""
    monthly = r.size_monthly.copy()
    monthly.columns = [c if c == "market" else f"D{c}" for c in monthly.columns]
    out = {
        "size_groups.csv": r.size_groups,
        "smallest100.csv": r.smallest_by_year,
        "valuation.csv": r.valuation,
        "crowding.csv": r.crowding,
        "crowding_worst_days.csv": r.worst_days,
        "size_groups_monthly.csv": monthly.reset_index(),
        "style_exposure.csv": r.exposure,
        "industry_weights.csv": r.industry,
    }
    if r.neutral is not None:
        ic = r.neutral.ic.copy()
        ic.columns = [f"{fig}_{variant}" for fig, variant in ic.columns]
        out["neutral_ic.csv"] = ic.rename_axis("factor").reset_index()
        if len(r.neutral.backtest):
            out["neutral_backtest.csv"] = r.neutral.backtest.rename_axis("figure").reset_index()
    return out


def write_research(out: Path, r: ResearchResult, cfg) -> list[str]:
    """Write the set into `out`; returns the file names under research/."""
    written = tables(r)

    out = Path(out)
    with output_set(out, "research.json", {"kind": "research", "data": str(r.source)}) as tmp:
        folder = tmp / "research"
        folder.mkdir()
        for name, frame in written.items():
            csv_frame(frame, ("date",)).to_csv(folder / name, index=False)
        (tmp / "research.html").write_text(render(r, cfg), encoding="utf-8")
    link_pages(out)
    logger.info(f"research written to {out / 'research'} ({len(written)} files) and {out / 'research.html'} "
                f"({(out / 'research.html').stat().st_size / 1024:.0f} KB)")
    return list(written)
