"""A-share small-cap simulator: an event-driven trading and portfolio simulator on Backtrader for China
A-share multi-factor strategies, with paper trading and stress grids.

    import ashare_sim as sim

    cfg = sim.load_config()                       # config.yaml's defaults; or a file / "study", plus overrides
    market = sim.open_market(cfg)
    result = sim.run_backtest(market, cfg)
    result.metrics["annual_return"], result.equity.tail()

The names below come from `ashare_sim.api` (loaded on first use, so `import ashare_sim` stays light).
Logging is off until `sim.enable_logging("INFO")`.
"""
from __future__ import annotations

import os as _os

from loguru import logger as _logger

# On 2 shared cores OpenBLAS's threaded path made the factor pipeline's small matrix products ~80x
# slower; one thread is faster for our shapes. It only takes effect when numpy is not loaded yet, and
# a value the user set wins.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# A library is quiet until its user asks: the command line turns the log on.
_logger.disable("ashare_sim")

# The public names, each loaded from its module on first use (so `sim.UserError` does not load Backtrader).
_EXPORTS = {
    "UserError": "ashare_sim.common.errors", "ConfigError": "ashare_sim.common.errors",
    "DataError": "ashare_sim.common.errors", "enable_logging": "ashare_sim.common.logs",
    "Config": "ashare_sim.config", "load_config": "ashare_sim.config", "Market": "ashare_sim.data.market",
    "BacktestResult": "ashare_sim.backtest.run", "ResearchResult": "ashare_sim.research.build",
    "StressResult": "ashare_sim.stress.run", "PaperAccount": "ashare_sim.paper.account",
    "RunStatus": "ashare_sim.paper.account",
    "open_market": "ashare_sim.api", "run_backtest": "ashare_sim.api", "run_research": "ashare_sim.api",
    "run_stress": "ashare_sim.api", "paper_account": "ashare_sim.api", "generate_market": "ashare_sim.api",
    "validate_market": "ashare_sim.api", "transaction_costs": "ashare_sim.api", "TcaResult": "ashare_sim.metrics.tca",
    "MarketView": "ashare_sim.signals.view",
    "make_cerebro": "ashare_sim.backtest.userland", "AShareFeed": "ashare_sim.backtest.userland",
    "AShareCommission": "ashare_sim.backtest.userland", "use_ashare_costs": "ashare_sim.backtest.userland",
    "write_cerebro_report": "ashare_sim.backtest.userland", "PerformanceAnalyzer": "ashare_sim.backtest.analyzers",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("ashare-sim")
        except metadata.PackageNotFoundError:
            return "unknown (not installed)"
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ashare_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
