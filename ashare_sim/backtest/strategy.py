"""`Rebalancer`: a Backtrader strategy that trades target portfolios.

Input: targets (DataFrame rebalance_date, symbol, weight; the rebalance date is the trading day the
orders execute), symbol proxies (`backtest.proxy.ProxyBook`) and the switch `retry`. It only
orchestrates: sizing, sells-first and the retry book are `execution.planner.RebalancePlanner`'s
(the same object `paper plan` uses); prices, rules and costs are the broker's execution core.

At the close of each trading day t (its `next`):
1. If t is a rebalance date or the run's last day: ask the broker to snapshot holdings (after trading).
2. If t+1 is a rebalance date: the planner sizes that rebalance from t's close; else, with `retry`
   on, it re-sends what is left of the current plan.
3. Each request goes to the broker as a Backtrader market order carrying the rebalance it serves
   and its attempt number; each final order state goes back to the planner.
"""
from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.execution.orders import Side
from ashare_sim.execution.planner import SKIP_CAUSES, RebalancePlanner, ResizeRule

__all__ = ["Rebalancer", "SKIP_CAUSES"]
FINAL = {bt.Order.Completed, bt.Order.Expired, bt.Order.Rejected, bt.Order.Margin, bt.Order.Canceled}


class Rebalancer(bt.Strategy):
    params = (
        ("targets", None),        # DataFrame rebalance_date, symbol, weight
        ("book", None),           # backtest.proxy.ProxyBook
        ("retry", True),
        ("lot_size", True),
        ("resize", ResizeRule()),  # execution.planner.ResizeRule (strategy.resize)
        ("dropout", None),         # signals.scores.DropoutRule: the targets are scores, chosen with the book
        ("empty_days", ()),        # rebalance days with an empty list: the book goes to cash
        ("start", None),          # calendar index of the window's first day (default: the clock's first bar)
    )

    def __init__(self):
        self.book = self.p.book
        self.market = self.book.market
        self.clock = self.book.clock
        self.planner = RebalancePlanner(self.market, self.p.lot_size, self.p.resize)
        self.skipped = self.planner.skipped
        self.plans = self._plans(self.p.targets)
        first, last = self.clock.p.first_index, self.clock.p.first_index + self.clock.n_bars() - 1
        for day in self.p.empty_days:          # an empty list is a list: sell what is held
            t = self.market.index_of(day)
            if first < t <= last and (self.p.start is None or t >= int(self.p.start)):
                self.plans.setdefault(t, [])
        self.rebalance_days = set(self.plans)
        self.chosen: list[pd.DataFrame] = []         # TopkDropout: each day's list as chosen with the book
        self._live: dict[int, object] = {}           # order ref -> the planner's request
        self._last_bar = self.clock.p.first_index + self.clock.n_bars() - 1

    # ----- targets -> {execution calendar index: [(sid, weight)]} ------------
    def _plans(self, targets: pd.DataFrame | None) -> dict[int, list[tuple[int, float]]]:
        plans: dict[int, list[tuple[int, float]]] = {}
        if targets is None or not len(targets):
            return plans
        first = self.clock.p.first_index
        last = first + self.clock.n_bars() - 1
        start = first if self.p.start is None else max(int(self.p.start), first)
        days = np.asarray(pd.to_datetime(targets["rebalance_date"]).to_numpy().astype("datetime64[D]"))
        t_idx = np.searchsorted(self.market.dates, days)
        sids = targets["symbol"].map(self.market.symbol_index).to_numpy()
        # TopkDropout's rows are scores: the planner turns them into orders with the book in hand
        weights = targets["score" if self.p.dropout is not None else "weight"].to_numpy(dtype=float)
        shifted = 0
        for t, sid, w, day in zip(t_idx, sids, weights, days):
            t = int(t)
            if t > last or t < start:
                self.skipped.add("outside_window", f"{self.market.symbols[sid]} on {day}")
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

    # ----- Backtrader hooks ---------------------------------------------------
    def notify_order(self, order):
        if order.status not in FINAL:
            return
        req = self._live.pop(order.ref, None)
        if req is None:
            return
        completed = order.status == bt.Order.Completed
        self.planner.record(req, int(abs(order.executed.size)), completed, order.info.get("reason", ""),
                            self.clock.market_index())

    def next(self):
        t = self.clock.market_index()
        if t in self.rebalance_days or t == self._last_bar:
            self.broker.snapshot_holdings()
        if t + 1 in self.plans and self.p.dropout is not None:
            requests, chosen = self.planner.rebalance_dropout(t, self.plans[t + 1], self.broker.account,
                                                              self.broker.getvalue(), self.p.dropout)
            self.chosen.append(chosen.assign(rebalance_date=pd.Timestamp(self.market.dates[t + 1])))
        elif t + 1 in self.plans:
            requests = self.planner.rebalance(t, self.plans[t + 1], self.broker.account, self.broker.getvalue())
        elif self.p.retry and self.planner.remaining:
            requests = self.planner.retries(t, self.broker.account)
        else:
            return
        for req in requests:
            order = (self.buy if req.side == Side.BUY else self.sell)(
                data=self.book.by_sid(req.sid), size=req.qty, exectype=bt.Order.Market,
                rebalance=req.rebalance, attempt=req.attempt)
            self._live[order.ref] = req
