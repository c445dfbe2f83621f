"""The execution assumptions of a run in plain words: one list, shown on stdout, in the report and in
metrics.json (`execution`), so nobody reads a result without the fills, costs and limits behind it.

    items = execution_assumptions(cfg, rules, targets_source)   # [(label, text), ...]
"""
from __future__ import annotations

import datetime as dt

from ashare_sim.rules import RulesTable

# Where a run's target lists came from (metrics.json `targets_source.kind`).
PIPELINE, FILE, GIVEN = "pipeline", "file", "given"


def _pct(x: float, digits: int = 3) -> str:
    text = f"{x * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def _dated(rows: list[tuple[dt.date, dt.date, float]], unit=_pct) -> str:
    """'0.1% to <date>, 0.05% from <date>' for the rows that reach into this century."""
    far_past, far_future = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
    parts = []
    for start, end, rate in rows:
        if end < dt.date(2000, 1, 1):
            continue
        if start <= far_past and end >= far_future:
            parts.append(unit(rate))
        elif start <= far_past:
            parts.append(f"{unit(rate)} to {end}")
        elif end >= far_future:
            parts.append(f"{unit(rate)} from {start}")
        else:
            parts.append(f"{unit(rate)} {start}..{end}")
    return ", ".join(parts)


def _stamp_duty(setting, rules: RulesTable) -> str:
    if setting != "schedule":
        return f"{_pct(float(setting))} of sells"
    rows = [(r.start, r.end, float(r.values["rate"])) for r in rules.schedule_rows("stamp_duty") if r.match.get("side") == "sell"]
    return f"sells, dated table ({_dated(rows)})"


def _transfer_fee(setting, rules: RulesTable) -> str:
    if setting != "schedule":
        return f"{_pct(float(setting), 4)} of turnover, both sides"
    rows = rules.schedule_rows("transfer_fee")
    rates = [(r.start, r.end, float(r.values["rate"])) for r in rows
             if r.match.get("exchange") == "SH" and "rate" in r.values]
    per_share = [(r.start, r.end, float(r.values["per_share"])) for r in rows
                 if r.match.get("exchange") == "SH" and "per_share" in r.values]
    text = f"both sides, dated table (SH/SZ {_dated(rates, lambda x: _pct(x, 4))}"
    if per_share:
        text += f"; SH {_dated(per_share, lambda x: f'{x:g} CNY per share')}"
    return text + ")"


def _slippage(s) -> str:
    if s.model == "fixed_bps":
        return "none" if s.bps == 0 else f"{s.bps:g} bp against the trader"
    if s.model == "ticks":
        return "none" if s.ticks == 0 else f"{s.ticks} tick(s) against the trader"
    return (f"square-root impact: {s.impact:g} x daily vol ({s.vol_days} days) x sqrt(qty / day volume) "
            "against the trader")


def _dividend_tax(on: bool, rules: RulesTable) -> str:
    if not on:
        return "off (dividends paid gross)"
    today = [r for r in rules.schedule_rows("dividend_tax") if r.end >= dt.date(2999, 1, 1)]
    today.sort(key=lambda r: r.values.get("max_days", float("inf")))
    parts = [(f"{_pct(float(r.values['rate']), 0)} held <= {r.values['max_days']} days" if "max_days" in r.values
              else f"{_pct(float(r.values['rate']), 0)} after") for r in today]
    return "withheld by holding period (" + ", ".join(parts) + ")"


def execution_assumptions(cfg, rules: RulesTable, targets_source: dict) -> list[tuple[str, str]]:
    """[(label, text)] for every execution assumption of the run, in reading order."""
    b = cfg.broker
    deal = {"open": "the day's open", "close": "the day's close",
            "vwap": "the day's VWAP (amount / volume, on the tick)"}[b.deal_price]
    limits = {"strict": "strict: no buy at or above the up limit, no sell at or below the down limit",
              "locked": "locked: refused only on a one-price bar at the limit",
              "off": "off (limits ignored)"}[b.limit_rule]
    kind = targets_source.get("kind")
    if kind == PIPELINE:
        s = cfg.strategy
        targets = (f"scoring pipeline: top {s.top_n} of the {len(s.factors.use)}-factor composite "
                   f"({s.factors.weighting}), monthly, equal weight")
    elif kind == FILE:
        targets = f"targets file {targets_source.get('path')}"
    else:
        targets = "target lists given in memory"
    if cfg.strategy.signal_delay:
        k = cfg.strategy.signal_delay
        targets += f"; traded {k} trading day{'s' if k > 1 else ''} after each rebalance day (signal delay)"
    return [
        ("Targets", targets),
        ("Starting cash", f"{b.cash:,.0f} CNY"),
        ("Deal price", deal),
        ("Slippage", _slippage(b.slippage)),
        ("Volume cap", "none" if b.volume_cap is None else f"{_pct(b.volume_cap, 2)} of the day's volume per stock"),
        ("Price limits", limits),
        ("Crowding", "this fund alone" if b.crowd == 1 else
         f"{b.crowd} similar funds trade the same lists the same days: each gets 1/{b.crowd} of the volume cap, "
         "impact on their combined size"),
        ("Retry", "unfilled quantities re-sent daily until the next rebalance" if b.retry else "off (day orders only)"),
        ("Commission", f"{_pct(b.commission.rate, 4)} a side, minimum {b.commission.min:g} CNY per order"),
        ("Stamp duty", _stamp_duty(b.stamp_duty, rules)),
        ("Transfer fee", _transfer_fee(b.transfer_fee, rules)),
        ("Dividend tax", _dividend_tax(b.dividend_tax, rules)),
        ("Settlement and lots", f"T+1 {'on' if b.t_plus_1 else 'off'}, board lots {'on' if b.lot_size else 'off'}"),
        ("Delisting", f"holdings settled at the last close less {_pct(b.delist_haircut, 1)}"),
    ]
