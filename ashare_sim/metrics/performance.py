"""Portfolio and factor statistics as plain functions on tables (no Backtrader).

Every figure of `metrics.json` is defined here, once. Conventions, used by all
functions below:

* **Daily return** r_t = value_t / value_{t-1} - 1; the first day's return is
  measured against `initial_cash`, so day-one trading costs count.
* **Benchmark return** b_t = level_t / level_{t-1} - 1 on the `benchmark`
  column (an index level, forward-filled over gaps); the first day with a level
  is the base (b = 0). Days before the first level have no benchmark return and
  are left out of every excess statistic.
* **Excess return** e_t = r_t - b_t (arithmetic daily difference, not a ratio).
  The **excess curve** is the product of (1 + e_t); excess drawdowns are taken on it.
* **Years** = (last date - first date + 1 calendar day) / 365.25. Compound
  annual figures use calendar time so the A-share calendar (~242 trading days a
  year) does not bias them.
* **Annualized rates from daily series** use `periods_per_year` (252):
  mean x 252 and std x sqrt(252), std with ddof=1.
* A figure that cannot be computed (no benchmark, fewer than two days, zero
  dispersion) is None, never NaN, so the dict is JSON-safe (`allow_nan=False`).
"""
from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.execution.orders import (
    CONTRACT_REASONS,
    FEE_KINDS,
    Side,
    Status,
    fees_of,
)

# Annualization of daily means and standard deviations (TE = std(daily excess) x sqrt(252)).
PERIODS_PER_YEAR = 252
# Monthly IC series are annualized with sqrt(12) (one signal per month).
MONTHS_PER_YEAR = 12
# Calendar-day length of a year for compound annual returns (leap years averaged).
DAYS_PER_YEAR = 365.25
# The cost columns of trades.csv, in the order they are reported.
COST_KINDS = FEE_KINDS + ("slippage",)
# Reason codes of orders.csv (docs/outputs.md); each gets a blocked_<reason> key even when zero,
# so stress.csv has stable columns. Unknown reasons found in the data are added too.
ORDER_REASONS = CONTRACT_REASONS
# Order statuses that mean part or all of the requested quantity did not trade.
BLOCKED_STATUSES = (Status.REJECTED, Status.PARTIAL)
# Relative size below which a standard deviation is floating-point noise (constant series).
_NOISE = 1e-12


# --------------------------------------------------------------------------- helpers


