"""What the strategy's portfolio leans on: style z-scores and industry weights vs the pool.

Step: style_exposure
  requires: the targets of the scoring pipeline (signals.pipeline.build_targets: the book
            the backtest trades), the pool at each signal close, point-in-time inputs
            (signals.pipeline.FactorInputs, the factors the composite uses)
  sets:     per signal date, the portfolio's weighted mean z-score, inside the pool
            (winsorized and z-scored as signals.transform.standardize does), of
            - size: log total cap (positive = larger than the pool's average)
            - value: book-to-price; roe; growth: TTM net profit year on year (as scored)
            - momentum: total return from 250 to 20 trading days before the signal
            - volatility: std of daily total returns over 60 days
            - liquidity: log mean daily turnover (volume / float shares) over 20 days
            A name without the figure is left out and the weights renormalised; a style
            whose input the data lacks is left out. 0 = the pool's average; +1 = one
            cross-sectional standard deviation above it.

Step: industry_weights
  requires: the targets, the pool, instruments.industry
  sets:     per signal date and industry, the portfolio's weight, the pool's equal-weight
            share and their difference (active).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ashare_sim.research.book import books
from ashare_sim.signals import price_factors as pf
from ashare_sim.signals.calendar import schedule
from ashare_sim.signals.factors import factor_inputs
from ashare_sim.signals.pipeline import FactorInputs, missing_inputs
from ashare_sim.signals.returns import total_return_price
from ashare_sim.signals.transform import industries, standardize
from ashare_sim.signals.universe import universe_mask

STYLES = ("size", "value", "roe", "growth", "momentum", "volatility", "liquidity")
# style -> the pipeline factor it is read from, and the sign that turns its orientation into the style's
FROM_PIPELINE = {"size": ("size", -1.0), "value": ("book_to_price", 1.0), "roe": ("roe", 1.0),
                 "growth": ("profit_growth", 1.0)}
MOMENTUM_LOOKBACK, MOMENTUM_SKIP = 250, 20
VOLATILITY_DAYS, LIQUIDITY_DAYS = 60, 20


def _weights_by_signal(market, targets: pd.DataFrame) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """signal day index -> (symbol ids, weights) of the book bought on the next day."""
    return {r - 1: book for r, book in books(market, targets).items()}


def _available_styles(market) -> tuple[list[str], list[str]]:
    """(styles, pipeline factors they need) computable from this market's tables."""
    missing = missing_inputs(market)
    styles = [s for s in STYLES if s not in FROM_PIPELINE
              or not any(i in missing for i in factor_inputs(FROM_PIPELINE[s][0]))]
    if not np.isfinite(market.float_shares).any():
        styles.remove("liquidity")
    return styles, [FROM_PIPELINE[s][0] for s in styles if s in FROM_PIPELINE]


def style_exposure(market, cfg, targets: pd.DataFrame) -> pd.DataFrame:
    """date (signal), then one column per style."""
    styles, needed = _available_styles(market)
    sch = schedule(market.dates, cfg.backtest.start, cfg.backtest.end)
    trp = total_return_price(market)
    inputs = FactorInputs(market, cfg, sch, needed, trp)
    book = _weights_by_signal(market, targets)
    q = float(cfg.strategy.factors.winsorize)
    rows = []
    for t in sch.signal:
        t = int(t)
        if t not in book:
            continue
        sids, w = book[t]
        mask = universe_mask(market, t, cfg.strategy.universe)
        raw = inputs.raw(t, mask)
        values = {s: sign * raw[name] for s, (name, sign) in FROM_PIPELINE.items() if s in styles}
        if "momentum" in styles:
            values["momentum"] = pf.momentum(trp, t, MOMENTUM_LOOKBACK, MOMENTUM_SKIP)
        if "volatility" in styles:
            values["volatility"] = pf.volatility(market, t, VOLATILITY_DAYS)
        if "liquidity" in styles:
            values["liquidity"] = pf.turnover(market, t, LIQUIDITY_DAYS)
        row = {"date": pd.Timestamp(market.dates[t])}
        for s in styles:
            z = standardize(values[s], mask, q)[sids]
            ok = np.isfinite(z)
            row[s] = float((w[ok] * z[ok]).sum() / w[ok].sum()) if ok.any() and w[ok].sum() > 0 else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["date", *styles])


def industry_weights(market, cfg, targets: pd.DataFrame) -> pd.DataFrame:
    """date, industry, portfolio, pool, active (empty without instruments.industry)."""
    cols = ["date", "industry", "portfolio", "pool", "active"]
    found = industries(market)
    if found is None:
        return pd.DataFrame(columns=cols)
    names, codes = found
    blocks = []
    for t, (sids, w) in sorted(_weights_by_signal(market, targets).items()):
        pool = universe_mask(market, t, cfg.strategy.universe)
        port = np.bincount(codes[sids], weights=w, minlength=len(names))
        share = np.bincount(codes[pool], minlength=len(names)) / max(int(pool.sum()), 1)
        keep = (port > 0) | (share > 0)
        blocks.append(pd.DataFrame({"date": pd.Timestamp(market.dates[t]), "industry": names[keep],
                                    "portfolio": port[keep], "pool": share[keep],
                                    "active": port[keep] - share[keep]}))
    return pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=cols)
