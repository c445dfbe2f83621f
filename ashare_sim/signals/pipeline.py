"""The seed strategy's research pipeline: schedule -> universe -> factors -> standardize
-> trailing-IC weights -> composite -> top-N targets, plus the factor analytics.

    result = build_targets(market, cfg)        # SignalResult
    result.targets.to_csv(...)                 # or write_targets(result.targets, path)

Each step is a small function in its own module (see their docstrings for what they
require and set); this module only walks the signal dates forward once, in order, so
that every step sees data up to the signal close only:

  calendar.schedule          rebalance day r_k = first trading day of each month in
                             [backtest.start, backtest.end]; signal day s_k = r_k - 1
  universe.universe_mask     the small-cap pool at s_k
  FactorInputs.raw           the raw factors at s_k (signals.factors), oriented so higher is better
  transform.standardize      winsorize + z-score inside the pool
  transform.neutralize       (strategy.neutralize: industry) less the industry mean
  ic.trailing_weights        weights from ICs known before s_k
  composite.composite        weighted z-sum; composite.pick_top: top_n, equal weight
  analytics                  RankIC of each factor and of the composite at s_k against
                             the open(r_k) -> open(r_{k+1}) total return, quintiles,
                             top-N vs pool forward returns

A factor whose input table is absent is dropped with one warning; the composite uses
the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.signals import ic as icmod
from ashare_sim.signals import price_factors as pf
from ashare_sim.signals import value
from ashare_sim.signals.calendar import month_ends, schedule
from ashare_sim.signals.composite import composite, pick_top, quintile_means
from ashare_sim.signals.factors import FACTORS, factor_inputs
from ashare_sim.signals.fundamentals import PointInTime, fill_ann_dates
from ashare_sim.signals.returns import TotalReturnPrice, total_return_price
from ashare_sim.signals.targets import TARGET_COLUMNS
from ashare_sim.signals.transform import industry_codes, neutralize, standardize
from ashare_sim.signals.universe import universe_mask


@dataclass
class SignalResult:
    targets: pd.DataFrame            # rebalance_date, symbol, rank, score, weight
    universe_size: pd.Series         # index signal date
    factor_ic: pd.DataFrame          # index signal date; factors + "composite"
    factor_weights: pd.DataFrame     # index signal date; factors
    ic_summary: pd.DataFrame         # index factors + "composite"; mean, std, ic_ir, win_rate, n
    quintile_returns: pd.DataFrame   # index signal date; Q1..Q5 (Q5 = best composite)
    dropped_factors: list[str]
    factors_used: list[str] = field(default_factory=list)
    portfolio_returns: pd.DataFrame = field(default_factory=pd.DataFrame)  # top, pool, excess per signal date
    next_targets: pd.DataFrame | None = None   # the list for the rebalance after the window (next_signal)
    scores_at: dict = field(default_factory=dict)  # signal index -> the pool's composite there (score_days)


# ----- inputs ----------------------------------------------------------------
def missing_inputs(market) -> set[str]:
    missing = set()
    if market.fundamentals is None or len(market.fundamentals) == 0:
        missing.add("fundamentals")
    if market.dividends is None:
        missing.add("dividends")
    shares = market.panels.get("total_shares")
    if shares is None or not np.isfinite(shares).any():
        missing.add("total_shares")
    return missing


def available_factors(market, names: list[str]) -> tuple[list[str], list[str]]:
    """(usable, dropped) factor names; one warning per dropped factor."""
    missing = missing_inputs(market)
    use, dropped = [], []
    for name in names:
        lack = [i for i in factor_inputs(name) if i in missing]
        if lack:
            dropped.append(name)
            logger.warning(f"factor '{name}' dropped: the market data has no {' or '.join(lack)} "
                           f"({market.source}); the composite uses the other factors")
        else:
            use.append(name)
    return use, dropped


class FactorInputs:
    """Raw factor values at signal days walked forward in order (point in time)."""

    def __init__(self, market, cfg, signals: np.ndarray, use: list[str], trp: TotalReturnPrice):
        self.market, self.cfg, self.use, self.trp = market, cfg, use, trp
        self.fcfg = cfg.strategy.factors
        self.factors = {name: FACTORS.get(name)() for name in use}
        has_fund = market.fundamentals is not None and len(market.fundamentals) > 0
        need_fund = any("fundamentals" in factor_inputs(n) for n in use)
        self.fundamentals = fill_ann_dates(market.fundamentals, market.rules) if has_fund and need_fund else None
        self.pit = PointInTime(self.fundamentals, market.n_symbols) if self.fundamentals is not None else None
        self.divs = value.DividendBook(market, trp.last) if "dividend_yield" in use else None
        self.ff = self._ff_factors(signals) if "residual_vol" in use and len(signals) else None

    def _ff_factors(self, signals: np.ndarray) -> np.ndarray:
        """Fama-French factor returns covering every signal day (`signals`, ascending)."""
        m = self.market
        first, last = int(signals[0]), int(signals[-1])
        ends = month_ends(m.dates)
        lookback = 2 * int(self.fcfg.residual_vol_days) + 30
        forms = ends[(ends >= first - lookback) & (ends < last)]
        if len(forms) == 0 or forms[0] > first - int(self.fcfg.residual_vol_days):
            forms = np.r_[max(first - lookback, 0), forms]
        bp_at = None
        if self.fundamentals is not None and "total_shares" not in missing_inputs(m):
            pit = PointInTime(self.fundamentals, m.n_symbols)

            def bp_at(f: int) -> np.ndarray:
                pit.advance(m.dates[f])
                return value.book_to_price(pit.latest_equity(), m.market_cap[f])
        return pf.ff_factor_returns(m, forms, last, bp_at)

    def raw(self, t: int, mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Oriented raw factors at signal day t; costly ones only where `mask` (the universe)."""
        m, out = self.market, {}
        cols = np.flatnonzero(mask) if mask is not None else None
        snap = None
        if self.pit is not None:
            self.pit.advance(m.dates[t])
            snap = self.pit.snapshot()
        for name in self.use:
            out[name] = self.factors[name].compute(self, t, snap, cols)
        return out