def json_safe(obj: Any) -> Any:
    """Return `obj` with NaN/inf -> None, numpy scalars -> Python, dates -> 'YYYY-MM-DD'."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if obj is None or obj is pd.NaT:
        return None
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, (pd.Timestamp, _dt.datetime)):
        return obj.strftime("%Y-%m-%d")
    if isinstance(obj, _dt.date):
        return obj.isoformat()
    if isinstance(obj, pd.Period):
        return str(obj)
    try:
        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    return obj


def prepare_equity(equity: pd.DataFrame) -> pd.DataFrame:
    """Equity table indexed by a sorted, unique DatetimeIndex with float columns."""
    if equity is None or len(equity) == 0:
        raise ValueError("compute_metrics: equity is empty; expected columns date, value[, cash, benchmark]")
    missing = [c for c in ("date", "value") if c not in equity.columns]
    if missing:
        raise ValueError(
            f"compute_metrics: equity lacks column(s) {missing}; got {list(equity.columns)} "
            "(expected date, value, cash, benchmark)"
        )
    eq = equity.copy()
    eq["date"] = pd.to_datetime(eq["date"]).dt.normalize()
    eq = eq.sort_values("date").drop_duplicates("date", keep="last").set_index("date")
    out = pd.DataFrame(index=eq.index)
    out["value"] = pd.to_numeric(eq["value"], errors="coerce").astype(float)
    if out["value"].isna().any():
        bad = out.index[out["value"].isna()][0].date()
        raise ValueError(f"compute_metrics: equity value is missing or not a number on {bad}")
    out["cash"] = pd.to_numeric(eq["cash"], errors="coerce").astype(float) if "cash" in eq else np.nan
    if "benchmark" in eq:
        out["benchmark"] = pd.to_numeric(eq["benchmark"], errors="coerce").astype(float)
    else:
        out["benchmark"] = np.nan
    return out


def daily_returns(values: pd.Series, base: float) -> pd.Series:
    """r_t = v_t / v_{t-1} - 1, the first against `base` (the starting cash)."""
    prev = values.shift(1)
    prev.iloc[0] = base
    return values / prev - 1.0


def benchmark_returns(levels: pd.Series) -> pd.Series | None:
    """b_t from index levels (forward-filled); base day = 0; NaN before the first level; None if no level."""
    if levels is None or levels.notna().sum() == 0:
        return None
    lv = levels.ffill()
    b = lv / lv.shift(1) - 1.0
    first = lv.first_valid_index()
    b.loc[first] = 0.0
    return b


def _years(index: pd.DatetimeIndex) -> float:
    """Calendar years covered, counting both the first and the last day."""
    if len(index) == 0:
        return 0.0
    return ((index[-1] - index[0]).days + 1) / DAYS_PER_YEAR


# Under a year a compound annual rate magnifies a few weeks' luck into a yearly figure (+3% in a month reads
# as +42% a year); performance standards (GIPS) forbid annualising such spans, and so do the headlines here.
ANNUALISE_FROM_YEARS = 1.0


def headline_returns(m: dict) -> dict:
    """The return figures a summary leads with: annualised over a year or more, the total return of the span
    under a year. Keys: annualised, label ('annual' or 'total'), portfolio, benchmark, excess, note."""
    years = m.get("years") or 0.0
    if years >= ANNUALISE_FROM_YEARS:
        return {"annualised": True, "label": "annual", "portfolio": m.get("annual_return"),
                "benchmark": m.get("benchmark_annual_return"), "excess": m.get("excess_annual_return"), "note": ""}
    port, bench = m.get("total_return"), m.get("benchmark_total_return")
    return {"annualised": False, "label": "total", "portfolio": port, "benchmark": bench,
            "excess": None if port is None or bench is None else port - bench,    # a difference, as by_year's
            "note": f"{m.get('days', 0)} trading days: under a year, returns are not annualised"}


def _cagr(growth: float | None, years: float) -> float | None:
    """Compound annual rate from a total growth factor (end / start) over `years`."""
    if growth is None or years <= 0 or not math.isfinite(growth):
        return None
    if growth <= 0:
        return -1.0
    return growth ** (1.0 / years) - 1.0


def _compound(r: pd.Series | None) -> float | None:
    """prod(1 + r) - 1 over the non-NaN values; None when there are none."""
    if r is None:
        return None
    r = r.dropna()
    if len(r) == 0:
        return None
    return float(np.prod(1.0 + r.to_numpy()) - 1.0)


def _ann_mean_std(r: pd.Series | None, periods: float) -> tuple[float | None, float | None]:
    """(mean x periods, std(ddof=1) x sqrt(periods)) of the non-NaN values."""
    if r is None:
        return None, None
    r = r.dropna()
    if len(r) < 2:
        return None, None
    return float(r.mean() * periods), float(r.std(ddof=1) * math.sqrt(periods))


def _ratio(a: float | None, b: float | None) -> float | None:
    """a / b, None when b is missing or at rounding-noise level (no dispersion)."""
    if a is None or b is None or not math.isfinite(b) or b <= _NOISE * max(1.0, abs(a)):
        return None
    return a / b


def drawdown_series(wealth: pd.Series, base: float) -> pd.Series:
    """wealth_t / running peak - 1 (<= 0); the running peak starts at `base`."""
    peak = np.maximum.accumulate(np.maximum(wealth.to_numpy(dtype=float), base))
    return pd.Series(wealth.to_numpy(dtype=float) / peak - 1.0, index=wealth.index)


def max_drawdown(wealth: pd.Series, base: float) -> dict:
    """The deepest fall of `wealth` from a running peak (peak starts at `base`).

    Returns max_drawdown (<= 0; -0.25 = a 25% fall), start (date of the peak; the
    first date when the peak is `base` itself), trough (date of the low), end
    (first date back at or above the peak, None if not recovered),
    duration_days (calendar days from peak to recovery, or to the last date when
    not recovered) and duration_trading_days (rows from peak to that date).
    """
    empty = {"max_drawdown": 0.0, "start": None, "trough": None, "end": None,
             "duration_days": 0, "duration_trading_days": 0, "recovered": True}
    if wealth is None or len(wealth) == 0:
        return {**empty, "max_drawdown": None}
    w = wealth.to_numpy(dtype=float)
    dd = drawdown_series(wealth, base).to_numpy()
    t = int(np.argmin(dd))
    if not dd[t] < 0:
        return empty
    peak_value = max(base, float(np.max(w[: t + 1])))
    at_peak = np.nonzero(w[: t + 1] >= peak_value)[0]
    p = int(at_peak[-1]) if len(at_peak) else 0
    after = np.nonzero(w[t + 1:] >= peak_value)[0]
    recovered = len(after) > 0
    e = t + 1 + int(after[0]) if recovered else len(w) - 1
    idx = wealth.index
    return {
        "max_drawdown": float(dd[t]),
        "start": idx[p],
        "trough": idx[t],
        "end": idx[e] if recovered else None,
        "duration_days": int((idx[e] - idx[p]).days),
        "duration_trading_days": int(e - p),
        "recovered": recovered,
    }


def monthly_returns(equity: pd.DataFrame, initial_cash: float) -> pd.DataFrame:
    """Calendar-month returns: index = month (Period 'M'); columns portfolio, benchmark, excess.

    A month's return compounds its daily returns (so the first month runs from
    `initial_cash`); benchmark likewise (NaN when the month has no benchmark
    return); excess = portfolio - benchmark (arithmetic). Partial first and last
    months are included as they are.
    """
    eq = prepare_equity(equity)
    r = daily_returns(eq["value"], initial_cash)
    b = benchmark_returns(eq["benchmark"])
    months = eq.index.to_period("M")

    first = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])     # dates are sorted: a month is a run
    out = pd.DataFrame({"portfolio": _compound_runs(r.to_numpy(dtype=float), first)}, index=months[first])
    out["benchmark"] = _compound_runs(b.to_numpy(dtype=float), first) if b is not None else np.nan
    out["excess"] = out["portfolio"] - out["benchmark"]
    out.index.name = "month"
    return out


def _compound_runs(returns: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Each run's compounded return (runs start at the indexes `first`), NaN returns left out, NaN for a run
    without any."""
    ends = np.r_[first[1:], len(returns)]
    out = np.full(len(first), np.nan)
    for i, (a, z) in enumerate(zip(first.tolist(), ends.tolist())):
        x = returns[a:z]
        x = x[~np.isnan(x)]
        if len(x):
            out[i] = float(np.prod(1.0 + x) - 1.0)
    return out


