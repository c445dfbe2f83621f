"""Transaction-cost analysis (TCA): fills measured against the configured execution model.

    fills = read_trades("out/trades.csv")            # or read_account("acct.db"): a paper ledger, read only
    result = analyse(fills, market, cfg)             # per fill, the aggregates and the k estimate
    result.fills, result.by_participation, result.k.k, result.k.ci_low, result.k.ci_high

Per fill (one row of `tca_fills.csv`): the decision price (the close before the fill's day on that day's price
basis: the bar's `pre_close`, the previous close moved to the ex-right reference on an ex-date), the arrival
price (the day's open), the day's VWAP (amount / volume), the deal price and the price the configured model
predicts for the fill's quantity, both from the models `ExecutionCore` builds from the config (so a fill price
has one rule, in one place), the realised price, participation (qty / the day's volume) and the model's sigma.
Shortfalls are in basis points, signed so that a cost is > 0 for buys and sells alike; aggregates weight them
by notional (qty x realised price).

The square-root law's k is estimated from the fills (`estimate_k`); docs/tca.md gives the method, why the
tick matters and the error to expect.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.common.csvfile import read_csv
from ashare_sim.common.errors import UserError, unopenable
from ashare_sim.common.typed import parse_date_text
from ashare_sim.execution.context import context_from_market
from ashare_sim.execution.core import ExecutionCore
from ashare_sim.execution.models.base import Env, build_chosen
from ashare_sim.execution.models.slippage import SLIPPAGE, SqrtImpact
from ashare_sim.execution.orders import TRADE_COLUMNS, Reason, Side
from ashare_sim.paper.ledger import Ledger
from ashare_sim.rules.table import round_to_tick

# The columns a backtest writes to trades.csv (backtest.outputs.ENGINE_TRADE_COLUMNS, a floor above this one).
TRADES_COLUMNS = (*TRADE_COLUMNS, "kind", "participation")
FEE_COLUMNS = ("commission", "stamp_duty", "transfer_fee")
# Participation buckets: (label, lower bound inclusive, upper bound exclusive), the fund's own fill / day volume.
PARTICIPATION_BUCKETS = (("<1%", 0.0, 0.01), ("1-2.5%", 0.01, 0.025), ("2.5-5%", 0.025, 0.05),
                         ("5-10%", 0.05, 0.10), (">=10%", 0.10, math.inf))
# Why a fill is left out of the k estimate, in the order they are tested (the first that applies is given).
EXCLUSIONS = {
    "not_in_market": "the fill's day is not a trading day of the market, or its symbol is not in it",
    "no_bar": "no bar or no volume on the fill's day: the model has no price there",
    "cut_for_cash": "a buy cut to the cash after it was priced: its price is the model's for the larger quantity",
    "at_bound": "the price is at the day's high (a buy) or low (a sell) or at the price limit: the model's price "
                "was clamped there, so it only says k is at least that much",
    "zero_sigma": "no volatility before the day (fewer than 3 closes, a new listing): the impact term is 0",
}
BP = 1e4
# Shortfall columns of tca_fills.csv (bp, > 0 a cost) and the price each is measured against.
SHORTFALLS = {"is_decision_bp": "decision_price", "is_arrival_bp": "arrival_price", "is_vwap_bp": "vwap",
              "slippage_bp": "deal_price", "vs_predicted_bp": "predicted_price"}
CONFIDENCE = 0.95
# Prices come as cents from float32 panels and CSVs: equal within this is the same tick.
PRICE_TOL = 1e-6


@dataclass
class Fills:
    """Fills to analyse: `table` date (datetime.date), symbol, side, qty, price, commission, stamp_duty,
    transfer_fee; `cash_cuts` the (date, symbol, side, qty) of buys the core cut to the cash after pricing
    them (None when the orders are not known); `source` what they came from, for the page; `label` how an error
    names them (the flag and the path)."""
    table: pd.DataFrame
    source: str
    label: str = ""
    cash_cuts: Optional[set[tuple[dt.date, str, str, int]]] = None
    notes: list[str] = field(default_factory=list)
    exact: bool = False             # the simulator's own fills (no noise beyond the tick): a backtest's, `simulated`


@dataclass(frozen=True)
class KEstimate:
    """k of price x (1 +/- k x sigma x sqrt(crowd x qty / day volume)), fitted to the fills (docs/tca.md)."""
    k: Optional[float]                       # None: no fill the estimate can use
    ci_low: Optional[float]
    ci_high: Optional[float]
    consistent: Optional[tuple[float, float]]   # every used fill within half a tick of the model for k in here
    n: int                                   # fills used
    days: int                                # trading days they fall on (the clusters of the error)
    excluded: dict[str, int]                 # reason -> fills left out
    configured_k: float
    configured_model: str
    k_ignoring_rounding: Optional[float]     # least squares weighted 1 / sigma^2, prices taken as exact
    within_half_tick: Optional[float]        # share of used fills the fitted model reproduces to the tick
    noise: Optional[float]                   # tau: the fills' own noise beyond the tick, in daily sigmas
    confidence: float = CONFIDENCE

    def as_dict(self) -> dict[str, Any]:
        return {"k": self.k, "ci_low": self.ci_low, "ci_high": self.ci_high, "confidence": self.confidence,
                "consistent_range": list(self.consistent) if self.consistent else None, "n": self.n,
                "days": self.days, "excluded": dict(self.excluded), "configured_k": self.configured_k,
                "configured_model": self.configured_model, "k_ignoring_rounding": self.k_ignoring_rounding,
                "within_half_tick": self.within_half_tick, "noise_sigmas": self.noise,
                "method": METHOD}


METHOD = ("maximum likelihood of a regression through the origin, in ticks, of each fill's side-signed slippage "
          "against the deal price on the model's move at k = 1 (deal x sigma x sqrt(crowd x participation) / tick), "
          "with normal noise of sd noise x deal x sigma / tick and each price read as the tick it was rounded to; "
          "when the noise dwarfs the tick: weighted least squares of the relative slippage on sigma x "
          "sqrt(crowd x participation), weights 1 / sigma^2. The model's own fills (noise 0): the middle of the "
          f"range of k every fill agrees with to the tick. {CONFIDENCE:.0%} interval: k +/- z x the standard error, "
          "robust and clustered by trading day, widened to that range")


@dataclass
class TcaResult:
    fills: pd.DataFrame                       # tca_fills.csv
    by_day: pd.DataFrame
    by_name: pd.DataFrame
    by_participation: pd.DataFrame
    by_side: pd.DataFrame
    k: KEstimate
    summary: dict[str, Any]
    source: str
    notes: list[str] = field(default_factory=list)
    comparison: Optional[dict[str, Any]] = None    # the backtest with the configured k and with the estimate

    def tables(self) -> dict[str, pd.DataFrame]:
        """File name -> table, as written."""
        return {"tca_fills.csv": self.fills, "tca_by_day.csv": self.by_day, "tca_by_name.csv": self.by_name,
                "tca_by_participation.csv": self.by_participation, "tca_by_side.csv": self.by_side}

    def as_dict(self) -> dict[str, Any]:
        """tca.json's figures (besides the manifest's keys)."""
        return {"kind": "tca", "source": self.source, "summary": self.summary, "k_estimate": self.k.as_dict(),
                "exclusion_reasons": {k: v for k, v in EXCLUSIONS.items() if self.k.excluded.get(k)},
                "backtest_comparison": self.comparison, "notes": list(self.notes)}


# ----- reading fills ---------------------------------------------------------------------------------
def read_trades(path: str | Path, flag: str = "--trades") -> Fills:
    """A backtest's trades.csv (kind `fill` rows); the orders.csv beside it, when there is one, names the buys
    cut to the cash. Anything else is a UserError naming the file and the fix."""
    p = Path(path)
    want = "a backtest's trades.csv (`python run.py backtest` writes out/trades.csv)"
    if p.is_dir():
        hint = f"; did you mean {p / 'trades.csv'}?" if (p / "trades.csv").is_file() else ""
        raise UserError(f"{flag} {p}: is a directory; give {want}{hint}")
    try:
        raw = read_csv(p, "trades file", dtype=str, keep_default_na=False)
    except OSError as exc:
        raise unopenable(flag, p, exc, want, f"; give {want}") from None
    except pd.errors.EmptyDataError:
        raise UserError(f"{flag} {p}: an empty file, not a trades CSV; give {want}") from None
    except pd.errors.ParserError as exc:
        raise UserError(f"{flag} {p}: not a readable CSV ({exc.__class__.__name__}); give {want}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in TRADES_COLUMNS if c not in raw.columns]
    if missing:
        raise UserError(f"{flag} {p}: not a trades CSV (missing column(s) {', '.join(missing)}); give {want}, with the "
                        f"columns {','.join(TRADES_COLUMNS)}")
    fills = raw[raw["kind"].str.strip() == "fill"]
    if fills.empty:
        raise UserError(f"{flag} {p}: no fills in it (no row of kind 'fill'); give the trades.csv of a backtest "
                        "that traded")
    table = _typed(fills, f"{flag} {p}")
    notes = []
    cuts = _orders_cash_cuts(p.with_name("orders.csv"))
    if cuts is None:
        notes.append(f"no orders.csv beside {p.name}: buys cut to the cash (priced at the larger quantity) cannot "
                     "be told apart and stay in the k estimate")
    return Fills(table, f"trades file {p}", f"{flag} {p}", cuts, notes, exact=True)


def read_account(path: str | Path) -> Fills:
    """The fills of a paper account (SQLite ledger, opened read-only; kind `fill` only), and its orders cut to
    the cash."""
    p = Path(path)
    with Ledger.open(p, create=False, write=False) as led:
        rows = led.rows("SELECT date, symbol, side, qty, price, commission, stamp_duty, transfer_fee, source FROM "
                        "fills WHERE kind = 'fill' ORDER BY id")
        cut = led.rows("SELECT date, symbol, side, filled_qty FROM orders WHERE reason = ? AND filled_qty > 0",
                       str(Reason.CASH))
    if not rows:
        raise UserError(f"--account {p}: no fills yet, so there is nothing to analyse; execute a plan first "
                        f"(`paper execute --account {p} --date D`)")
    table = _typed(pd.DataFrame(rows).drop(columns="source").astype(str), f"--account {p}")
    cuts = {(dt.date.fromisoformat(r["date"]), r["symbol"], r["side"], int(r["filled_qty"])) for r in cut}
    return Fills(table, f"paper account {p}", f"--account {p}", cuts,
                 exact=all(r["source"] == "simulated" for r in rows))


def _typed(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    """date, symbol, side, qty, price and the fees, typed; a bad value names its row."""
    out = {c: [] for c in ("date", "symbol", "side", "qty", "price", *FEE_COLUMNS)}
    for i, row in enumerate(raw.to_dict("records")):
        where = f"{label} row {i + 2}" if label.startswith("--trades") else f"{label} fill {i + 1}"
        day = parse_date_text(str(row["date"]).strip())
        if day is None:
            raise UserError(f"{where}: date '{row['date']}' is not a date; write YYYY-MM-DD")
        side = str(row["side"]).strip().lower()
        if side not in (Side.BUY, Side.SELL):
            raise UserError(f"{where}: side '{row['side']}' is neither buy nor sell")
        qty, price = _number(row["qty"]), _number(row["price"])
        if not (math.isfinite(qty) and qty > 0 and qty == int(qty)):
            raise UserError(f"{where}: qty '{row['qty']}' is not a whole number of shares above 0")
        if not (math.isfinite(price) and price > 0):
            raise UserError(f"{where}: price '{row['price']}' is not a price above 0")
        out["date"].append(day)
        out["symbol"].append(str(row["symbol"]).strip())
        out["side"].append(side)
        out["qty"].append(int(qty))
        out["price"].append(price)
        for c in FEE_COLUMNS:
            text = str(row.get(c, "")).strip()
            v = 0.0 if text in ("", "nan") else _number(text)
            if not (math.isfinite(v) and v >= 0):
                raise UserError(f"{where}: {c} '{text}' is not a fee (a number >= 0)")
            out[c].append(v)
    return pd.DataFrame(out)


def _number(text: Any) -> float:
    try:
        return float(str(text).strip())
    except ValueError:
        return math.nan


def _orders_cash_cuts(path: Path) -> Optional[set[tuple[dt.date, str, str, int]]]:
    """(date, symbol, side, filled qty) of the orders a backtest's orders.csv says were cut to the cash."""
    if not path.is_file():
        return None
    try:
        orders = read_csv(path, "orders file", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UserError):
        return None
    if not {"date", "symbol", "side", "filled_qty", "reason"} <= set(orders.columns):
        return None
    qty = pd.to_numeric(orders["filled_qty"], errors="coerce")
    cut = orders[(orders["reason"] == str(Reason.CASH)) & (qty > 0)]
    days = [parse_date_text(str(d)) for d in cut["date"]]
    return {(d, s, side, int(q)) for d, s, side, q in zip(days, cut["symbol"], cut["side"], qty[cut.index])
            if d is not None}


