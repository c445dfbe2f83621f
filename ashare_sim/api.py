"""The Python API: what a notebook needs, the same functions the command line runs.

    import ashare_sim as sim

    cfg = sim.load_config("study", {"backtest.start": "2015-01-01"})   # a file, a preset name, or None
    market = sim.open_market(cfg)                 # the configured market (the embedded one is made once)
    result = sim.run_backtest(market, cfg)        # BacktestResult: metrics, equity, orders, trades, ...
    result.write("out")                           # the usual files and report.html

Everything here validates its input the way the command line does and raises `UserError` (with the
same one-line message) for bad input. Logging is off until `enable_logging()`.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable, Optional

import pandas as pd

from ashare_sim.backtest.run import BacktestResult
from ashare_sim.backtest.run import run_backtest as _run_backtest
from ashare_sim.common.errors import UserError
from ashare_sim.common.outdir import check_output_dir
from ashare_sim.common.typed import parse_date
from ashare_sim.config import Config, load_config
from ashare_sim.config.schema import GenerateConfig
from ashare_sim.data.market import Market
from ashare_sim.data.open import check_output_outside_market
from ashare_sim.data.open import open_market as _open_market
from ashare_sim.metrics.tca import KEstimate, TcaResult
from ashare_sim.paper.account import PaperAccount
from ashare_sim.research.build import ResearchResult
from ashare_sim.research.build import run_research as _run_research
from ashare_sim.signals.view import MarketView
from ashare_sim.stress.run import StressResult
from ashare_sim.stress.run import run_stress as _run_stress


def _config(cfg: Any) -> Config:
    """A Config as given, or loaded from a file or preset name; None: the defaults."""
    if cfg is None:
        return load_config()
    if isinstance(cfg, Config):
        return cfg
    if isinstance(cfg, (str, Path)):
        return load_config(cfg)
    raise TypeError(f"cfg: expected a Config (sim.load_config(...)), a config file or a preset name; got "
                    f"{type(cfg).__name__}")


def _market(market: Any, cfg: Config) -> Market:
    if market is None:
        return open_market(cfg)
    if isinstance(market, Market):
        return market
    if isinstance(market, (str, Path)):
        return open_market(market)
    hint = " (the market comes first: run_backtest(market, cfg), or run_backtest(cfg=cfg))" \
        if isinstance(market, Config) else ""
    raise TypeError(f"market: expected a Market (sim.open_market(...)) or a market folder; got "
                    f"{type(market).__name__}{hint}")


def open_market(where: Config | str | Path | None = None) -> Market:
    """The market of a config (`data.path`, the rules table; the embedded market is generated on first use),
    or of a market data directory given as a path; None: the default config's."""
    if where is None:
        where = load_config()
    if isinstance(where, (str, Path)):
        path = Path(where)
        if not path.is_dir():
            raise UserError(f"{path}: no such market data directory; give a folder written by `data generate` or "
                            "`data import`, or a config")
        where = load_config(None, {"data.path": str(path.resolve())})
    return _open_market(where)


def run_backtest(market: Market | str | Path | None = None, cfg: Config | str | Path | None = None, *,
                 targets: pd.DataFrame | None = None, function: Callable[[MarketView], Any] | str | None = None,
                 out: str | Path | None = None) -> BacktestResult:
    """One backtest of `cfg` (default config when None) on `market` (the config's when None).

    `targets` (DataFrame rebalance_date, symbol[, weight]) trades these lists instead of the config's
    scoring pipeline or targets file; `function` (a callable taking a `MarketView`, or 'file.py:name')
    is called on each rebalance day of strategy.rebalance instead (docs/strategies.md). With `out`, the
    output files are written there too (the folder is checked before any work); `result.write(out)` does
    the same later. `cfg` may also be a config file or a preset name, `market` a market folder."""
    cfg = _config(cfg)
    if out is not None:
        check_output_dir(Path(out))
        check_output_outside_market(out, cfg, "out")
    market = _market(market, cfg)
    return _run_backtest(market, cfg, Path(out) if out is not None else None, targets, function=function,
                         progress=True)


def run_research(market: Market | str | Path | None = None, cfg: Config | str | Path | None = None, *,
                 out: str | Path | None = None) -> ResearchResult:
    """Size groups, smallest-N vs the pool, valuations, exposures, crowding and industry-neutral scoring over
    the config's window; with `out`, research/*.csv and research.html are written there."""
    cfg = _config(cfg)
    if out is not None:
        check_output_dir(Path(out))
    market = _market(market, cfg)
    result = _run_research(market, cfg)
    if out is not None:
        result.write(Path(out))
    return result