def _win_rate(monthly: pd.DataFrame) -> float | None:
    """Share of months (with a benchmark return) where portfolio > benchmark; ties are losses."""
    m = monthly.dropna(subset=["benchmark"])
    if len(m) == 0:
        return None
    return float((m["portfolio"] > m["benchmark"]).mean())


def _traded_value(trades: pd.DataFrame | None) -> pd.Series:
    """|qty| x price per trade row (CNY), indexed like `trades`."""
    if trades is None or len(trades) == 0 or not {"qty", "price"} <= set(trades.columns):
        return pd.Series(dtype=float)
    return (pd.to_numeric(trades["qty"], errors="coerce").abs()
            * pd.to_numeric(trades["price"], errors="coerce")).fillna(0.0)


def _costs(trades: pd.DataFrame | None) -> dict[str, float]:
    """Sum of each cost column (0 when absent)."""
    out = {}
    for k in COST_KINDS:
        if trades is not None and len(trades) and k in trades.columns:
            out[k] = float(pd.to_numeric(trades[k], errors="coerce").fillna(0.0).sum())
        else:
            out[k] = 0.0
    return out


def _trade_dates(trades: pd.DataFrame | None) -> pd.Series:
    if trades is None or len(trades) == 0 or "date" not in trades.columns:
        return pd.Series(dtype="datetime64[ns]")
    return pd.to_datetime(trades["date"]).dt.normalize()


def participation_stats(trades: pd.DataFrame | None) -> dict:
    """Fills as a share of the day's volume (trades.csv `participation`): mean, median, 95th percentile
    and max over fills; None without the column (a generic broker) or without fills."""
    keys = ("participation_mean", "participation_median", "participation_p95", "participation_max")
    if trades is None or len(trades) == 0 or "participation" not in trades.columns:
        return {k: None for k in keys}
    p = pd.to_numeric(trades["participation"], errors="coerce").dropna()
    if len(p) == 0:
        return {k: None for k in keys}
    return dict(zip(keys, (float(p.mean()), float(p.median()), float(p.quantile(0.95)), float(p.max()))))


