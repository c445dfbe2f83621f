"""What a user's strategy function sees on a rebalance day: the market as it stood at the signal close.

    def my_strategy(view):                   # strategy.function: my_strategy.py:my_strategy
        close = view.bars("close", days=21)  # the last 21 closes up to view.date, listed names
        momentum = close.iloc[-1] / close.iloc[0] - 1
        return momentum.nlargest(30).pipe(lambda s: s * 0 + 1 / 30)   # weights by symbol

Every method returns a new pandas object cut at `view.date` (the close before `view.rebalance_date`):
bars up to that close, fundamentals announced by then, ST status then, listing facts known then (a
delisting date only once it has passed), and the project's own pool, factors and composite scored
there. Nothing in it reaches past that close: arrays are copied out of the market, never handed over
as views of it, so even `.base` leads nowhere later. Step: signals for a user strategy (docs/strategies.md).
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

import numpy as np
import pandas as pd

from ashare_sim.common.errors import UserError
from ashare_sim.common.text import did_you_mean

# Bar fields a view gives (the market's panels), plus the two it derives.
BAR_FIELDS = ("open", "high", "low", "close", "pre_close", "volume", "amount", "adj_factor", "total_shares",
              "float_shares", "high_limit", "low_limit")
DERIVED_FIELDS = ("adj_close", "suspended")


class ViewContext:
    """What the views of one run share: the market and config, and what is costly to compute once (the
    fundamentals with filled announcement dates, the pipeline's composite on every scheduled day, a
    forward walk of the factor inputs). Views read it only at their own day."""

    def __init__(self, market, cfg, signal_days=()):
        self.market, self.cfg = market, cfg
        self.signal_days = sorted({int(t) for t in signal_days})
        self._fundamentals = None
        self._scores: Optional[dict] = None
        self._factor_walk = None
        self._walk_at = -1

    def fundamentals(self) -> Optional[pd.DataFrame]:
        m = self.market
        if self._fundamentals is None and m.fundamentals is not None and len(m.fundamentals):
            from ashare_sim.signals.fundamentals import fill_ann_dates
            self._fundamentals = fill_ann_dates(m.fundamentals, m.rules)
        return self._fundamentals

    def scores(self, t: int) -> pd.Series:
        if self._scores is None or t not in self._scores:
            from ashare_sim.signals.pipeline import build_targets
            # Every scheduled day at once: one walk of the monthly ICs, each day weighted by the ICs known
            # before it (the walk's window only has to reach the last day; nothing later is read).
            days = self.signal_days if t in self.signal_days else [t]
            result = build_targets(self.market, self.cfg, window=(self.cfg.backtest.start, self.market.date_at(max(days))),
                                   score_days=days)
            self._scores = {**(self._scores or {}), **result.scores_at}
        return self._scores[t].copy()

    def factors(self, t: int, mask: np.ndarray) -> dict[str, np.ndarray]:
        from ashare_sim.signals.pipeline import FactorInputs, available_factors
        from ashare_sim.signals.returns import total_return_price
        from ashare_sim.signals.factors import FACTORS
        if self._factor_walk is None or t < self._walk_at:       # the walk only goes forward
            names = list(dict.fromkeys(n for n in self.cfg.strategy.factors.use if n in FACTORS))
            use, _ = available_factors(self.market, names)
            days = [d for d in self.signal_days if d >= t] or [t]
            self._factor_walk = FactorInputs(self.market, self.cfg, np.asarray(days), use,
                                             total_return_price(self.market))
        self._walk_at = t
        return self._factor_walk.raw(t, mask)


class MarketView:
    """The market at the close of `date`, for the list traded on `rebalance_date`."""

    def __init__(self, context: ViewContext, t: int, rebalance_date: dt.date):
        self.__ctx = context
        self.__t = int(t)
        m = context.market
        self.date: dt.date = m.date_at(t)
        self.rebalance_date: dt.date = rebalance_date
        self.top_n: int = int(context.cfg.strategy.top_n)
        self.__listed = np.flatnonzero(m.is_listed[t])
        self.symbols: list[str] = [str(s) for s in m.symbols[self.__listed]]

    def __repr__(self) -> str:
        return (f"MarketView(date={self.date}, rebalance_date={self.rebalance_date}, "
                f"{len(self.symbols)} listed symbols)")

    # ----- bars -------------------------------------------------------------------------------------
    def bars(self, field: str = "close", days: Optional[int] = None) -> pd.DataFrame:
        """One bar field, trading days x listed symbols, the last `days` trading days up to `date` (all of
        them when None). Fields: open, high, low, close, pre_close, volume, amount, adj_factor,
        total_shares, float_shares, high_limit, low_limit; adj_close (close x adj_factor: ratios are
        total returns); suspended (listed, but no bar or no volume that day; False before listing, where
        prices are NaN). Missing bars are NaN."""
        m, t = self.__ctx.market, self.__t
        if field not in BAR_FIELDS + DERIVED_FIELDS:
            raise UserError(f"view.bars({field!r}): no such field{did_you_mean(field, BAR_FIELDS + DERIVED_FIELDS)}; "
                            f"fields: {', '.join(BAR_FIELDS + DERIVED_FIELDS)}")
        if days is not None and (isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1):
            raise UserError(f"view.bars(days={days!r}): give a whole number of trading days >= 1, or None for all")
        lo = 0 if days is None else max(0, t + 1 - int(days))
        cols = self.__listed
        if field == "adj_close":
            factor = m.panels.get("adj_factor")
            values = m.close[lo:t + 1][:, cols].astype(np.float64)
            if factor is not None:
                values = values * np.nan_to_num(factor[lo:t + 1][:, cols], nan=1.0)
        elif field == "suspended":
            values = m.is_suspended[lo:t + 1][:, cols].copy()
        elif field not in m.panels:
            raise UserError(f"view.bars({field!r}): the market ({m.source}) has no {field} column")
        else:
            values = np.array(m.panels[field][lo:t + 1][:, cols], dtype=np.float64)   # a copy, never a view
        index = pd.DatetimeIndex(m.dates[lo:t + 1].astype("datetime64[ns]"), name="date")
        return pd.DataFrame(values, index=index, columns=pd.Index(self.symbols, name="symbol"))

    @property
    def close(self) -> pd.Series:
        """The last close of each listed symbol (NaN when it has never traded)."""
        return pd.Series(np.array(self.__ctx.market.last_close[self.__t, self.__listed], dtype=np.float64),
                         index=pd.Index(self.symbols, name="symbol"), name="close")

    # ----- tables -----------------------------------------------------------------------------------
    def instruments(self) -> pd.DataFrame:
        """symbol, industry, board, exchange, list_date and delist_date (only when on or before `date`: a
        later delisting is not known yet), one row per listed symbol. No name: the data's names are the
        latest ones and carry a later ST or delisting mark (use `st()`); the industry is the data's
        classification, not a dated one."""
        m = self.__ctx.market
        cols = [c for c in ("symbol", "industry", "board", "exchange", "list_date", "delist_date")
                if c in m.instruments.columns]
        out = m.instruments.iloc[self.__listed][cols].reset_index(drop=True).copy()
        if "delist_date" in out:
            later = pd.to_datetime(out["delist_date"]) > pd.Timestamp(self.date)
            out.loc[later, "delist_date"] = pd.NaT
        return out

    def st(self) -> pd.Series:
        """True for the symbols in an ST or *ST spell at the close of `date`."""
        m = self.__ctx.market
        return pd.Series(np.array(m.is_st[self.__t, self.__listed], dtype=bool),
                         index=pd.Index(self.symbols, name="symbol"), name="st")

    def fundamentals(self) -> pd.DataFrame:
        """The fundamentals rows announced before `date` (a report published on `date` may come after its
        close, so it counts from the next day, as in the built-in factors; rows without an announcement
        date count from their statutory deadline), every column of the market's table."""
        f = self.__ctx.fundamentals()
        if f is None:
            return pd.DataFrame(columns=["symbol", "period_end", "ann_date"])
        out = f[pd.to_datetime(f["ann_date"]) < pd.Timestamp(self.date)]
        return out.drop(columns=[c for c in ("sid",) if c in out.columns]).reset_index(drop=True).copy()

    # ----- the project's signals --------------------------------------------------------------------
    def pool(self) -> list[str]:
        """The small-cap pool at `date` (strategy.universe: listed a year, not ST, the smallest third)."""
        return [str(s) for s in self.__pool_symbols(self.__pool_mask())]

    def factors(self) -> pd.DataFrame:
        """The pipeline's raw factors for the pool at `date` (strategy.factors.use), oriented so that
        higher is better: pool symbols x factors."""
        mask = self.__pool_mask()
        raw = self.__ctx.factors(self.__t, mask)
        cols = np.flatnonzero(mask)
        return pd.DataFrame({n: np.array(v[cols], dtype=np.float64) for n, v in raw.items()},
                            index=pd.Index(self.__pool_symbols(mask), name="symbol"))

    def scores(self) -> pd.Series:
        """The pipeline's composite for the pool at `date`, weighted by the factor ICs known then (the
        built-in strategy's score: its list is the `top_n` highest)."""
        return self.__ctx.scores(self.__t).rename_axis("symbol")

    def __pool_mask(self) -> np.ndarray:
        from ashare_sim.signals.universe import universe_mask
        return universe_mask(self.__ctx.market, self.__t, self.__ctx.cfg.strategy.universe)

    def __pool_symbols(self, mask: np.ndarray) -> np.ndarray:
        return self.__ctx.market.symbols[np.flatnonzero(mask)].astype(str)