# ----- one row per fill -----------------------------------------------------------------------------
# What price_fills collects for each fill; _shortfalls adds the rest of FILL_COLUMNS from these.
FILL_COLUMNS_IN = ["date", "symbol", "side", "qty", "price", "notional", "fees", "decision_price", "arrival_price",
                   "vwap", "deal_price", "predicted_price", "day_volume", "participation", "sigma", "impact_x",
                   "excluded"]
# tca_fills.csv, in this order (docs/outputs.md).
FILL_COLUMNS = ["date", "symbol", "side", "qty", "price", "notional", "decision_price", "arrival_price", "vwap",
                "deal_price", "predicted_price", "day_volume", "participation", "participation_bucket", "sigma",
                "impact_x", "is_decision_bp", "is_arrival_bp", "is_vwap_bp", "slippage_bp", "predicted_slippage_bp",
                "vs_predicted_bp", "fees_bp", "slippage_ticks", "impact_ticks", "used_for_k", "excluded"]


def price_fills(fills: Fills, market, broker) -> pd.DataFrame:
    """tca_fills.csv: every fill with the prices it is measured against, its shortfalls and whether the k
    estimate uses it (and if not, why)."""
    core = ExecutionCore(market, broker)          # the deal price and slippage models, built as a run builds them
    impact = core.slippage if isinstance(core.slippage, SqrtImpact) else build_chosen(
        SLIPPAGE, SqrtImpact.name, broker, Env(market, market.rules, broker.crowd, core.deal))
    crowd = max(int(broker.crowd), 1)
    tick = market.rules.tick
    trading = {d: i for i, d in enumerate(market.dates.astype("datetime64[D]").astype(object))}
    cuts = fills.cash_cuts or set()
    # A broker reports an order in pieces; each piece's price carries the whole order's impact.
    order_qty = fills.table.groupby(["date", "symbol", "side"])["qty"].transform("sum").to_numpy()
    rows = []
    for f, whole in zip(fills.table.itertuples(index=False), order_qty):
        t, sid = trading.get(f.date), market.symbol_index.get(f.symbol)
        row = {"date": f.date, "symbol": f.symbol, "side": f.side, "qty": f.qty, "price": f.price,
               "notional": f.qty * f.price, "fees": f.commission + f.stamp_duty + f.transfer_fee}
        if t is None or sid is None:
            rows.append({**row, "excluded": "not_in_market"})
            continue
        ctx = context_from_market(market, t, sid, f.side, f.qty)
        row["decision_price"] = _decision_price(market, t, sid, tick)
        if not ctx.traded:
            rows.append({**row, "excluded": "no_bar"})
            continue
        deal = core.deal.price(ctx)
        sigma = impact.sigma(t, sid)
        participation = f.qty / ctx.volume
        high = ctx.high if math.isnan(ctx.high_limit) else min(ctx.high, ctx.high_limit)
        low = ctx.low if math.isnan(ctx.low_limit) else max(ctx.low, ctx.low_limit)
        at_bound = f.price >= high - PRICE_TOL if ctx.is_buy else f.price <= low + PRICE_TOL
        excluded = ("cut_for_cash" if ctx.is_buy and (f.date, f.symbol, f.side, f.qty) in cuts else
                    "at_bound" if at_bound else "zero_sigma" if not sigma > 0 else "")
        row.update(arrival_price=ctx.open, vwap=math.nan if math.isnan(ctx.amount) else ctx.amount / ctx.volume,
                   deal_price=deal, predicted_price=core.slippage.price(ctx, deal, int(whole)), day_volume=ctx.volume,
                   participation=participation, sigma=sigma,
                   impact_x=sigma * math.sqrt(crowd * whole / ctx.volume), excluded=excluded)
        rows.append(row)
    table = pd.DataFrame(rows, columns=FILL_COLUMNS_IN)
    return _shortfalls(table, tick)


