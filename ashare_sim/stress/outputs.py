"""The grid's results: stress.csv, episodes.csv, the capacity curve and the terminal tables.

stress.csv, one row per scenario in grid order:
  scenario, one column per varied key (the scenario's effective value), the headline figures of
  metrics.json (HEADLINE), benchmark / risk context (CONTEXT), costs by kind in CNY (COST_KINDS),
  participation (fills / day volume: mean, p95, max; crowd_participation_* = x broker.crowd, the
  crowd's combined share), blocked_<reason> for every reason code (share of intents blocked at least
  once for it), then status (ok / failed), error, reused (a finished run with the same inputs was
  kept) and seconds.

The capacity curve: when broker.cash or broker.crowd varies, excess return and IR against the capital
trading the lists (cash x crowd), with the capital at which the excess return falls to half its value
at the smallest capital, interpolated linearly in log capital between the two grid points around it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from ashare_sim.backtest.outputs import csv_frame
from ashare_sim.common.text import short_labels, value_text
from ashare_sim.metrics.performance import COST_KINDS, ORDER_REASONS
from ashare_sim.report.stress import CAPITAL_KEYS
from ashare_sim.report.tables import cny_short
from ashare_sim.stress.episodes import EPISODE_COLUMNS
from ashare_sim.stress.grid import Grid
from ashare_sim.stress.scenarios import Outcome

HEADLINE = ["annual_return", "excess_annual_return", "information_ratio", "max_drawdown", "annual_turnover",
            "total_costs"]
CONTEXT = ["benchmark_annual_return", "tracking_error", "sharpe", "costs_annual_pct", "final_value"]
PARTICIPATION = ["participation_mean", "participation_p95", "participation_max"]
TAIL = ["n_intents", "intents_unfilled", "status", "error", "reused", "seconds"]


def stress_table(grid: Grid, outcomes: dict[str, Outcome]) -> pd.DataFrame:
    """stress.csv as a frame (see the module docstring)."""
    reasons = list(ORDER_REASONS)
    for o in outcomes.values():
        reasons += [k[len("blocked_"):] for k in o.metrics if k.startswith("blocked_") and k[8:] not in reasons]
    rows = []
    for s in grid.scenarios:
        o = outcomes.get(s.name) or Outcome(s.name, "failed", "not run (interrupted)")
        m = o.metrics
        crowd = float(s.cfg.broker.crowd)
        row: dict[str, Any] = {"scenario": s.name}
        row.update({k: grid.value(s, k) for k in grid.varied})
        row.update({k: m.get(k) for k in HEADLINE + CONTEXT + list(COST_KINDS) + PARTICIPATION})
        for k in ("participation_mean", "participation_p95"):
            row[f"crowd_{k}"] = None if m.get(k) is None else m[k] * crowd
        row.update({f"blocked_{r}": m.get(f"blocked_{r}") for r in reasons})
        row.update({"n_intents": m.get("n_intents"), "intents_unfilled": m.get("intents_unfilled"),
                    "status": o.status, "error": o.error, "reused": o.reused, "seconds": round(o.seconds, 2)})
        rows.append(row)
    return pd.DataFrame(rows)


def episodes_table(grid: Grid, outcomes: dict[str, Outcome]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(episodes.csv: scenario + EPISODE_COLUMNS, one row per scenario and episode; the daily shares)."""
    rows, daily = [], []
    for s in grid.scenarios:
        o = outcomes.get(s.name)
        if o is None:
            continue
        rows += [{"scenario": s.name, **{c: r.get(c) for c in EPISODE_COLUMNS}} for r in o.episodes]
        daily += [{"scenario": s.name, **d} for d in o.daily]
    return (pd.DataFrame(rows, columns=["scenario", *EPISODE_COLUMNS]),
            pd.DataFrame(daily, columns=["scenario", "episode", "date", "unsellable", "suspended", "limit_down"]))


# ----- capacity -----------------------------------------------------------------
@dataclass
class Curve:
    label: str                    # what the other varied keys are set to ('' when nothing else varies)
    capital: list[float]
    excess: list[Optional[float]]
    ir: list[Optional[float]]
    scenarios: list[str]
    half_at: Optional[float] = None
    note: str = ""
    crowded: bool = False         # capital reached through broker.crowd (N funds), not one fund's cash
    extra: dict = field(default_factory=dict)


def capacity_curves(grid: Grid, table: pd.DataFrame) -> list[Curve]:
    """One curve per combination of the other varied keys (plus the crowd when cash varies too)."""
    if not any(k in grid.varied for k in CAPITAL_KEYS):
        return []
    ok = table[table["status"] == "ok"].copy()
    if ok.empty:
        return []
    by_name = {s.name: s for s in grid.scenarios}
    ok["capital"] = [by_name[n].cfg.broker.cash * by_name[n].cfg.broker.crowd for n in ok["scenario"]]
    others = [k for k in grid.varied if k not in CAPITAL_KEYS]
    if "broker.cash" in grid.varied and "broker.crowd" in grid.varied:
        others.append("broker.crowd")
    labels = short_labels(list(grid.varied))
    curves = []
    groups = ok.groupby(others, sort=False, dropna=False) if others else [((), ok)]
    for values, part in groups:
        values = values if isinstance(values, tuple) else (values,)
        part = part.sort_values("capital")
        label = ", ".join(f"{labels[k]}={value_text(v)}" for k, v in zip(others, values))
        curve = Curve(label, part["capital"].astype(float).tolist(), _floats(part["excess_annual_return"]),
                      _floats(part["information_ratio"]), part["scenario"].tolist(),
                      crowded="broker.crowd" in grid.varied)
        curve.half_at, curve.note = halving_capital(curve.capital, curve.excess)
        curves.append(curve)
    return curves


