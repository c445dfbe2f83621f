"""The market a config names: `open_market(cfg)`, the embedded synthetic one generated on first use.

Reads only `cfg.data` and `cfg.rules` (the config's sections, by attribute), so the data layer does not
depend on the config package.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.data.market import Market
from ashare_sim.rules import RulesTable

# The embedded market's folder, relative to the config file or the working directory.
EMBEDDED_PATH = "data/synthetic"
# Disk use of the generated market, measured on the default one (5,000 stocks, 2010-2022: 229 MB).
_EMBEDDED_MB_PER_STOCK_YEAR = 229 / (5000 * 13.0)


def is_embedded_market_path(path: Path) -> bool:
    """The embedded market lives at `data/synthetic` (relative to the config file or the working directory)."""
    return Path(path).parts[-2:] == Path(EMBEDDED_PATH).parts


def ensure_market(cfg) -> Path:
    """The configured data directory. The default one (a path ending in data/synthetic) is the embedded
    market: generated when missing, and generated again when its stamp shows another generator version or
    other `data.generate` arguments (a directory without our stamp is never touched)."""
    path = Path(cfg.data.path)
    if not is_embedded_market_path(path):
        return path
    from ashare_sim.data.synthetic.stamp import read_stamp, stamp

    g = cfg.data.generate
    wanted = stamp(g.stocks, g.start, g.end, g.seed)
    if path.exists():
        found = read_stamp(path)
        if found is None or found == wanted:
            return path
        logger.warning(f"{path} was made by another generator version or other data.generate arguments "
                       f"({found} != {wanted}): generating it again")
        shutil.rmtree(path)
    else:
        years = max((g.end - g.start).days / 365.25, 0.1)
        # Expected in the working directory (the quick start's first run); elsewhere (beside a config file
        # in another folder) a user may not expect hundreds of MB to appear, so it is a warning there.
        here = path.resolve() == (Path.cwd() / EMBEDDED_PATH).resolve()
        logger.log("INFO" if here else "WARNING",
                   f"{path} not found: generating the embedded synthetic market there ({g.stocks:,} stocks, "
                   f"{g.start}..{g.end}, seed {g.seed}; about {_EMBEDDED_MB_PER_STOCK_YEAR * g.stocks * years:,.0f} "
                   f"MB on disk, made once and reused); set data.path to use a market you already have")
    from ashare_sim.data.synthetic.generator import generate_market     # only when generating: 0.05 s of every run

    generate_market(path, stocks=g.stocks, start=g.start, end=g.end, seed=g.seed)
    return path


def check_output_outside_market(out, cfg, flag: str = "--out") -> None:
    """Outputs never go inside the market data directory: they would change the data a cache and a stress
    grid recognise it by, and a later `data import --replace` of the market would have to remove them."""
    data = Path(cfg.data.path).resolve()
    target = Path(out).resolve()
    if target == data or data in target.parents:
        raise UserError(f"{flag} {out}: inside the market data directory {cfg.data.path}; write outputs to a folder "
                        "of their own")


def open_market(cfg) -> Market:
    """The configured market, mapped from the cache after its first read (data.cache)."""
    from ashare_sim.data.cache import load_market_cached

    rules = RulesTable.load(cfg.rules.table)
    return load_market_cached(ensure_market(cfg), rules, getattr(cfg.data, "bad_bars", "refuse"))