def run_stress(grid: str | Path, cfg: Config | str | Path | None = None, *, out: str | Path | None = None,
               workers: Optional[int] = None, scheduler: Optional[str] = None,
               episodes: Optional[str] = None) -> StressResult:
    """Every scenario of `grid` (a grid file, or a shipped grid's name: capacity, crowding, execution,
    slippage_volume_cap) on `cfg`, in local worker processes or on a Dask cluster (`scheduler`), into `out`
    (default output.dir/stress-<grid>); finished scenarios are reused when run again."""
    if not isinstance(grid, (str, Path)):
        raise TypeError(f"grid: expected a grid file or a shipped grid's name (capacity, crowding, execution, "
                        f"slippage_volume_cap); got {type(grid).__name__}")
    return _run_stress(_config(cfg), grid, out, workers=workers, scheduler=scheduler, episodes=episodes)


def paper_account(path: str | Path, cfg: Config | str | Path | None = None,
                  market: Market | str | Path | None = None) -> PaperAccount:
    """The paper account in SQLite file `path` (made by its first plan), trading `market` under `cfg`."""
    cfg = _config(cfg)
    return PaperAccount(path, cfg, _market(market, cfg) if market is not None else (lambda: open_market(cfg)))


def transaction_costs(market: Market | str | Path | None = None, cfg: Config | str | Path | None = None, *,
                      account: str | Path | None = None, trades: str | Path | None = None,
                      out: str | Path | None = None, backtest: bool = False) -> TcaResult:
    """The transaction-cost analysis of a paper `account`'s fills or of a backtest's `trades` CSV (exactly one)
    against `cfg`'s execution model on `market` (the config's when None): per-fill prices and shortfalls, the
    aggregates and the estimate of the square-root law's k (docs/tca.md). With `backtest`, the configured
    backtest is run with the configured k and with the estimate (`result.comparison`); with `out`, tca_*.csv,
    tca.html and tca.json are written there (the folder is checked before any work)."""
    from ashare_sim.metrics.tca import analyse, read_account, read_trades
    from ashare_sim.report.tca import write_tca

    if (account is None) == (trades is None):
        raise UserError("transaction_costs: give account= (a paper account) or trades= (a backtest's trades.csv), "
                        + ("not both" if account is not None else "one of them"))
    cfg = _config(cfg)
    if out is not None:
        check_output_dir(Path(out))
        check_output_outside_market(out, cfg, "out")
    fills = read_account(account) if account is not None else read_trades(trades)     # a bad file fails first
    market = _market(market, cfg)
    result = analyse(fills, market, cfg)
    if backtest:
        result.comparison = _impact_comparison(market, cfg, result.k)
    if out is not None:
        write_tca(Path(out), result)
    return result


def _impact_comparison(market: Market, cfg: Config, k: KEstimate) -> dict[str, Any]:
    """The configured backtest run with the configured k and with the estimate, side by side."""
    from ashare_sim.config import with_overrides

    if k.k is None:
        return {"skipped": "no k estimate (no fill the estimate could use)"}
    notes = ["both runs: the configured backtest (its window and lists), only broker.slippage changed"]
    estimate = round(max(k.k, 0.0), 6)
    if k.k < 0:
        notes.append(f"the estimate {k.k:.4f} is below 0 (fills better than the deal price): run with k = 0")
    change: dict[str, Any] = {"broker.slippage.impact": estimate}
    if cfg.broker.slippage.model != "sqrt_impact":
        change["broker.slippage.model"] = "sqrt_impact"
        notes.append(f"the configured slippage model is {cfg.broker.slippage.model}: the second run uses sqrt_impact")
    runs = []
    for label, run_cfg, impact in (("configured k", cfg, cfg.broker.slippage.impact),
                                   ("estimated k", with_overrides(cfg, change), estimate)):
        m = _run_backtest(market, run_cfg).metrics
        runs.append({"label": label, "k": float(impact),
                     **{key: m.get(key) for key in ("annual_return", "excess_annual_return", "information_ratio",
                                                    "max_drawdown", "final_value", "slippage", "total_costs")}})
    return {"runs": runs, "overrides": change, "notes": notes}


def generate_market(out: str | Path, *, stocks: int = 5000, start: str | dt.date = "2010-01-01",
                    end: str | dt.date = "2022-12-31", seed: int = 20240101) -> Path:
    """Write a synthetic market (the embedded market's generator) to the new folder `out`; same arguments,
    same bytes."""
    from ashare_sim.data.synthetic.generator import generate_market as _generate

    g = GenerateConfig(stocks=stocks, start=parse_date(start, "start"), end=parse_date(end, "end"), seed=seed)
    _generate(Path(out), stocks=g.stocks, start=g.start, end=g.end, seed=g.seed)
    return Path(out)


def validate_market(path: str | Path) -> Any:
    """Check a market data directory: a report with `ok`, `errors`, `warnings` and `render()` (the text
    `data validate` prints)."""
    from ashare_sim.data.validate import validate_directory

    return validate_directory(Path(path))