# ----- the walk --------------------------------------------------------------
def build_targets(market, cfg, next_signal: int | None = None, window: tuple | None = None,
                  score_days=()) -> SignalResult:
    """Monthly top-N targets and factor analytics over [backtest.start, backtest.end].

    `next_signal` (a calendar index after the last signal day) also scores the list for the next
    rebalance after the window, on that day's close: `SignalResult.next_targets` (the backtest's
    targets_next.csv; `paper plan` when the data ends before the rebalance day). `window` (start, end)
    replaces backtest.start / end (a paper plan scores up to its signal close). `score_days` (calendar
    indices, any days) also gives the pool's composite at each of them, with the factor weights known
    there: `SignalResult.scores_at` (a user strategy's `view.scores()`)."""
    fcfg, ucfg = cfg.strategy.factors, cfg.strategy.universe
    top_n = int(cfg.strategy.top_n)
    start, end = window if window is not None else (cfg.backtest.start, cfg.backtest.end)
    sch = schedule(market.dates, start, end)
    names = list(dict.fromkeys(n for n in fcfg.use if n in FACTORS))   # config order, no repeats
    use, dropped = available_factors(market, names)
    if not use:
        raise UserError(f"strategy.factors.use: none of {names or '[]'} can be computed from {market.source} "
                        f"(dropped: {', '.join(dropped) or 'none given'}); add amihud, residual_vol or size, "
                        "which need only bars, or give a targets_file")
    if "total_shares" in missing_inputs(market):
        logger.warning(f"{market.source}: no total_shares, so no market caps: the universe keeps every "
                       "eligible stock (no small-cap cut)")
    trp = total_return_price(market)
    extra = next_signal is not None and (not len(sch) or int(next_signal) > int(sch.signal[-1]))
    signals = np.r_[sch.signal, [int(next_signal)]] if extra else np.asarray(sch.signal)
    inputs = FactorInputs(market, cfg, signals, use, trp)
    industries = industry_codes(market) if cfg.strategy.neutralize == "industry" else None

    K, F = len(sch), len(use)
    ic = np.full((K, F + 1), np.nan)
    wts = np.full((K, F), np.nan)
    quint = np.full((K, 5), np.nan)
    port = np.full((K, 2), np.nan)
    usize = np.zeros(K, dtype=np.int64)
    known_at = sch.next_rebalance
    blocks = []
    for k in range(K):
        t, r = int(sch.signal[k]), int(sch.rebalance[k])
        mask = universe_mask(market, t, ucfg)
        usize[k] = int(mask.sum())
        raw = inputs.raw(t, mask)
        z = {n: standardize(raw[n], mask, float(fcfg.winsorize)) for n in use}
        if industries is not None:
            z = {n: neutralize(v, mask, industries) for n, v in z.items()}
        present = [n for n in use if np.isfinite(z[n]).any()]
        w = icmod.trailing_weights_array(ic[:k, :F], use, known_at[:k], t, present, fcfg)
        wts[k] = [float(w.get(n, 0.0)) for n in use]
        score = composite(z, w.to_dict(), mask)
        chosen, ranks, weights = pick_top(score, top_n)
        if len(chosen):
            blocks.append(pd.DataFrame({
                "rebalance_date": pd.Timestamp(market.dates[r]), "symbol": market.symbols[chosen].astype(str),
                "rank": ranks, "score": score[chosen], "weight": weights}))
        # analytics (forward data; never fed back before it is known)
        fwd = trp.forward_return(r, int(sch.next_rebalance[k]))
        for j, n in enumerate(use):
            ic[k, j] = icmod.rank_ic(z[n], fwd, mask)
        ic[k, F] = icmod.rank_ic(score, fwd, mask)
        quint[k] = quintile_means(score, fwd, mask)
        top_fwd = fwd[chosen]
        pool_fwd = fwd[mask]
        port[k] = [np.nanmean(top_fwd) if np.isfinite(top_fwd).any() else np.nan,
                   np.nanmean(pool_fwd) if np.isfinite(pool_fwd).any() else np.nan]

    def score_on(source: FactorInputs, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(composite, pool mask) at signal day t, with the weights of the ICs known before t."""
        mask = universe_mask(market, t, ucfg)
        raw = source.raw(t, mask)
        z = {n: standardize(raw[n], mask, float(fcfg.winsorize)) for n in use}
        if industries is not None:
            z = {n: neutralize(v, mask, industries) for n, v in z.items()}
        present = [n for n in use if np.isfinite(z[n]).any()]
        w = icmod.trailing_weights_array(ic[:, :F], use, known_at, t, present, fcfg)
        return composite(z, w.to_dict(), mask), mask

    scores_at = {}
    if len(score_days):
        days = sorted({int(d) for d in score_days})
        # Its own point-in-time walk: the main one has moved past these days.
        walk = FactorInputs(market, cfg, np.asarray(days), use, trp)
        for t in days:
            score, mask = score_on(walk, t)
            cols = np.flatnonzero(mask)
            scores_at[t] = pd.Series(score[cols], index=market.symbols[cols].astype(str), name="score")

    next_targets = None
    if extra:
        t = int(next_signal)
        score, _ = score_on(inputs, t)
        chosen, ranks, weights = pick_top(score, top_n)
        next_targets = pd.DataFrame({"rebalance_date": pd.Timestamp(next_rebalance_date(market, t)),
                                     "symbol": market.symbols[chosen].astype(str), "rank": np.asarray(ranks, np.int64),
                                     "score": score[chosen], "weight": weights})[TARGET_COLUMNS]

    idx = pd.DatetimeIndex(sch.signal_dates, name="signal_date")
    targets = (pd.concat(blocks, ignore_index=True) if blocks else
               pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(TARGET_COLUMNS, ["datetime64[ns]", object, np.int64, float, float])}))
    targets["rank"] = targets["rank"].astype(np.int64)
    factor_ic = pd.DataFrame(ic, index=idx, columns=use + ["composite"])
    portfolio = pd.DataFrame(port, index=idx, columns=["top", "pool"])
    portfolio["excess"] = portfolio["top"] - portfolio["pool"]
    return SignalResult(
        targets=targets[TARGET_COLUMNS],
        universe_size=pd.Series(usize, index=idx, name="universe_size"),
        factor_ic=factor_ic,
        factor_weights=pd.DataFrame(wts, index=idx, columns=use),
        ic_summary=icmod.summarize(factor_ic),
        quintile_returns=pd.DataFrame(quint, index=idx, columns=[f"Q{i}" for i in range(1, 6)]),
        dropped_factors=dropped,
        factors_used=use,
        portfolio_returns=portfolio,
        next_targets=next_targets,
        scores_at=scores_at,
    )


def next_rebalance_date(market, t: int):
    """The first trading day of the month after the one holding calendar index t: from the market's
    calendar when it reaches that far, else from the exchange's (XSHG) calendar."""
    month = market.dates[t].astype("datetime64[M]")
    later = market.dates[t + 1:]
    inside = later[later.astype("datetime64[M]") > month]
    if len(inside):
        return inside[0].astype("datetime64[D]").astype(object)
    import exchange_calendars as xcals

    first = (month + 1).astype("datetime64[D]")
    sessions = xcals.get_calendar("XSHG").sessions_in_range(str(first), str((month + 2).astype("datetime64[D]")))
    return sessions[0].date() if len(sessions) else first.astype(object)


def write_targets(targets: pd.DataFrame, path: str | Path) -> Path:
    """targets.csv (docs/outputs.md): rebalance_date as YYYY-MM-DD, then symbol, rank, score, weight."""
    path = Path(path)
    out = targets[TARGET_COLUMNS].copy()
    out["rebalance_date"] = pd.to_datetime(out["rebalance_date"]).dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False)
    return path


def write_analytics(result: SignalResult, directory: str | Path) -> list[Path]:
    """Factor analytics as CSV files beside the run's outputs (dates as YYYY-MM-DD):
    factor_ic.csv, factor_weights.csv, quintile_returns.csv, universe_size.csv,
    portfolio_returns.csv (index signal_date) and ic_summary.csv (index factor)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("factor_ic", "factor_weights", "quintile_returns", "universe_size", "portfolio_returns"):
        frame = getattr(result, name)
        frame = frame.to_frame() if isinstance(frame, pd.Series) else frame.copy()
        frame.index = pd.DatetimeIndex(frame.index).strftime("%Y-%m-%d")
        frame.index.name = "signal_date"
        path = directory / f"{name}.csv"
        frame.to_csv(path)
        written.append(path)
    path = directory / "ic_summary.csv"
    result.ic_summary.rename_axis("factor").to_csv(path)
    written.append(path)
    return written
