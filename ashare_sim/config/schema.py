"""The simulator's typed configuration: the schema behind config.yaml.

Every section is an immutable `Section` that validates itself when it is made, from a YAML file or in
Python (`BrokerConfig(volume_cap=5.0)` is refused with the key and the limit). The keys of the
execution models, the factors and the paper adapters are not written here: each registered class
declares its own (`Params`), and the sections that hold them are assembled from the registries, so a
new model is one class plus its lines in config.yaml. config.yaml shows every key with its default;
a test holds the two together.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Optional

from ashare_sim.common.errors import ConfigError
from ashare_sim.common.text import did_you_mean
from ashare_sim.common.typed import CALLABLE, Section, key, model_fields, section
from ashare_sim.data.open import EMBEDDED_PATH
from ashare_sim.execution.models.corporate_actions import CORPORATE_ACTIONS
from ashare_sim.execution.models.costs import COSTS, Commission
from ashare_sim.execution.models.deal_price import DEAL_PRICES
from ashare_sim.execution.models.slippage import SLIPPAGE
from ashare_sim.execution.models.validators import VALIDATORS
from ashare_sim.execution.models.volume_cap import QUANTITY_LIMITS
from ashare_sim.paper.adapters import ADAPTERS, QmtConfig
from ashare_sim.paper.fills import FillsConfig
from ashare_sim.signals.factors import FACTORS


@dataclass(frozen=True)
class GenerateConfig(Section):
    stocks: int = key(5000, "symbols in the generated market", ge=10)
    start: dt.date = key(dt.date(2010, 1, 1), "first calendar date")
    end: dt.date = key(dt.date(2022, 12, 31), "last calendar date")
    seed: int = key(20240101, "random seed; same seed, same bytes", ge=0)

    def check(self) -> None:
        if self.end <= self.start:
            raise ConfigError("end", f"{self.end} is not after start {self.start}")


@dataclass(frozen=True)
class DataConfig(Section):
    path: str = key(EMBEDDED_PATH, "market data directory", path=True)
    generate: GenerateConfig = key(GenerateConfig, "market made when `path` is the default and missing")
    bad_bars: Literal["refuse", "drop"] = key("refuse", "a bar the data cannot have: refuse the market, or drop "
                                                        "it (a day without a bar) and say how many")


@dataclass(frozen=True)
class RulesConfig(Section):
    table: Optional[str] = key(None, "rules table YAML replacing the shipped one", path=True)


@dataclass(frozen=True)
class UniverseConfig(Section):
    min_listed_days: int = key(365, "calendar days since listing", ge=0)
    exclude_st: bool = key(True, "drop ST and *ST names")
    cap_fraction: float = key(1 / 3, "keep the smallest fraction by total cap", gt=0, le=1)
    cap: Literal["total", "float"] = key("total", "the cap the small-cap cut ranks by")


@dataclass(frozen=True)
class ScoresConfig(Section):
    file: Optional[str] = key(None, "model scores to trade: qlib's pred.pkl, or CSV / Parquet date, symbol, score",
                              path=True)
    rule: Literal["topk_dropout", "top_n"] = key(
        "topk_dropout", "qlib's TopkDropout (keep strategy.top_n, swap at most n_drop a day), or the top_n "
                        "in equal weight each day")
    n_drop: int = key(5, "TopkDropout: names replaced at most per rebalance", ge=0)
    hold_thresh: int = key(1, "TopkDropout: trading days a name is held before it may be sold", ge=1)
    risk_degree: float = key(0.95, "TopkDropout: share of the cash (after the day's sales) spent on its buys",
                             gt=0, le=1)
    pool: bool = key(False, "score only names of the small-cap pool (strategy.universe) on each score date")


def _check_factors(self) -> None:
    for i, name in enumerate(self.use):
        if name not in FACTORS:
            hint = did_you_mean(name, FACTORS) or f"; known: {', '.join(FACTORS)}"
            raise ConfigError(f"use[{i}]", f"unknown factor '{name}'{hint}")
    if self.ic_min_periods > self.ic_window:
        raise ConfigError("ic_min_periods", f"{self.ic_min_periods} exceeds ic_window {self.ic_window}")


FactorsConfig = section("FactorsConfig", "strategy.factors: the composite and each factor's own keys", [
    ("use", tuple[str, ...], key(lambda: tuple(FACTORS.names()), "factors in the composite")),
    ("weighting", Literal["rank_ic", "ic_ir", "equal"], key("rank_ic", "composite weights")),
    ("ic_window", int, key(24, "months of trailing RankIC", ge=1)),
    ("ic_min_periods", int, key(12, "RankICs needed before IC weights apply", ge=1)),
    ("negative_ic", Literal["zero", "keep"], key("zero", "factor with trailing IC < 0")),
    ("winsorize", float, key(0.01, "clip each tail at this quantile", ge=0, lt=0.5)),
    *model_fields(FACTORS.classes()),
], __name__)
FactorsConfig.check = _check_factors


@dataclass(frozen=True)
class StrategyConfig(Section):
    targets_file: Optional[str] = key(None, "CSV rebalance_date,symbol[,weight]", path=True)
    scores: ScoresConfig = key(ScoresConfig, "model scores from a file (qlib's pred.pkl) and how they become lists")
    function: Optional[str] = key(
        None, "your rebalance function, path/to/file.py:name or package.module:name (docs/strategies.md)",
        path=CALLABLE)
    top_n: int = key(50, "names held", ge=1)
    rebalance: Literal["monthly", "weekly", "daily"] = key(
        "monthly", "first trading day of each month (the scoring pipeline), or of each week, or every "
        "trading day (a rebalance function)")
    rebalance_dates: tuple[dt.date, ...] = key(
        (), "a rebalance function's own rebalance days (trading days), instead of strategy.rebalance")
    universe: UniverseConfig = key(UniverseConfig, "the small-cap pool")
    factors: FactorsConfig = key(FactorsConfig, "scoring")
    neutralize: Literal["none", "industry"] = key(
        "none", "industry: demean each z-scored factor by industry before the composite")
    signal_delay: int = key(0, "trade each list this many trading days after its rebalance day", ge=0, le=60)
    resize: Literal["always", "hold", "drift"] = key(
        "always", "names held and still in the list: always re-sized to their weight, hold (left as they are), "
                  "or drift (re-sized only when off their weight by more than resize_drift)")
    resize_drift: float = key(0.01, "with resize: drift, the gap between a held name's weight and its target "
                                    "(a fraction of the book) that re-sizes it", ge=0, le=1)

    def check(self) -> None:
        given = [k for k, v in (("targets_file", self.targets_file), ("function", self.function),
                                ("scores.file", self.scores.file)) if v]
        if len(given) > 1:
            raise ConfigError(given[1], f"is set beside strategy.{given[0]}; a run has one source of lists: keep one")
        if self.scores.file and self.scores.rule == "topk_dropout" and self.resize != "always":
            raise ConfigError("resize", "has no effect with strategy.scores.rule topk_dropout, which never re-sizes "
                                        "the names it keeps; leave it at always, or use rule top_n")
        if (self.targets_file or self.scores.file) and (self.rebalance != "monthly" or self.rebalance_dates):
            which = "rebalance_dates" if self.rebalance_dates else "rebalance"
            raise ConfigError(which, "applies to a rebalance function (strategy.function); a targets file "
                                     "trades on its own dates and a scores file on the day after each of its dates")


SlippageConfig = section("SlippageConfig", "broker.slippage: the model and every model's own keys", [
    ("model", str, key("sqrt_impact", "slippage model", choices=SLIPPAGE)),
    *model_fields(SLIPPAGE.classes()),
], __name__)
CommissionConfig = Commission.Params

BrokerConfig = section("BrokerConfig", "broker: the execution core and every execution model's keys", [
    # Above a trillion CNY the lot arithmetic stops meaning anything (and no fund is that size).
    ("cash", float, key(10_000_000.0, "starting cash, CNY", gt=0, le=1e12)),
    ("deal_price", str, key("vwap", "fill reference price", choices=DEAL_PRICES)),
    *model_fields(VALIDATORS.classes()),
    *model_fields(QUANTITY_LIMITS.classes()),
    ("retry", bool, key(True, "retry blocked quantities until the next rebalance")),
    ("crowd", int, key(1, "similar funds trading the same lists on the same days", ge=1)),
    ("slippage", SlippageConfig, key(SlippageConfig, "slippage model")),
    ("commission", CommissionConfig, key(CommissionConfig, "commission")),
    *model_fields([m for m in COSTS.classes() if not m.subsection]),
    *model_fields(CORPORATE_ACTIONS.classes()),
], __name__)


@dataclass(frozen=True)
class BacktestConfig(Section):
    start: Optional[dt.date] = key(
        None, "first day of the run; null = the first rebalance of the run's lists (scored or a targets file)")
    end: Optional[dt.date] = key(None, "last day of the run; null = the market's last day")
    benchmark: Literal["pool", "table", "none"] = key("pool", "benchmark series")

    def check(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ConfigError("end", f"{self.end} is before start {self.start}; swap them")


@dataclass(frozen=True)
class EraConfig(Section):
    name: str = key("", "label of the era in research outputs")
    start: dt.date = key(dt.date(2010, 1, 1), "first day of the era")
    end: Optional[dt.date] = key(None, "last day of the era; null = to the end of the data")

    def check(self) -> None:
        if not self.name:
            raise ConfigError("name", "is empty; give the era a label, e.g. name: 2010-2016")
        if self.end is not None and self.end < self.start:
            raise ConfigError("end", f"{self.end} is before start {self.start}; swap them")


def _study_eras() -> tuple[EraConfig, ...]:
    # The study's three regimes of the size effect.
    return (EraConfig("2010-2016", dt.date(2010, 1, 1), dt.date(2016, 12, 31)),
            EraConfig("2017-2021-01", dt.date(2017, 1, 1), dt.date(2021, 1, 31)),
            EraConfig("2021-02-on", dt.date(2021, 2, 1), None))


@dataclass(frozen=True)
class ResearchConfig(Section):
    size_groups: int = key(20, "size groups the market is cut into each month", ge=2)
    size_exclude_st: bool = key(False, "leave ST / *ST names out of the size groups")
    eras: tuple[EraConfig, ...] = key(_study_eras, "periods of the size-group excess")
    smallest_n: int = key(100, "names in the smallest-N portfolio", ge=1)
    min_history_months: int = key(12, "history before a percentile is given", ge=1)
    adv_days: int = key(20, "trading days of average daily amount", ge=1)
    exit_volume_share: float = key(0.1, "share of daily amount sold a day", gt=0, le=1)
    extreme_percentile: float = key(90.0, "percentile of own history that is extreme", gt=0, lt=100)
    flag_min_extremes: int = key(3, "indicators at extremes that raise the flag", ge=1)
    worst_days: int = key(10, "days listed as the worst (most limit-down names)", ge=1)
    compare_neutral: Literal["none", "ic", "backtest"] = key(
        "backtest", "industry-neutral vs configured scoring: none | ic | ic and backtest")

    def check(self) -> None:
        names = [e.name for e in self.eras]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise ConfigError("eras", f"era name '{dup}' appears twice; give each era its own name")


PaperConfig = section("PaperConfig", "paper: the account and the adapter that fills its plans", [
    ("adapter", str, key("simulated", "who fills paper orders", choices=ADAPTERS)),
    ("account_name", str, key("paper", "the account column of basket files")),
    ("lock_timeout", float, key(10.0, "seconds to wait for another process on the account", ge=0)),
    ("fills", FillsConfig, key(FillsConfig, "how --fills files exported by a terminal are read")),
    ("qmt", QmtConfig, key(QmtConfig, "paper.adapter qmt: the miniQMT client and how orders are sent")),
    *model_fields([a for a in ADAPTERS.classes() if not a.subsection]),
], __name__)


@dataclass(frozen=True)
class OutputConfig(Section):
    dir: str = key("out", "output directory", path=True)
    report: bool = key(True, "write report.html")


@dataclass(frozen=True)
class Config(Section):
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = key("INFO", "log level")
    data: DataConfig = key(DataConfig, "market data")
    rules: RulesConfig = key(RulesConfig, "rules table")
    backtest: BacktestConfig = key(BacktestConfig, "run window")
    strategy: StrategyConfig = key(StrategyConfig, "strategy")
    broker: BrokerConfig = key(BrokerConfig, "execution")
    research: ResearchConfig = key(ResearchConfig, "research analytics")
    paper: PaperConfig = key(PaperConfig, "paper trading")
    output: OutputConfig = key(OutputConfig, "outputs")