def _floats(s: pd.Series) -> list[Optional[float]]:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in s]


def halving_capital(capital: list[float], excess: list[Optional[float]]) -> tuple[Optional[float], str]:
    """The capital at which excess return first falls to half its value at the smallest capital
    (linear in log capital between the grid points around it), with a note when there is none."""
    pts = [(c, e) for c, e in zip(capital, excess) if e is not None and c > 0]
    if len(pts) < 2:
        return None, "needs two capitals with results"
    c0, e0 = pts[0]
    if e0 <= 0:
        return None, f"no positive excess to halve at {cny_short(c0)}"
    half = e0 / 2
    for (ca, ea), (cb, eb) in zip(pts, pts[1:]):
        if eb <= half:
            f = (ea - half) / (ea - eb) if ea != eb else 0.0
            return float(10 ** (math.log10(ca) + f * (math.log10(cb) - math.log10(ca)))), ""
    return None, f"excess stays above half ({half:+.1%}) up to {cny_short(pts[-1][0])}"


# ----- terminal -------------------------------------------------------------------
def _p(v: Any, signed: bool = False, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return format(float(v), f"{'+' if signed else ''}.{digits}%")


def _n(v: Any, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{float(v):.{digits}f}"


def scenarios_text(table: pd.DataFrame) -> list[str]:
    """The grid as a terminal table: one line per scenario."""
    width = max([len("scenario")] + [len(str(n)) for n in table["scenario"]])
    head = (f"  {'scenario':<{width}}  {'annual':>7} {'excess':>7} {'IR':>5} {'max DD':>7} {'turn':>5} "
            f"{'costs/yr':>8} {'capped':>6} {'p95 part':>8}  status")
    lines = [head]
    for _, r in table.iterrows():
        status = r["status"] + (" (reused)" if r["reused"] else "")
        if r["status"] != "ok":
            status = f"failed: {r['error']}"
        lines.append(f"  {r['scenario']:<{width}}  {_p(r['annual_return']):>7} {_p(r['excess_annual_return'], True):>7} "
                     f"{_n(r['information_ratio']):>5} {_p(r['max_drawdown']):>7} {_n(r['annual_turnover'], 1):>5} "
                     f"{_p(r['costs_annual_pct'], digits=2):>8} {_p(r['blocked_volume_cap'], digits=0):>6} "
                     f"{_p(r['crowd_participation_p95']):>8}  {status}")
    return lines


def capacity_text(curves: list[Curve]) -> list[str]:
    lines = []
    for c in curves:
        what = "capital (cash x crowd)" if c.crowded else "capital"
        name = f" [{c.label}]" if c.label else ""
        pts = ", ".join(f"{cny_short(x)} {_p(e, True)} (IR {_n(i)})" for x, e, i in zip(c.capital, c.excess, c.ir))
        lines.append(f"  capacity{name}: excess by {what}: {pts}")
        lines.append(f"    excess halves at {cny_short(c.half_at)}" if c.half_at else f"    excess halves: {c.note}")
    return lines


def episodes_text(episodes: pd.DataFrame, scenario: str) -> list[str]:
    """The episodes of one scenario as a terminal table."""
    part = episodes[episodes["scenario"] == scenario]
    if part.empty:
        return []
    lines = [f"  episodes (book of scenario {scenario} at each start; unsellable = suspended or closed limit-down):",
             f"    {'episode':<32} {'unsellable 1st/worst/mean':>26} {'days to sell 10%/25%':>21} "
             f"{'return':>7} {'max DD':>7} {'vs pool':>8} {'vs index':>8}"]
    for _, r in part.iterrows():
        label = f"{r['episode']} {r['start'][:7]}"
        if r["skipped"]:
            lines.append(f"    {label:<32} skipped: {r['skipped']}")
            continue
        unsell = f"{_p(r['unsellable_first_day'], digits=0)}/{_p(r['unsellable_max'], digits=0)}/" \
                 f"{_p(r['unsellable_mean'], digits=0)}"
        days = f"{_days(r['days_to_liquidate_10'])}/{_days(r['days_to_liquidate_25'])}"
        lines.append(f"    {label:<32} {unsell:>26} {days:>21} {_p(r['return']):>7} {_p(r['max_drawdown']):>7} "
                     f"{_p(r['drawdown_vs_pool']):>8} {_p(r['drawdown_vs_index']):>8}")
    return lines


def _days(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ">250"
    return str(int(v))


def write_tables(stage: Path, table: pd.DataFrame, episodes: pd.DataFrame, daily: pd.DataFrame) -> list[str]:
    """stress.csv, episodes.csv and episodes_daily.csv into the staging folder (floats as the backtest's
    CSVs round them); the names written."""
    files = {"stress.csv": table, "episodes.csv": episodes, "episodes_daily.csv": daily}
    written = []
    for name, frame in files.items():
        if name == "stress.csv" or len(frame):
            csv_frame(frame, ()).to_csv(stage / name, index=False)
            written.append(name)
    return written


def reference_scenario(table: pd.DataFrame) -> Optional[str]:
    """The scenario the terminal's episode table shows: the first that ran."""
    ok = table[table["status"] == "ok"]
    return str(ok["scenario"].iloc[0]) if len(ok) else None

