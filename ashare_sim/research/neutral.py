"""Industry-neutral scoring vs the configured scoring, side by side.

Step: compare
  requires: the configured pipeline result, the market's industries, research.compare_neutral
  sets:     the other variant of strategy.neutralize (industry when the config says none,
            and the reverse) scored by the same pipeline (signals.pipeline.build_targets);
            - ic: per factor and composite, mean RankIC, IC-IR and win rate of both
            - backtest (compare_neutral: backtest): the headline figures of both
              variants' backtests (backtest.run.run_backtest on their targets, in memory)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from loguru import logger

from ashare_sim.config import with_overrides
from ashare_sim.signals.pipeline import SignalResult, build_targets
from ashare_sim.signals.transform import industries

HEADLINE = ("annual_return", "excess_annual_return", "information_ratio", "tracking_error", "max_drawdown",
            "monthly_win_rate", "annual_turnover", "total_costs")
IC_FIGURES = ("mean", "ic_ir", "win_rate")


@dataclass
class Comparison:
    variants: list[str]                       # strategy.neutralize values, the configured one first
    ic: pd.DataFrame                          # index factor; columns (figure, variant)
    backtest: pd.DataFrame = field(default_factory=pd.DataFrame)   # index HEADLINE; columns variant
    note: str = ""


def compare(market, cfg, base: SignalResult) -> Comparison | None:
    mode = cfg.research.compare_neutral
    if mode == "none":
        return None
    if industries(market) is None:
        logger.warning(f"research: {market.source} instruments have no 'industry' column: "
                       "no industry-neutral comparison")
        return None
    mine = cfg.strategy.neutralize
    other = "industry" if mine == "none" else "none"
    other_cfg = with_overrides(cfg, {"strategy.neutralize": other})
    alt = build_targets(market, other_cfg)
    ic = pd.concat({f: pd.DataFrame({mine: base.ic_summary[f], other: alt.ic_summary[f]}) for f in IC_FIGURES},
                   axis=1)
    result = Comparison(variants=[mine, other], ic=ic)
    if mode == "backtest":
        from ashare_sim.backtest.run import run_backtest

        figures = {}
        for name, c, signal in ((mine, cfg, base), (other, other_cfg, alt)):
            logger.info(f"research: backtest with strategy.neutralize: {name}")
            metrics = run_backtest(market, c, None, targets=signal.targets).metrics
            figures[name] = [metrics.get(k) for k in HEADLINE]
        result.backtest = pd.DataFrame(figures, index=list(HEADLINE))
    return result
