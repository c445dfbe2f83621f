"""Performance and factor statistics (plain functions) and the Backtrader analyzers that call them.

`metrics.performance` has no Backtrader import, so the statistics can be used
on any equity / trades table; `backtest.analyzers` wraps them for Cerebro.
"""
from ashare_sim.metrics.performance import (
    compute_metrics,
    factor_metrics,
    json_safe,
    monthly_returns,
)

__all__ = ["compute_metrics", "factor_metrics", "json_safe", "monthly_returns"]
