"""The simulator's typed configuration (the schema behind config.yaml).

Every key has a default and a doc string here; config.yaml repeats them as
comments. Load with `load_config(path, overrides)`; errors name the key path.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml

from ashare_sim.common.errors import ConfigError, UserError
from ashare_sim.common.text import did_you_mean
from ashare_sim.common.typed import CommandLineValue, build, doc, resolve_paths
from ashare_sim.data.open import EMBEDDED_PATH
from ashare_sim.resources import presets

FACTOR_NAMES = ("book_to_price", "dividend_yield", "roe", "sue", "profit_growth",
                "announcement_gap", "amihud", "residual_vol", "size")


@dataclass
class GenerateConfig:
    stocks: int = field(default=5000, metadata=doc("symbols in the generated market", ge=10))
    start: dt.date = field(default=dt.date(2010, 1, 1), metadata=doc("first calendar date"))
    end: dt.date = field(default=dt.date(2022, 12, 31), metadata=doc("last calendar date"))
    seed: int = field(default=20240101, metadata=doc("random seed; same seed, same bytes", ge=0))

    def check(self, path: str) -> None:
        if self.end <= self.start:
            raise ConfigError(f"{path}.end", f"{self.end} is not after start {self.start}")


@dataclass
class DataConfig:
    path: str = field(default=EMBEDDED_PATH, metadata=doc("market data directory", path=True))
    generate: GenerateConfig = field(default_factory=GenerateConfig,
                                     metadata=doc("market made when `path` is the default and missing"))


@dataclass
class RulesConfig:
    table: Optional[str] = field(default=None, metadata=doc("rules table YAML replacing the shipped one", path=True))


@dataclass
class UniverseConfig:
    min_listed_days: int = field(default=365, metadata=doc("calendar days since listing", ge=0))
    exclude_st: bool = field(default=True, metadata=doc("drop ST and *ST names"))
    cap_fraction: float = field(default=1 / 3, metadata=doc("keep the smallest fraction by total cap", gt=0, le=1))
    cap: Literal["total", "float"] = field(default="total", metadata=doc("the cap the small-cap cut ranks by"))


@dataclass
class FactorsConfig:
    use: list[str] = field(default_factory=lambda: list(FACTOR_NAMES), metadata=doc("factors in the composite"))
    weighting: Literal["rank_ic", "ic_ir", "equal"] = field(default="rank_ic", metadata=doc("composite weights"))
    ic_window: int = field(default=24, metadata=doc("months of trailing RankIC", ge=1))
    ic_min_periods: int = field(default=12, metadata=doc("RankICs needed before IC weights apply", ge=1))
    negative_ic: Literal["zero", "keep"] = field(default="zero", metadata=doc("factor with trailing IC < 0"))
    winsorize: float = field(default=0.01, metadata=doc("clip each tail at this quantile", ge=0, lt=0.5))
    residual_vol_days: int = field(default=60, metadata=doc("window of the FF3 regression", ge=10))
    amihud_days: int = field(default=20, metadata=doc("window of Amihud illiquidity", ge=5))

    def check(self, path: str) -> None:
        for i, name in enumerate(self.use):
            if name not in FACTOR_NAMES:
                hint = did_you_mean(name, FACTOR_NAMES) or f"; known: {', '.join(FACTOR_NAMES)}"
                raise ConfigError(f"{path}.use[{i}]", f"unknown factor '{name}'{hint}")
        if self.ic_min_periods > self.ic_window:
            raise ConfigError(f"{path}.ic_min_periods", f"{self.ic_min_periods} exceeds ic_window {self.ic_window}")


@dataclass
class StrategyConfig:
    targets_file: Optional[str] = field(default=None, metadata=doc("CSV rebalance_date,symbol[,weight]", path=True))
    top_n: int = field(default=50, metadata=doc("names held", ge=1))
    rebalance: Literal["monthly"] = field(default="monthly", metadata=doc("first trading day of each month"))
    universe: UniverseConfig = field(default_factory=UniverseConfig, metadata=doc("the small-cap pool"))
    factors: FactorsConfig = field(default_factory=FactorsConfig, metadata=doc("scoring"))
    neutralize: Literal["none", "industry"] = field(
        default="none", metadata=doc("industry: demean each z-scored factor by industry before the composite"))
    signal_delay: int = field(default=0, metadata=doc("trade each list this many trading days after its rebalance day",
                                                      ge=0, le=60))


@dataclass
class SlippageConfig:
    model: Literal["fixed_bps", "ticks", "sqrt_impact"] = field(default="sqrt_impact", metadata=doc("slippage model"))
    bps: float = field(default=0.0, metadata=doc("fixed_bps: basis points against the trader", ge=0))
    ticks: int = field(default=1, metadata=doc("ticks: ticks against the trader", ge=0))
    impact: float = field(default=0.3, metadata=doc("sqrt_impact: k in k*sigma*sqrt(qty/volume)", ge=0))
    vol_days: int = field(default=20, metadata=doc("sqrt_impact: days of daily volatility", ge=2))


@dataclass
class CommissionConfig:
    rate: float = field(default=0.0003, metadata=doc("fraction of turnover", ge=0, lt=0.01))
    min: float = field(default=5.0, metadata=doc("CNY per order, charged once per order", ge=0))


@dataclass
class BrokerConfig:
    cash: float = field(default=10_000_000.0, metadata=doc("starting cash, CNY", gt=0))
    deal_price: Literal["open", "close", "vwap"] = field(default="vwap", metadata=doc("fill reference price"))
    limit_rule: Literal["strict", "locked", "off"] = field(default="strict", metadata=doc("price-limit blocking"))
    volume_cap: Optional[float] = field(default=0.10, metadata=doc("max share of day volume per stock per day",
                                                                     gt=0, le=1))
    retry: bool = field(default=True, metadata=doc("retry blocked quantities until the next rebalance"))
    crowd: int = field(default=1, metadata=doc("similar funds trading the same lists on the same days", ge=1))
    slippage: SlippageConfig = field(default_factory=SlippageConfig, metadata=doc("slippage model"))
    commission: CommissionConfig = field(default_factory=CommissionConfig, metadata=doc("commission"))
    stamp_duty: Union[Literal["schedule"], float] = field(default="schedule", metadata=doc("schedule or a rate", ge=0, lt=0.01))
    transfer_fee: Union[Literal["schedule"], float] = field(default="schedule", metadata=doc("schedule or a rate", ge=0, lt=0.01))
    dividend_tax: bool = field(default=True, metadata=doc("withhold dividend tax by holding period"))
    delist_haircut: float = field(default=0.0, metadata=doc("fraction lost when settling a delisted holding", ge=0, le=1))
    t_plus_1: bool = field(default=True, metadata=doc("shares bought today are not sellable today"))
    lot_size: bool = field(default=True, metadata=doc("board lot rules"))


@dataclass
class BacktestConfig:
    start: Optional[dt.date] = field(default=None, metadata=doc(
        "first day of the run; null = the market's first day, or a targets file's first rebalance"))
    end: Optional[dt.date] = field(default=None, metadata=doc("last day of the run; null = the market's last day"))
    benchmark: Literal["pool", "table", "none"] = field(default="pool", metadata=doc("benchmark series"))

    def check(self, path: str) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ConfigError(f"{path}.end", f"{self.end} is before start {self.start}; swap them")


@dataclass
class EraConfig:
    name: str = field(default="", metadata=doc("label of the era in research outputs"))
    start: dt.date = field(default=dt.date(2010, 1, 1), metadata=doc("first day of the era"))
    end: Optional[dt.date] = field(default=None, metadata=doc("last day of the era; null = to the end of the data"))

    def check(self, path: str) -> None:
        if not self.name:
            raise ConfigError(f"{path}.name", "is empty; give the era a label, e.g. name: 2010-2016")
        if self.end is not None and self.end < self.start:
            raise ConfigError(f"{path}.end", f"{self.end} is before start {self.start}; swap them")


def _study_eras() -> list[EraConfig]:
    # The study's three regimes of the size effect.
    return [EraConfig("2010-2016", dt.date(2010, 1, 1), dt.date(2016, 12, 31)),
            EraConfig("2017-2021-01", dt.date(2017, 1, 1), dt.date(2021, 1, 31)),
            EraConfig("2021-02-on", dt.date(2021, 2, 1), None)]


@dataclass
class ResearchConfig:
    size_groups: int = field(default=20, metadata=doc("size groups the market is cut into each month", ge=2))
    size_exclude_st: bool = field(default=False, metadata=doc("leave ST / *ST names out of the size groups"))
    eras: list[EraConfig] = field(default_factory=_study_eras, metadata=doc("periods of the size-group excess"))
    smallest_n: int = field(default=100, metadata=doc("names in the smallest-N portfolio", ge=1))
    min_history_months: int = field(default=12, metadata=doc("history before a percentile is given", ge=1))
    adv_days: int = field(default=20, metadata=doc("trading days of average daily amount", ge=1))
    exit_volume_share: float = field(default=0.1, metadata=doc("share of daily amount sold a day", gt=0, le=1))
    extreme_percentile: float = field(default=90.0, metadata=doc("percentile of own history that is extreme",
                                                                 gt=0, lt=100))
    flag_min_extremes: int = field(default=3, metadata=doc("indicators at extremes that raise the flag", ge=1))
    worst_days: int = field(default=10, metadata=doc("days listed as the worst (most limit-down names)", ge=1))
    compare_neutral: Literal["none", "ic", "backtest"] = field(
        default="backtest", metadata=doc("industry-neutral vs configured scoring: none | ic | ic and backtest"))

    def check(self, path: str) -> None:
        names = [e.name for e in self.eras]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise ConfigError(f"{path}.eras", f"era name '{dup}' appears twice; give each era its own name")


@dataclass
class PaperConfig:
    adapter: Literal["simulated", "basket", "qmt", "easytrader"] = field(
        default="simulated", metadata=doc("who fills paper orders"))
    account_name: str = field(default="paper", metadata=doc("the account column of basket files"))
    lock_timeout: float = field(default=10.0, metadata=doc("seconds to wait for another process on the account",
                                                           ge=0))


@dataclass
class OutputConfig:
    dir: str = field(default="out", metadata=doc("output directory", path=True))
    report: bool = field(default=True, metadata=doc("write report.html"))


@dataclass
class Config:
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = field(default="INFO", metadata=doc("log level"))
    data: DataConfig = field(default_factory=DataConfig, metadata=doc("market data"))
    rules: RulesConfig = field(default_factory=RulesConfig, metadata=doc("rules table"))
    backtest: BacktestConfig = field(default_factory=BacktestConfig, metadata=doc("run window"))
    strategy: StrategyConfig = field(default_factory=StrategyConfig, metadata=doc("strategy"))
    broker: BrokerConfig = field(default_factory=BrokerConfig, metadata=doc("execution"))
    research: ResearchConfig = field(default_factory=ResearchConfig, metadata=doc("research analytics"))
    paper: PaperConfig = field(default_factory=PaperConfig, metadata=doc("paper trading"))
    output: OutputConfig = field(default_factory=OutputConfig, metadata=doc("outputs"))


def parse_override(text: str) -> tuple[str, Any]:
    """'a.b.c=value' -> ('a.b.c', CommandLineValue): the text and its YAML reading; the key's type picks."""
    if "=" not in text:
        raise UserError(f"--set '{text}': expected KEY=VALUE, e.g. --set broker.volume_cap=0.1")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise UserError(f"--set '{text}': the key is empty")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise UserError(f"--set '{text}': value is not valid YAML ({exc.__class__.__name__})") from None
    return key, CommandLineValue(raw.strip(), value)


