"""What a run does at each close: the target lists by the day they execute, and the planner's requests for
the next day. One object for both event loops of a backtest, so they cannot drift apart:

- Backtrader's (`backtest.strategy.Rebalancer`, the `backtest` command), and
- the execution core's own day loop (`execution.dayloop.run_days`, the scenarios of a stress grid).

    driver = ListDriver(market, targets, planner, first, last, start=i0, retry=True)
    driver.snapshot_due(t)                       # record holdings after t's trading?
    driver.requests(t, account, value)           # the orders for t + 1, from t's close
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.execution.account import Account
from ashare_sim.execution.orders import OrderRequest
from ashare_sim.execution.planner import RebalancePlanner


class ListDriver:
    """`targets` (rebalance_date, symbol, weight; the score with `dropout`) over calendar days [first, last];
    `start`: the window's first day (an eve bar before it only sizes a first-day rebalance); `empty_days`:
    rebalance days whose list is empty (the book goes to cash)."""

    def __init__(self, market, targets: pd.DataFrame | None, planner: RebalancePlanner, first: int, last: int,
                 start: int | None = None, retry: bool = True, dropout=None, empty_days=()):
        self.market, self.planner = market, planner
        self.first, self.last, self.start = first, last, start
        self.retry, self.dropout = retry, dropout
        self.plans = self._plans(targets)
        for day in empty_days:                  # an empty list is a list: sell what is held
            t = market.index_of(day)
            if first < t <= last and (start is None or t >= int(start)):
                self.plans.setdefault(t, [])
        self.rebalance_days = set(self.plans)
        self.chosen: list[pd.DataFrame] = []     # TopkDropout: each day's list as chosen with the book

    def _plans(self, targets: pd.DataFrame | None) -> dict[int, list[tuple[int, float]]]:
        """{execution calendar index: [(sid, weight)]}."""
        plans: dict[int, list[tuple[int, float]]] = {}
        if targets is None or not len(targets):
            return plans
        market, skipped = self.market, self.planner.skipped
        first, last = self.first, self.last
        start = first if self.start is None else max(int(self.start), first)
        days = np.asarray(pd.to_datetime(targets["rebalance_date"]).to_numpy().astype("datetime64[D]"))
        t_idx = np.searchsorted(market.dates, days)
        sids = targets["symbol"].map(market.symbol_index).to_numpy()
        # TopkDropout's rows are scores: the planner turns them into orders with the book in hand
        weights = targets["score" if self.dropout is not None else "weight"].to_numpy(dtype=float)
        shifted = 0
        for t, sid, w, day in zip(t_idx, sids, weights, days):
            t = int(t)
            if t > last or t < start:
                skipped.add("outside_window", f"{market.symbols[sid]} on {day}")
                continue
            if t == first:                     # no close before it inside the run: trade on the next day
                shifted += 1
                t = first + 1
                if t > last:
                    continue
            plans.setdefault(t, []).append((int(sid), float(w)))
        if shifted:
            logger.warning("targets: the first rebalance falls on the run's first day, which has no previous "
                           "close inside the run; it executes on the next trading day")
        return plans

    def snapshot_due(self, t: int) -> bool:
        """Holdings are recorded after the trading of rebalance days and of the run's last day."""
        return t in self.rebalance_days or t == self.last

    def requests(self, t: int, account: Account, value: Callable[[], float]) -> list[OrderRequest]:
        """The orders for day t + 1 from t's close: its rebalance, or the retries of what is left. `value`
        gives the account's value at t's close (asked only for a rebalance)."""
        nxt = self.plans.get(t + 1)
        if nxt is not None and self.dropout is not None:
            requests, chosen = self.planner.rebalance_dropout(t, nxt, account, value(), self.dropout)
            self.chosen.append(chosen.assign(rebalance_date=pd.Timestamp(self.market.dates[t + 1])))
            return requests
        if nxt is not None:
            return self.planner.rebalance(t, nxt, account, value())
        if self.retry and self.planner.remaining:
            return self.planner.retries(t, account)
        return []