def order_stats(orders: pd.DataFrame | None) -> dict:
    """Order counts and blocked shares, counted per intent rather than per attempt.

    An intent is one (symbol, side, rebalance_date) the strategy set out to trade; its attempts are
    the first order and the retries on later days (orders.csv `attempt` > 0). So one halted stock
    retried every day of a month is one suspended intent, not twenty.

    - blocked_<reason>: share of intents of which at least one attempt was rejected or partially
      filled for that reason (one key per reason code of the outputs, 0.0 when none).
    - n_intents, intents_unfilled (last attempt not filled), n_orders (= attempts, rows of
      orders.csv), retries (attempts after the first), orders_filled / _partial / _rejected (rows).
    - attempts_blocked_<reason>: share of rows rejected or partial with that reason.
    Rows without a rebalance_date (orders not from a rebalance plan) are each their own intent.
    """
    out: dict[str, Any] = {"n_orders": 0, "n_intents": 0, "intents_unfilled": 0, "retries": 0,
                           "orders_filled": 0, "orders_partial": 0, "orders_rejected": 0}
    reasons = list(ORDER_REASONS)
    if orders is None or len(orders) == 0 or "status" not in orders.columns:
        out.update({f"blocked_{r}": 0.0 for r in reasons})
        out.update({f"attempts_blocked_{r}": 0.0 for r in reasons})
        return out
    status = orders["status"].astype(str).str.lower()
    reason = (orders["reason"] if "reason" in orders.columns else pd.Series("", index=orders.index))
    reason = reason.fillna("").astype(str).str.strip()
    n = len(orders)
    out["n_orders"] = n
    for s in Status:
        out[f"orders_{s}"] = int((status == s).sum())
    attempt = (pd.to_numeric(orders["attempt"], errors="coerce").fillna(0) if "attempt" in orders.columns
               else pd.Series(0, index=orders.index))
    out["retries"] = int((attempt > 0).sum())
    reb = orders["rebalance_date"] if "rebalance_date" in orders.columns else pd.Series(None, index=orders.index)
    intent = _intents(orders["symbol"], orders["side"], reb)
    out["n_intents"] = int(intent.nunique())
    out["intents_unfilled"] = int((status.groupby(intent, sort=False).last() != Status.FILLED).sum())
    blocked = status.isin(BLOCKED_STATUSES)
    for r in sorted(set(reason[blocked & (reason != "")].unique()) - set(reasons)):
        reasons.append(r)
    for r in reasons:
        hit = blocked & (reason == r)
        out[f"blocked_{r}"] = float(intent[hit].nunique() / out["n_intents"])
        out[f"attempts_blocked_{r}"] = float(hit.sum() / n)
    return out


def _intents(symbol: pd.Series, side: pd.Series, rebalance: pd.Series) -> pd.Series:
    """An integer per (symbol, side, rebalance_date); each row without a rebalance date is its own."""
    parts = [pd.factorize(symbol.astype(str))[0], pd.factorize(side.astype(str))[0]]
    planned = rebalance.notna().to_numpy()
    reb = np.where(planned, pd.factorize(rebalance)[0], -1 - np.arange(len(rebalance)))
    code = np.zeros(len(symbol), dtype=np.int64)
    for p in (*parts, pd.factorize(reb)[0]):
        code = code * (int(p.max(initial=0)) + 1) + p
    return pd.Series(code, index=symbol.index)


# --------------------------------------------------------------------------- core


