"""The execution assumptions of a run in plain words: one list, shown on stdout, in the report and in
metrics.json (`execution`), so nobody reads a result without the fills, costs and limits behind it.
Each line is the configured model's own `describe()`: a new model describes itself.

    items = execution_assumptions(cfg, rules, targets_source)   # [(label, text), ...]
"""
from __future__ import annotations

from ashare_sim.execution.models.base import describe_chosen, model_params
from ashare_sim.execution.models.corporate_actions import (
    DelistingSettlement,
    DividendTable,
)
from ashare_sim.execution.models.costs import Commission, StampDuty, TransferFee
from ashare_sim.execution.models.deal_price import DEAL_PRICES
from ashare_sim.execution.models.slippage import SLIPPAGE
from ashare_sim.execution.models.validators import LotSize, PriceLimit, TPlusOne
from ashare_sim.execution.models.volume_cap import VolumeCap
from ashare_sim.rules import RulesTable

# Where a run's target lists came from (metrics.json `targets_source.kind`).
PIPELINE, FILE, GIVEN, FUNCTION, SCORES, BACKTRADER = "pipeline", "file", "given", "function", "scores", "backtrader"


def _line(model: type, broker, rules: RulesTable) -> str:
    return model.describe(model_params(model, broker), rules)


def targets_text(cfg, targets_source: dict) -> str:
    kind = targets_source.get("kind")
    if kind == PIPELINE:
        s = cfg.strategy
        text = (f"scoring pipeline: top {s.top_n} of the {len(s.factors.use)}-factor composite "
                f"({s.factors.weighting}), monthly, equal weight")
    elif kind == FILE:
        text = f"targets file {targets_source.get('path')}"
    elif kind == BACKTRADER:
        text = (f"your Backtrader strategy {targets_source.get('name')} on {targets_source.get('feeds', 0)} stock "
                "feed(s); orders filled the next trading day under the rules below")
    elif kind == SCORES:
        sc, n = cfg.strategy.scores, cfg.strategy.top_n
        rule = (f"TopkDropout (top {n}, at most {sc.n_drop} swapped a day, sold after {sc.hold_thresh} day(s) held, "
                f"{sc.risk_degree:.0%} of the cash on buys)" if sc.rule == "topk_dropout" else
                f"top {n} in equal weight")
        text = (f"scores file {targets_source.get('path')}: each date's scores traded the next trading day, {rule}"
                + ("; small-cap pool only" if sc.pool else ""))
    elif kind == FUNCTION:
        s = cfg.strategy
        days = (f"{len(s.rebalance_dates)} given days" if s.rebalance_dates else
                {"monthly": "the first trading day of each month", "weekly": "the first trading day of each week",
                 "daily": "every trading day"}[s.rebalance])
        text = f"rebalance function {targets_source.get('name')}, called on {days} with the market as of the close before"
    else:
        text = "target lists given in memory"
    if cfg.strategy.signal_delay:
        k = cfg.strategy.signal_delay
        text += f"; traded {k} trading day{'s' if k > 1 else ''} after each rebalance day (signal delay)"
    return text


def execution_assumptions(cfg, rules: RulesTable, targets_source: dict) -> list[tuple[str, str]]:
    """[(label, text)] for every execution assumption of the run, in reading order."""
    b = cfg.broker
    return [
        ("Targets", targets_text(cfg, targets_source)),
        ("Starting cash", f"{b.cash:,.0f} CNY"),
        ("Deal price", describe_chosen(DEAL_PRICES, b.deal_price, b, rules)),
        ("Slippage", describe_chosen(SLIPPAGE, b.slippage.model, b, rules)),
        ("Volume cap", _line(VolumeCap, b, rules)),
        ("Price limits", _line(PriceLimit, b, rules)),
        ("Crowding", "this fund alone" if b.crowd == 1 else
         f"{b.crowd} similar funds trade the same lists the same days: each gets 1/{b.crowd} of the volume cap, "
         "impact on their combined size"),
        ("Retry", "unfilled quantities re-sent daily until the next rebalance" if b.retry else "off (day orders only)"),
        ("Commission", _line(Commission, b, rules)),
        ("Stamp duty", _line(StampDuty, b, rules)),
        ("Transfer fee", _line(TransferFee, b, rules)),
        ("Dividend tax", _line(DividendTable, b, rules)),
        ("Settlement and lots", f"{_line(TPlusOne, b, rules)}, {_line(LotSize, b, rules)}"),
        ("Delisting", _line(DelistingSettlement, b, rules)),
    ]
