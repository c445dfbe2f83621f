"""`Rebalancer`: a Backtrader strategy that trades target portfolios.

Input: targets (DataFrame rebalance_date, symbol, weight; the rebalance date is the trading day the
orders execute), symbol proxies (`backtest.proxy.ProxyBook`) and the switch `retry`. It only
orchestrates: which list trades when is `execution.driver.ListDriver`'s (the same object the core's own
day loop uses), sizing, sells-first and the retry book are `execution.planner.RebalancePlanner`'s (the
same object `paper plan` uses); prices, rules and costs are the broker's execution core.

At the close of each trading day t (its `next`):
1. If t is a rebalance date or the run's last day: ask the broker to snapshot holdings (after trading).
2. If t+1 is a rebalance date: the planner sizes that rebalance from t's close; else, with `retry`
   on, it re-sends what is left of the current plan.
3. Each request goes to the broker as a Backtrader market order carrying the rebalance it serves
   and its attempt number; each final order state goes back to the planner. When nothing else listens
   to orders or trades (no observer, no analyzer that hears them, no subclass), the requests go to the
   broker as they are and their outcomes straight back to the planner: the same fills and files.
"""
from __future__ import annotations

import itertools

import backtrader as bt

from ashare_sim.execution.driver import ListDriver
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
        ("progress", None),       # told of each day done (common.logs.Phase)
    )

    def __init__(self):
        self.book = self.p.book
        self.market = self.book.market
        self.clock = self.book.clock
        self.planner = RebalancePlanner(self.market, self.p.lot_size, self.p.resize)
        self.skipped = self.planner.skipped
        first = self.clock.p.first_index
        self.driver = ListDriver(self.market, self.p.targets, self.planner, first, first + self.clock.n_bars() - 1,
                                 start=self.p.start, retry=self.p.retry, dropout=self.p.dropout,
                                 empty_days=self.p.empty_days)
        self.chosen = self.driver.chosen             # TopkDropout: each day's list as chosen with the book
        self._live: dict[int, object] = {}           # order ref -> the planner's request
        self._trades_heard = True
        self._order_analyzers: list = []
        self._orders_heard = True

    def start(self):
        super().start()
        # Backtrader builds a bt.Trade from every fill and calls every analyzer's notify_order, about 30 us
        # an order over a run's 16,000: done only where something listens (our analyzers only watch the
        # value; a subclass, an added analyzer or an observer may listen to either, and then it is done).
        analyzers = list(itertools.chain(self.analyzers, self._slave_analyzers))
        self._trades_heard = (_overrides(self, "notify_trade", bt.Strategy) or bool(self.observers)
                              or any(a._children or _overrides(a, "notify_trade", bt.Analyzer) for a in analyzers))
        self._order_analyzers = [a for a in analyzers if a._children or (
            _overrides(a, "notify_order", bt.Analyzer) and getattr(a, "hears_orders", True))]
        # With no one but this strategy's own retry book to hear of orders, the requests go to the broker as they
        # are (AShareBroker.send_requests): the same fills, without a bt.Order, its execution bits and its
        # notifications per request (about 0.5 s of a full-market run's 16,000).
        self._orders_heard = (self._trades_heard or bool(self._order_analyzers)
                              or _overrides(self, "notify_order", Rebalancer)
                              or not hasattr(self.broker, "send_requests"))

    def _addnotification(self, order, quicknotify=False):
        if self._trades_heard or quicknotify:
            return super()._addnotification(order, quicknotify=quicknotify)
        if not order.p.simulated:
            self._orderspending.append(order)

    def _notify(self, qorders=[], qtrades=[]):
        """Backtrader's `Strategy._notify` (1.9.78.123), the orders told to the analyzers that listen."""
        if self.cerebro.p.quicknotify:
            return super()._notify(qorders=qorders, qtrades=qtrades)
        analyzers = self._order_analyzers
        for order in self._orderspending:
            if order.exectype != order.Historical or order.histnotify:
                self.notify_order(order)
            for analyzer in analyzers:
                analyzer._notify_order(order)
        for trade in self._tradespending:
            self.notify_trade(trade)
            for analyzer in itertools.chain(self.analyzers, self._slave_analyzers):
                analyzer._notify_trade(trade)
        cash = self.broker.getcash()
        value = self.broker.getvalue()
        fundvalue = self.broker.fundvalue
        fundshares = self.broker.fundshares
        self.notify_cashvalue(cash, value)
        self.notify_fund(cash, value, fundvalue, fundshares)
        for analyzer in itertools.chain(self.analyzers, self._slave_analyzers):
            analyzer._notify_cashvalue(cash, value)
            analyzer._notify_fund(cash, value, fundvalue, fundshares)

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
        if self.p.progress is not None:
            self.p.progress(1)
        if self.driver.snapshot_due(t):
            self.broker.snapshot_holdings()
        broker, by_sid, live = self.broker, self.book.by_sid, self._live
        requests = self.driver.requests(t, broker.account, broker.getvalue)
        if not self._orders_heard:
            broker.send_requests(requests, self.planner.record)
            return
        for req in requests:
            # self.buy / self.sell (data, size, exectype=Market, rebalance, attempt), the broker's short way
            order = broker.day_order(self, by_sid(req.sid), req.qty, req.side == Side.BUY,
                                     rebalance=req.rebalance, attempt=req.attempt)
            live[order.ref] = req


def _overrides(obj, name: str, base: type) -> bool:
    return getattr(type(obj), name) is not getattr(base, name)