def _decision_price(market, t: int, sid: int, tick: float) -> float:
    """The close before day t on day t's price basis: the bar's pre_close (the ex-right reference on an
    ex-date, the base of the day's limits), else the value of a held share at the close before."""
    pre = float(market.panels["pre_close"][t, sid])
    if pre == pre:
        return float(round_to_tick(pre, tick))
    if t == 0:
        return math.nan
    before = float(market.value_close[t - 1, sid])
    return float(round_to_tick(before, tick)) if before == before else math.nan


def _shortfalls(table: pd.DataFrame, tick: float) -> pd.DataFrame:
    sign = np.where(table["side"] == Side.BUY, 1.0, -1.0)
    price = table["price"].to_numpy(dtype=float)
    for name, ref in SHORTFALLS.items():
        r = table[ref].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            table[name] = (price / r - 1.0) * sign * BP
    deal = table["deal_price"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["predicted_slippage_bp"] = (table["predicted_price"].to_numpy(dtype=float) / deal - 1.0) * sign * BP
        table["fees_bp"] = table["fees"] / table["notional"] * BP
        # In ticks the rounding is the same half tick for every fill: the units the k estimate works in.
        table["slippage_ticks"] = (price - deal) * sign / tick
        table["impact_ticks"] = deal * table["impact_x"].to_numpy(dtype=float) / tick
    table["participation_bucket"] = bucket_of(table["participation"])
    table["used_for_k"] = table["excluded"] == ""
    return table[FILL_COLUMNS]


def bucket_of(participation: pd.Series) -> pd.Series:
    """The participation bucket's label of each value (empty when unknown)."""
    p = participation.to_numpy(dtype=float)
    out = np.full(len(p), "", dtype=object)
    for label, lo, hi in PARTICIPATION_BUCKETS:
        out[(p >= lo) & (p < hi)] = label
    return pd.Series(out, index=participation.index)


# ----- aggregates --------------------------------------------------------------------------------------
AGG_BP = ["is_decision_bp", "is_arrival_bp", "is_vwap_bp", "slippage_bp", "predicted_slippage_bp", "vs_predicted_bp",
          "fees_bp"]
AGG_COLUMNS = ["fills", "qty", "notional", "participation", *AGG_BP, "slippage_cny", "shortfall_cny", "fees_cny"]


def aggregate(fills: pd.DataFrame, by: str, order: Optional[list] = None) -> pd.DataFrame:
    """Per value of `by`: fills, qty, notional, and the notional-weighted mean of participation and of each
    shortfall (over the fills where it is known), the CNY slippage against the deal price, the CNY shortfall
    against the decision price and the fees. `order`: the groups to list, in this order (empty ones too)."""
    f = fills.copy()
    sign = np.where(f["side"] == Side.BUY, 1.0, -1.0)
    f["slippage_cny"] = (f["price"] - f["deal_price"]) * f["qty"] * sign
    f["shortfall_cny"] = (f["price"] - f["decision_price"]) * f["qty"] * sign
    f["fees_cny"] = f["fees_bp"] * f["notional"] / BP
    rows = []
    groups = dict(list(f.groupby(by, sort=True))) if len(f) else {}
    for key in (order if order is not None else list(groups)):
        g = groups.get(key)
        row = {by: key, **{c: 0 if c in ("fills", "qty") else math.nan for c in AGG_COLUMNS}}
        if g is not None and len(g):
            row.update(fills=len(g), qty=int(g["qty"].sum()), notional=float(g["notional"].sum()))
            for c in ("participation", *AGG_BP):
                row[c] = _weighted(g[c], g["notional"])
            for c in ("slippage_cny", "shortfall_cny", "fees_cny"):
                row[c] = float(g[c].sum(min_count=1))
        rows.append(row)
    return pd.DataFrame(rows, columns=[by, *AGG_COLUMNS])


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    v, w = values.to_numpy(dtype=float), weights.to_numpy(dtype=float)
    ok = np.isfinite(v) & np.isfinite(w)
    return float(np.sum(v[ok] * w[ok]) / np.sum(w[ok])) if ok.any() and np.sum(w[ok]) > 0 else math.nan


# ----- the k estimate -------------------------------------------------------------------------------------
def estimate_k(fills: pd.DataFrame, configured_k: float, configured_model: str = SqrtImpact.name,
               exact: bool = True) -> KEstimate:
    """k of the square-root law from tca_fills.csv's rows (`used_for_k`, `slippage_ticks`, `impact_ticks`,
    `sigma`, `impact_x`, `date`); docs/tca.md.

    In ticks, fill i's slippage Y is the model's move k X (X = deal x sigma x sqrt(crowd x participation) / tick)
    plus noise of its own, rounded to the tick: Y = round(k X + e), e ~ N(0, (tau D)^2), D = deal x sigma / tick
    the stock's daily move in ticks. k and tau are fitted by maximum likelihood, each price read as the tick it
    was rounded to (an interval, not a point). When the noise dwarfs the tick this is weighted least squares
    through the origin of the relative slippage on sigma x sqrt(crowd x participation), weights 1 / sigma^2;
    for the model's own fills (tau = 0) every fill's interval of k, [(Y - 1/2) / X, (Y + 1/2) / X], holds the
    true k, the likelihood is flat on their common part (`consistent`), and the estimate is its middle. The
    interval is k +/- 1.96 standard errors, robust and clustered by trading day (a day's fills share its
    market), widened to `consistent`."""
    use = fills[fills["used_for_k"]]
    x = use["impact_ticks"].to_numpy(dtype=float)
    y = use["slippage_ticks"].to_numpy(dtype=float)
    days = pd.factorize(use["date"])[0] if len(use) else np.zeros(0, dtype=int)
    excluded = {r: int((fills["excluded"] == r).sum()) for r in EXCLUSIONS}
    excluded = {r: n for r, n in excluded.items() if n}
    n_days = int(days.max()) + 1 if len(days) else 0
    if not len(x):
        return KEstimate(None, None, None, None, 0, 0, excluded, float(configured_k), configured_model, None, None,
                         None)
    # The stock's daily move in ticks, deal x sigma / tick: X without its sqrt(crowd x participation).
    move = x * use["sigma"].to_numpy(dtype=float) / use["impact_x"].to_numpy(dtype=float)
    lo, hi = (y - 0.5) / x, (y + 0.5) / x
    top_lo, bottom_hi = float(lo.max()), float(hi.min())
    ci_low = ci_high = None
    consistent: Optional[tuple[float, float]] = (top_lo, bottom_hi) if top_lo <= bottom_hi else None
    if consistent is not None and exact:         # the model's own fills: every k in here fits every fill
        k, tau = (top_lo + bottom_hi) / 2, 0.0
        ci_low, ci_high = consistent
    else:
        # A broker's fills that happen to agree to the tick still carry noise: the likelihood's interval,
        # widened to the common range.
        k, tau = _max_likelihood(x, y, move)
        s = tau * move
        se = _clustered_se(x, y, s, k, days, n_days)
        if se is not None:
            z = _normal_quantile(0.5 + CONFIDENCE / 2)
            ci_low, ci_high = k - z * se, k + z * se
        if consistent is not None:
            ci_low = consistent[0] if ci_low is None else min(ci_low, consistent[0])
            ci_high = consistent[1] if ci_high is None else max(ci_high, consistent[1])
    # The regression the likelihood becomes when the noise dwarfs the tick, on these prices taken as exact.
    weight = 1.0 / (move * move)
    plain = float(np.sum(weight * x * y) / np.sum(weight * x * x))
    fitted = float(np.mean(np.abs(y - k * x) <= 0.5 + PRICE_TOL))
    return KEstimate(k, ci_low, ci_high, consistent, int(len(x)), n_days, excluded, float(configured_k),
                     configured_model, plain, fitted, tau)


# The noise scale is searched over tau in [TAU_MIN, TAU_MAX] daily sigmas (log scale) to this relative precision.
TAU_MIN, TAU_MAX, TAU_RTOL = 1e-6, 10.0, 1e-4
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _max_likelihood(x: np.ndarray, y: np.ndarray, move: np.ndarray) -> tuple[float, float]:
    """(k, tau) maximising the likelihood of the rounded slippages: tau by golden section on log tau, k for each
    tau where the score (decreasing in k: the log likelihood is concave in k) crosses zero."""
    k0 = float(np.sum(x * y) / np.sum(x * x))
    best: dict[float, tuple[float, float]] = {}

    def profile(u: float) -> float:
        tau = math.exp(u)
        k = _root_of_score(x, y, tau * move, k0)
        loglik = float(np.sum(_log_interval((y - 0.5 - k * x) / (tau * move), (y + 0.5 - k * x) / (tau * move))))
        best[u] = (k, loglik)
        return loglik

    a, b = math.log(TAU_MIN), math.log(TAU_MAX)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = profile(c), profile(d)
    while b - a > TAU_RTOL:
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = profile(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = profile(d)
    u = max(best, key=lambda v: best[v][1])
    return best[u][0], math.exp(u)


def _score(x: np.ndarray, y: np.ndarray, s: np.ndarray, k: float) -> np.ndarray:
    """d log P(fill) / dk of each fill: (X / s) (phi(a) - phi(b)) / P, P = Phi(b) - Phi(a)."""
    a, b = (y - 0.5 - k * x) / s, (y + 0.5 - k * x) / s
    log_p = _log_interval(a, b)
    return x / s * (np.exp(-0.5 * a * a - _LOG_SQRT_2PI - log_p) - np.exp(-0.5 * b * b - _LOG_SQRT_2PI - log_p))


def _root_of_score(x: np.ndarray, y: np.ndarray, s: np.ndarray, k0: float) -> float:
    """The k where the summed score is 0, by bisection (the score falls as k rises)."""
    step = max(abs(k0), 0.1)
    lo, hi = k0 - step, k0 + step
    while np.sum(_score(x, y, s, lo)) < 0:
        lo -= 2 * (hi - lo)
    while np.sum(_score(x, y, s, hi)) > 0:
        hi += 2 * (hi - lo)
    for _ in range(200):
        mid = (lo + hi) / 2
        if hi - lo <= 1e-10 * max(1.0, abs(mid)):
            break
        if np.sum(_score(x, y, s, mid)) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _clustered_se(x: np.ndarray, y: np.ndarray, s: np.ndarray, k: float, days: np.ndarray,
                  n_days: int) -> Optional[float]:
    """Standard error of k: the sandwich (sum over days of the day's score squared) / information^2, the
    information from the score's slope at k. None with fewer than two days."""
    if n_days < 2:
        return None
    h = 1e-6 * max(1.0, abs(k))
    info = -(np.sum(_score(x, y, s, k + h)) - np.sum(_score(x, y, s, k - h))) / (2 * h)
    by_day = np.bincount(days, weights=_score(x, y, s, k), minlength=n_days)
    if not info > 0:
        return None
    # n / (n - 1): the small-sample factor of a clustered variance
    return float(math.sqrt(np.sum(by_day ** 2) * n_days / (n_days - 1)) / info)


def _log_erfc(v: np.ndarray) -> np.ndarray:
    """log erfc(v) for v >= 0, without underflow (Numerical Recipes' erfcc, fractional error < 1.2e-7)."""
    t = 1.0 / (1.0 + 0.5 * v)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (
        0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    return np.log(t) - v * v + poly


def _log_upper(z: np.ndarray) -> np.ndarray:
    """log P(N > z) of a standard normal, z >= 0."""
    return math.log(0.5) + _log_erfc(z / math.sqrt(2.0))


def _log_interval(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log P(a < N < b) of a standard normal (a < b), accurate far in either tail."""
    out = np.empty_like(a)
    up, down = a >= 0, b <= 0
    mid = ~(up | down)
    for mask, near, far in ((up, a, b), (down, -b, -a)):
        if mask.any():
            la, lb = _log_upper(near[mask]), _log_upper(far[mask])
            out[mask] = la + np.log(-np.expm1(np.minimum(lb - la, 0.0)))
    if mid.any():
        out[mid] = np.log1p(-(np.exp(_log_upper(-a[mid])) + np.exp(_log_upper(b[mid]))))
    return out


def _normal_quantile(p: float) -> float:
    """The standard normal quantile, by bisection on the CDF (p in (0, 1))."""
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(-mid / math.sqrt(2.0)) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# ----- all of it ---------------------------------------------------------------------------------------------
def analyse(fills: Fills, market, cfg) -> TcaResult:
    """The transaction-cost analysis of `fills` on `market` under `cfg`'s execution model (reads cfg.broker)."""
    broker = cfg.broker
    table = price_fills(fills, market, broker)
    outside = int((table["excluded"] == "not_in_market").sum())
    if outside == len(table):
        raise UserError(f"{fills.label or fills.source}: none of its {len(table)} fill(s) is on a trading day and "
                        f"symbol of the market {market.source}; give the config of the market they traded (-c CONFIG)")
    k = estimate_k(table, broker.slippage.impact, broker.slippage.model, exact=fills.exact)
    notes = list(fills.notes)
    if outside:
        notes.append(f"{outside} fill(s) not in the market (a day or symbol it does not have): left out of every "
                     "figure but the counts")
    if broker.slippage.model != SqrtImpact.name:
        notes.append(f"the configured slippage model is {broker.slippage.model}: the predicted prices are its own; k "
                     f"is compared with broker.slippage.impact ({broker.slippage.impact:g}), which it does not use")
    known = table[table["excluded"] != "not_in_market"]
    order = [label for label, _, _ in PARTICIPATION_BUCKETS]
    result = TcaResult(
        fills=table, by_day=aggregate(known, "date"),
        by_name=aggregate(known, "symbol").sort_values("notional", ascending=False, kind="stable")
        .reset_index(drop=True),
        by_participation=aggregate(known[known["participation_bucket"] != ""], "participation_bucket", order),
        by_side=aggregate(known, "side", [s for s in (Side.BUY, Side.SELL) if (known["side"] == s).any()]),
        k=k, summary={}, source=fills.source, notes=notes)
    result.summary = summary_of(result, market, broker)
    logger.info(f"TCA of {len(table):,} fill(s) from {fills.source}: k {k_text(k)}, configured {k.configured_k:g}")
    return result


def summary_of(result: TcaResult, market, broker) -> dict[str, Any]:
    """The headline figures: counts, dates, what was assumed, and the AGG_COLUMNS over every fill in the market."""
    f = result.fills[result.fills["excluded"] != "not_in_market"]
    total = aggregate(f.assign(all="all"), "all").iloc[0].drop("all").to_dict() if len(f) else {}
    return {**total, "fills": int(len(result.fills)), "fills_in_market": int(len(f)), "days": int(f["date"].nunique()),
            "first_date": min(f["date"]) if len(f) else None, "last_date": max(f["date"]) if len(f) else None,
            "market": str(market.source), "deal_price": broker.deal_price, "slippage_model": broker.slippage.model,
            "crowd": int(broker.crowd), "tick": float(market.rules.tick)}


def k_text(k: KEstimate, digits: int = 3) -> str:
    """'0.300 (95% CI 0.299..0.301, n 1,234 fills on 56 days)': the estimate as the terminal and the page say it."""
    if k.k is None:
        return "not estimated (no fill it can use)"
    ci = (f"{k.confidence:.0%} CI {k.ci_low:.{digits}f}..{k.ci_high:.{digits}f}, " if k.ci_low is not None else
          "no interval (fills on one day), ")
    return f"{k.k:.{digits}f} ({ci}n {k.n:,} fills on {k.days:,} day{'s' if k.days != 1 else ''})"