def _period_stats(
    value: pd.Series,
    base: float,
    r: pd.Series,
    b: pd.Series | None,
    monthly: pd.DataFrame,
    periods: float,
    risk_free: float,
) -> dict:
    """Return / risk figures of one span (the whole run or one year) of a daily value path."""
    e = (r - b) if b is not None else None
    if e is not None and e.notna().sum() == 0:
        e = None
    mean_r, vol = _ann_mean_std(r, periods)
    mean_e, te = _ann_mean_std(e, periods)
    mean_b, bvol = _ann_mean_std(b, periods)
    dd = max_drawdown(value, base)
    bdd = max_drawdown((1.0 + b.dropna()).cumprod(), 1.0)["max_drawdown"] if e is not None else None
    out: dict[str, Any] = {
        "total_return": float(value.iloc[-1] / base - 1.0),
        "benchmark_total_return": _compound(b),
        "volatility": vol,
        "sharpe": _ratio(None if mean_r is None else mean_r - risk_free, vol),
        "max_drawdown": dd["max_drawdown"],
        "max_drawdown_start": dd["start"],
        "max_drawdown_trough": dd["trough"],
        "max_drawdown_end": dd["end"],
        "max_drawdown_duration_days": dd["duration_days"],
        "max_drawdown_duration_trading_days": dd["duration_trading_days"],
        "max_drawdown_recovered": dd["recovered"],
        "benchmark_volatility": bvol,
        "benchmark_sharpe": _ratio(None if mean_b is None else mean_b - risk_free, bvol),
        "benchmark_max_drawdown": bdd,
        "tracking_error": te,
        "information_ratio": _ratio(mean_e, te),
        "excess_mean_annualized": mean_e,
        "monthly_win_rate": _win_rate(monthly),
    }
    if e is not None:
        curve = (1.0 + e.fillna(0.0)).cumprod()
        xdd = max_drawdown(curve, 1.0)
        out.update({
            "excess_max_drawdown": xdd["max_drawdown"],
            "excess_max_drawdown_start": xdd["start"],
            "excess_max_drawdown_trough": xdd["trough"],
            "excess_max_drawdown_end": xdd["end"],
            "excess_max_drawdown_duration_days": xdd["duration_days"],
            "excess_total_return": float(curve.iloc[-1] - 1.0),
        })
    else:
        out.update({k: None for k in (
            "excess_max_drawdown", "excess_max_drawdown_start", "excess_max_drawdown_trough",
            "excess_max_drawdown_end", "excess_max_drawdown_duration_days", "excess_total_return")})
    return out