def apply_overrides(raw: dict, overrides: list[tuple[str, Any]]) -> dict:
    """Set dotted keys in a raw config mapping (validation happens in build)."""
    out = copy.deepcopy(raw)
    for key, value in overrides:
        node = out
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise ConfigError(".".join(parts[: depth + 1]), f"is a value, cannot set '{key}' below it")
            node = nxt
        node[parts[-1]] = value
    return out


def parse_yaml(text: str, path: Path | str) -> Any:
    """YAML text of file `path`; a UserError naming the file (and line) when it is not valid YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except ValueError as exc:           # a date-like scalar that is no date, e.g. 2015-13-01
        raise UserError(f"{path}: not valid YAML: {exc}") from None


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping, with errors naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such config file (copy config.yaml or pass -c PATH)") from None
    raw = parse_yaml(text, path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of config keys at the top level")
    return raw


def config_file(name: str | Path) -> tuple[Path, bool]:
    """(the config file `name` means, whether it ships with the package): an existing file, else a shipped
    preset by name (`study`, `study.yaml` or `configs/study.yaml`); a UserError listing them otherwise."""
    path = Path(name)
    if path.is_file():
        return path, False
    shipped = presets()
    key = path.stem if path.suffix in (".yaml", ".yml") and len(path.parts) <= 2 else str(name)
    if key in shipped and (len(path.parts) == 1 or path.parts[0] == "configs"):
        return shipped[key], True
    raise UserError(f"{name}: no such config file; give a path, or a shipped preset: {', '.join(shipped)}")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Config from a YAML file or a shipped preset's name (or the defaults when None) plus --set overrides.

    Relative paths in a file resolve against the file's folder (so `-c /abs/config.yaml` from anywhere
    reads the same data); in a shipped preset, and given with --set, against the working directory."""
    raw, shipped = {}, True
    if path is not None:
        file, shipped = config_file(path)
        raw = resolve_paths(Config, read_yaml(file), Path.cwd() if shipped else file.resolve().parent)
    parsed = [parse_override(o) for o in overrides or []]
    try:
        return build(Config, apply_overrides(raw, parsed))
    except ConfigError as exc:
        if not shipped:                    # a shipped file is right: the error came from --set
            exc.args = (f"{path}: {exc}",)
        raise


def with_overrides(cfg: Config, overrides: dict[str, Any]) -> Config:
    """A validated copy of `cfg` with dotted-key overrides (for stress grids)."""
    from ashare_sim.common.typed import to_plain

    return build(Config, apply_overrides(to_plain(cfg), list(overrides.items())))


def replace(cfg: Any, **changes: Any) -> Any:
    return dataclasses.replace(cfg, **changes)
