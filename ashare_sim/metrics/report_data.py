"""Everything report.html shows, computed here from a run's tables so the page only renders it.

    data = report_data(metrics, equity, trades, holdings, orders, signal)
    report.html.write_report(out_dir, data)

Every figure is defined in `metrics.performance` (returns, drawdowns, months, IC summaries); this
module assembles them into the series and tables of the page's sections.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pandas as pd

from ashare_sim.metrics import study
from ashare_sim.metrics.performance import (
    benchmark_returns,
    daily_returns,
    drawdown_series,
    ic_summary,
    monthly_returns,
    prepare_equity,
)

TOP_HOLDINGS = 15


@dataclass
class ReportData:
    metrics: dict
    bench_label: str
    has_benchmark: bool
    nav: pd.Series                                  # portfolio value / starting cash
    bench_nav: Optional[pd.Series]
    excess_curve: Optional[pd.Series]               # prod(1 + daily excess)
    drawdown: pd.Series
    excess_drawdown: Optional[pd.Series]
    monthly: pd.DataFrame                           # month -> portfolio, benchmark, excess
    study: dict = field(default_factory=dict)       # the study's published figures and source
    show_study: bool = False                        # the study column belongs beside scored runs only
    composite_ic: Optional[pd.Series] = None        # RankIC of the composite by signal date
    ic_summary: Optional[pd.DataFrame] = None       # factors + composite: mean, std, ic_ir, win_rate, n
    composite_ir: Optional[float] = None
    factor_weights: Optional[pd.DataFrame] = None
    quintiles: Optional[pd.DataFrame] = None        # Q1..Q5 returns per period
    quintile_spread: Optional[float] = None         # mean of top minus bottom
    quintile_periods: int = 0
    names_held: Optional[pd.Series] = None          # holdings date -> names held
    universe_size: Optional[pd.Series] = None
    top_holdings: Optional[pd.DataFrame] = None     # symbol, qty, sellable_qty, close, value, weight
    holdings_day: Any = None
    holdings_names: int = 0
    invested: Optional[float] = None                # share of the value in positions on holdings_day


def _attr(obj: Any, name: str) -> Any:
    """Optional attribute of the duck-typed signal; None when missing or empty."""
    if obj is None:
        return None
    v = getattr(obj, name, None)
    if isinstance(v, (pd.DataFrame, pd.Series)) and len(v) == 0:
        return None
    return v


def is_study_run(m: dict) -> bool:
    """The study's column belongs beside runs of the study's strategy (targets from the scoring pipeline)."""
    return ((m.get("targets_source") or {}).get("kind") == "pipeline") if isinstance(m, dict) else False


def report_data(metrics: dict, equity: pd.DataFrame, trades: pd.DataFrame | None, holdings: pd.DataFrame | None,
                orders: pd.DataFrame | None = None, signal: Any = None) -> ReportData:
    """The page's data. `metrics` is metrics.json's dict; the tables are the output tables (trades, holdings,
    orders may be None or empty); `signal` is optional and duck-typed (factor_ic, ic_summary,
    quintile_returns, universe_size, factor_weights, each optional)."""
    m = metrics or {}
    eq = prepare_equity(equity)
    initial_cash = float(m.get("initial_cash") or eq["value"].iloc[0])
    r = daily_returns(eq["value"], initial_cash)
    b = benchmark_returns(eq["benchmark"])
    bench_nav = excess_curve = excess_dd = None
    if b is not None:
        bench_nav = (1.0 + b).cumprod()
        excess_curve = (1.0 + (r - b).fillna(0.0)).cumprod()
        excess_dd = drawdown_series(excess_curve, 1.0)
    data = ReportData(
        metrics=m, bench_label=str(m.get("benchmark_label") or "Benchmark"), has_benchmark=b is not None,
        nav=eq["value"] / initial_cash, bench_nav=bench_nav, excess_curve=excess_curve,
        drawdown=drawdown_series(eq["value"], initial_cash), excess_drawdown=excess_dd,
        monthly=monthly_returns(eq.reset_index(), initial_cash),
        study={"figures": dict(study.FIGURES), "source": study.SOURCE}, show_study=is_study_run(m))
    _factors(data, signal)
    _holdings(data, holdings, eq, signal)
    return data


def _factors(data: ReportData, signal: Any) -> None:
    fic = _attr(signal, "factor_ic")
    summ = _attr(signal, "ic_summary")
    if summ is None and fic is not None:
        summ = ic_summary(fic)
    if fic is not None and "composite" in fic.columns:
        data.composite_ic = pd.to_numeric(fic["composite"], errors="coerce")
    if summ is not None and len(summ):
        summ = summ.copy()
        if "composite" in summ.index and "ic_ir" in summ.columns:
            ir = summ.loc["composite", "ic_ir"]
            data.composite_ir = None if pd.isna(ir) else float(ir)
        data.ic_summary = summ
    weights = _attr(signal, "factor_weights")
    data.factor_weights = weights if isinstance(weights, pd.DataFrame) else None
    q = _attr(signal, "quintile_returns")
    if isinstance(q, pd.DataFrame):
        qn = q.apply(pd.to_numeric, errors="coerce")
        spread = (qn.iloc[:, -1] - qn.iloc[:, 0]).dropna()
        data.quintiles = qn
        data.quintile_spread = spread.mean() if len(spread) else None
        data.quintile_periods = len(qn.dropna(how="all"))


def _holdings(data: ReportData, holdings: pd.DataFrame | None, eq: pd.DataFrame, signal: Any) -> None:
    if holdings is None or len(holdings) == 0 or not {"date", "symbol"} <= set(holdings.columns):
        return
    h = holdings.copy()
    h["date"] = pd.to_datetime(h["date"]).dt.normalize()
    if "qty" in h.columns:
        h = h[pd.to_numeric(h["qty"], errors="coerce").fillna(0) > 0]
    if len(h) == 0:
        data.names_held = pd.Series(dtype=float)
        return
    counts = h.groupby("date")["symbol"].nunique()
    universe = _attr(signal, "universe_size")
    data.names_held = counts
    data.universe_size = universe if isinstance(universe, pd.Series) else None
    last = counts.index[-1]
    lh = h[h["date"] == last].copy()
    if "value" in lh.columns:
        lh["value"] = pd.to_numeric(lh["value"], errors="coerce")
    else:
        lh["value"] = pd.to_numeric(lh.get("qty"), errors="coerce") * pd.to_numeric(lh.get("close"), errors="coerce")
    total = eq["value"].asof(last) if len(eq) and last >= eq.index[0] else lh["value"].sum()
    lh = lh.sort_values("value", ascending=False)
    top = lh.head(TOP_HOLDINGS).copy()
    top["weight"] = top["value"] / total if total else None
    data.top_holdings = top
    data.holdings_day = last
    data.holdings_names = len(lh)
    data.invested = lh["value"].sum() / total if total else None