def compute_metrics(
    equity: pd.DataFrame,
    trades: pd.DataFrame | None,
    orders: pd.DataFrame | None,
    holdings: pd.DataFrame | None,
    initial_cash: float,
    *,
    periods_per_year: float = PERIODS_PER_YEAR,
    risk_free: float = 0.0,
) -> dict:
    """All run figures of `metrics.json`, JSON-safe (None where not computable).

    Inputs (the output tables, docs/outputs.md): `equity` date, value, cash, benchmark (index level;
    column absent or all NaN = no benchmark); `trades` date, symbol, side, qty,
    price, commission, stamp_duty, transfer_fee, slippage; `orders` date, symbol,
    side, requested_qty, filled_qty, price, status, reason; `holdings` date,
    symbol, qty, sellable_qty, close, value. trades / orders / holdings may be
    None or empty.

    Definitions (see the module docstring for returns, years and annualization):

    - annual_return = (final value / initial_cash) ** (1 / years) - 1.
    - benchmark_annual_return = (prod(1 + b_t)) ** (1 / years) - 1.
    - excess_annual_return = annual_return - benchmark_annual_return (difference of
      compound rates, as in the study's table). excess_curve_annual_return is the
      compound rate of the excess curve prod(1 + e_t), for reference.
    - volatility = std(r_t) x sqrt(252); sharpe = (mean(r_t) x 252 - risk_free) / volatility;
      benchmark_volatility / benchmark_sharpe / benchmark_max_drawdown: the same on b_t.
    - max_drawdown = min over t of value_t / running peak - 1 (<= 0, running peak
      starts at initial_cash), with _start (peak date), _trough, _end (recovery
      date or None) and _duration_days (calendar days peak -> recovery, or -> last
      date if not recovered). excess_max_drawdown: the same on the excess curve.
    - tracking_error = std(e_t) x sqrt(252); information_ratio = mean(e_t) x 252 / tracking_error.
    - monthly_win_rate = share of calendar months whose compounded portfolio return
      beats the benchmark's (ties lose; partial first/last months count).
    - annual_turnover = (sum of |qty| x price over buys and sells / 2) / mean daily
      portfolio value / years (1.0 = the book replaced once a year).
    - costs: commission, stamp_duty, transfer_fee, slippage summed in CNY;
      total_costs = the four together (slippage is already inside fill prices,
      counted here because it is a trading cost, not charged twice);
      charged_costs = without slippage; costs_annual_pct = total_costs / mean value / years.
    - participation_mean / _median / _p95 / _max: fills as a share of the day's volume.
    - blocked_<reason> = share of intents (symbol, side, rebalance) blocked at least once for that
      reason, retries counted separately (see `order_stats`).
    - by_year: one row per calendar year, the span's figures with the previous
      year-end value as base: portfolio_return, benchmark_return, excess_return
      (= difference), and as annual_return / benchmark_annual_return /
      excess_annual_return the same (not annualized; partial years stay partial),
      max_drawdown, excess_max_drawdown, information_ratio, tracking_error,
      monthly_win_rate, sharpe, volatility, annual_turnover (the year's traded
      value / 2 / mean value, not scaled), total_costs.
    """
    eq = prepare_equity(equity)
    initial_cash = float(initial_cash)
    if not initial_cash > 0:
        raise ValueError(f"compute_metrics: initial_cash must be > 0, got {initial_cash}")
    value = eq["value"]
    r = daily_returns(value, initial_cash)
    b = benchmark_returns(eq["benchmark"])
    has_bench = b is not None
    monthly = monthly_returns(eq.reset_index(), initial_cash)
    years = _years(eq.index)

    stats = _period_stats(value, initial_cash, r, b, monthly, periods_per_year, risk_free)
    annual = _cagr(value.iloc[-1] / initial_cash, years)
    bench_growth = None if stats["benchmark_total_return"] is None else 1.0 + stats["benchmark_total_return"]
    bench_annual = _cagr(bench_growth, years) if has_bench else None
    excess_annual = None if annual is None or bench_annual is None else annual - bench_annual
    excess_curve_annual = (_cagr(1.0 + stats["excess_total_return"], years)
                           if stats["excess_total_return"] is not None else None)

    traded = _traded_value(trades)
    tdates = _trade_dates(trades)
    avg_value = float(value.mean())
    turnover = float(traded.sum() / 2.0 / avg_value / years) if years > 0 and avg_value > 0 else None
    costs = _costs(trades)
    total_costs = float(sum(costs.values()))
    charged = float(fees_of(costs))

    n_trades = int(len(trades)) if trades is not None else 0
    if trades is not None and len(trades) and "side" in trades.columns:
        side = trades["side"].astype(str).str.lower()
        buy_value = float(traded[side == Side.BUY].sum())
        sell_value = float(traded[side == Side.SELL].sum())
    else:
        buy_value = sell_value = 0.0

    out: dict[str, Any] = {
        "start": eq.index[0],
        "end": eq.index[-1],
        "days": int(len(eq)),
        "years": years,
        "initial_cash": initial_cash,
        "final_value": float(value.iloc[-1]),
        "has_benchmark": has_bench,
        "annual_return": annual,
        "benchmark_annual_return": bench_annual,
        "excess_annual_return": excess_annual,
        "excess_curve_annual_return": excess_curve_annual,
        **stats,
        "annual_turnover": turnover,
        "traded_value": float(traded.sum()),
        "buy_value": buy_value,
        "sell_value": sell_value,
        "n_trades": n_trades,
        "average_value": avg_value,
        **costs,
        "total_costs": total_costs,
        "charged_costs": charged,
        "costs_annual_pct": total_costs / avg_value / years if years > 0 and avg_value > 0 else None,
        **order_stats(orders),
        **participation_stats(trades),
        **_holdings_stats(holdings),
        "periods_per_year": periods_per_year,
        "risk_free": risk_free,
    }

    rows = []
    prev_value = initial_cash
    for year in sorted(set(eq.index.year)):
        mask = eq.index.year == year
        v_y = value[mask]
        b_y = b[mask] if has_bench else None
        m_y = monthly[monthly.index.year == year]
        s = _period_stats(v_y, prev_value, r[mask], b_y, m_y, periods_per_year, risk_free)
        ty = (tdates.dt.year == year).to_numpy() if len(tdates) else np.zeros(0, dtype=bool)
        yr_costs = 0.0
        if trades is not None and len(trades) and len(ty):
            yr_costs = float(sum(_costs(trades[ty]).values()))
        port = s["total_return"]
        bench = s["benchmark_total_return"]
        excess = None if bench is None else port - bench
        rows.append({
            "year": int(year),
            "start": v_y.index[0],
            "end": v_y.index[-1],
            "days": int(mask.sum()),
            "portfolio_return": port,
            "benchmark_return": bench,
            "excess_return": excess,
            "annual_return": port,
            "benchmark_annual_return": bench,
            "excess_annual_return": excess,
            "max_drawdown": s["max_drawdown"],
            "excess_max_drawdown": s["excess_max_drawdown"],
            "information_ratio": s["information_ratio"],
            "tracking_error": s["tracking_error"],
            "monthly_win_rate": s["monthly_win_rate"],
            "sharpe": s["sharpe"],
            "volatility": s["volatility"],
            "annual_turnover": (float(traded[ty].sum() / 2.0 / v_y.mean()) if len(ty) else 0.0),
            "total_costs": yr_costs,
        })
        prev_value = float(v_y.iloc[-1])
    out["by_year"] = rows
    logger.debug("metrics: {} days, annual return {}, IR {}", out["days"], annual, stats["information_ratio"])
    return json_safe(out)


