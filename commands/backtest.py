"""`backtest`: config -> market -> engine -> output files."""
from __future__ import annotations

import argparse
from pathlib import Path

from loguru import logger

from core.config import DEFAULT_DATA_PATH, Config, load_config
from core.logs import setup_logging
from feeds.market import Market, load_market
from rules import RulesTable


def load_cli_config(args: argparse.Namespace) -> Config:
    cfg = load_config(args.config, args.overrides)
    if not getattr(args, "log_level_forced", False):
        setup_logging(cfg.log_level)
    return cfg


def ensure_market(cfg: Config) -> Path:
    """The configured data directory; the embedded market is generated when it is the default and missing."""
    path = Path(cfg.data.path)
    if not path.exists() and cfg.data.path == DEFAULT_DATA_PATH:
        from synthetic.generator import generate_market

        g = cfg.data.generate
        logger.info(f"{path} not found: generating the embedded synthetic market ({g.stocks} stocks, "
                    f"{g.start}..{g.end}, seed {g.seed}); later runs reuse it")
        generate_market(path, stocks=g.stocks, start=g.start, end=g.end, seed=g.seed)
    return path


def load_configured_market(cfg: Config) -> Market:
    rules = RulesTable.load(cfg.rules.table)
    return load_market(ensure_market(cfg), rules)


def run_backtest_command(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    market = load_configured_market(cfg)
    out = Path(args.out or cfg.output.dir)
    logger.info(f"market {market.source}: {market.n_symbols} symbols x {market.n_days} days "
                f"({market.nbytes() / 1e6:.0f} MB of panels); output to {out}")
    from engine.run import run_backtest

    run_backtest(market, cfg, out)
    return 0