def _holdings_stats(holdings: pd.DataFrame | None) -> dict:
    """Names held per holdings date: mean and last count, and the last date."""
    if holdings is None or len(holdings) == 0 or not {"date", "symbol"} <= set(holdings.columns):
        return {"holdings_avg_names": None, "holdings_last_names": None, "holdings_last_date": None}
    h = holdings
    if "qty" in h.columns:
        h = h[pd.to_numeric(h["qty"], errors="coerce").fillna(0) > 0]
    if len(h) == 0:
        return {"holdings_avg_names": 0.0, "holdings_last_names": 0, "holdings_last_date": None}
    d = pd.to_datetime(h["date"])
    counts = h.groupby(d)["symbol"].nunique()
    return {
        "holdings_avg_names": float(counts.mean()),
        "holdings_last_names": int(counts.iloc[-1]),
        "holdings_last_date": counts.index[-1],
    }


# --------------------------------------------------------------------------- factors


def ic_summary(factor_ic: pd.DataFrame | None) -> pd.DataFrame:
    """Per column of a monthly IC table: mean, std (ddof=1), ic_ir = mean / std x sqrt(12),
    win_rate = share of months with IC > 0, n = non-NaN months."""
    cols = ["mean", "std", "ic_ir", "win_rate", "n"]
    if factor_ic is None or len(factor_ic) == 0:
        return pd.DataFrame(columns=cols, dtype=float)
    rows = {}
    for c in factor_ic.columns:
        x = pd.to_numeric(factor_ic[c], errors="coerce").dropna()
        n = len(x)
        mean = float(x.mean()) if n else np.nan
        std = float(x.std(ddof=1)) if n > 1 else np.nan
        # A std at rounding-noise level means no dispersion: the ratio is undefined, not huge.
        ir = mean / std * math.sqrt(MONTHS_PER_YEAR) if n > 1 and std > _NOISE * max(1.0, abs(mean)) else np.nan
        rows[c] = {"mean": mean, "std": std, "ic_ir": ir, "win_rate": float((x > 0).mean()) if n else np.nan, "n": n}
    return pd.DataFrame.from_dict(rows, orient="index")[cols]


def factor_metrics(factor_ic: pd.DataFrame | None, quintile_returns: pd.DataFrame | None) -> dict:
    """Factor analytics, JSON-safe.

    `factor_ic`: index = signal date, one column per factor plus "composite",
    values = that month's RankIC (Spearman correlation of the signal with the next
    period's return). `quintile_returns`: index = signal date, columns Q1..Q5
    (Q5 = highest composite score), values = next-period mean return of the bucket.

    Returns {"ic": {column: {mean, std, ic_ir, win_rate, n}}, "composite": the
    composite's row or None, "quintiles": {Q: mean period return},
    "quintile_top_minus_bottom": mean(Q_last - Q_first) or None, "quintile_periods": n}.
    ic_ir = mean / std x sqrt(12) (annualized for monthly signals).
    """
    summ = ic_summary(factor_ic)
    ic = {str(k): {**{c: row[c] for c in ("mean", "std", "ic_ir", "win_rate")}, "n": int(row["n"])}
          for k, row in summ.iterrows()}
    out: dict[str, Any] = {"ic": ic, "composite": ic.get("composite")}
    if quintile_returns is None or len(quintile_returns) == 0 or quintile_returns.shape[1] == 0:
        out.update({"quintiles": {}, "quintile_top_minus_bottom": None, "quintile_periods": 0})
    else:
        q = quintile_returns.apply(pd.to_numeric, errors="coerce")
        out["quintiles"] = {str(c): float(q[c].mean()) for c in q.columns}
        spread = (q.iloc[:, -1] - q.iloc[:, 0]).dropna()
        out["quintile_top_minus_bottom"] = float(spread.mean()) if len(spread) else None
        out["quintile_periods"] = int(len(q.dropna(how="all")))
    return json_safe(out)

