"""`Rebalancer`: a Backtrader strategy that trades target portfolios.

Input: targets (DataFrame rebalance_date, symbol, weight; the rebalance date
is the trading day the orders execute), symbol proxies (`feeds.proxy.ProxyBook`)
and the switch `retry`. It only orchestrates; prices, rules and costs are the
broker's.

Steps, at the close of each trading day t (its `next`):
1. If t is a rebalance date or the run's last day: ask the broker to snapshot holdings (after trading).
2. If t+1 is a rebalance date r: size the orders for r from information up to
   t's close: value V = broker value at t's close; target qty = lot_round_down(
   weight x V / last close); held names not in the list go to 0. Sells are
   submitted first (whole position when the target is 0, else lot-rounded),
   then buys (lot-rounded). The new plan supersedes whatever was left of the
   previous one.
3. Otherwise, with `retry` on: re-submit each unfilled remainder of the
   current plan at the next day's deal price. Remainders refused for a
   permanent reason (`lot_size`, `delisted`, `no_position`) are dropped; a buy
   cut for `cash` is retried only when new cash can come: a sell filled since
   its attempt, or a sell of the plan is re-sent the same day (sells go first)
   in a stock that traded today (a halted stock's sale funds nothing).

Every order carries the rebalance it serves and its attempt number (0 first, 1.. retries), so
blocks can be counted per (symbol, rebalance) rather than per retry. A target that produces no
order is counted in `skipped` by cause (SKIP_CAUSES) and logged once per cause by the engine.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import backtrader as bt
import numpy as np
import pandas as pd
from loguru import logger

PERMANENT = {"lot_size", "delisted", "no_position"}
FINAL = {bt.Order.Completed, bt.Order.Expired, bt.Order.Rejected, bt.Order.Margin, bt.Order.Canceled}
# Why a target row produced no order (metrics.json `skipped`).
SKIP_CAUSES = {
    "outside_window": "rebalance date outside the run window",
    "not_listed_yet": "no bar yet (not listed, or never traded) before the rebalance",
    "delisted": "past the stock's last listed day",
    "below_one_lot": "weight x portfolio value is less than one board lot",
    "cash_below_one_lot": "the whole portfolio value is less than one board lot",
    "zero_weight": "weight 0 and nothing held",
    "at_target": "already held at the target quantity",
    "empty_file": "the targets file has no rows",
}


@dataclass
class Skips:
    """Counts of targets that gave no order, by cause, with the first example of each."""
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, cause: str, example: str, n: int = 1) -> None:
        self.counts[cause] += n
        self.examples.setdefault(cause, example)


@dataclass
class Remainder:
    side: str           # buy | sell
    qty: int            # shares still to trade
    close_all: bool     # a sell to zero: always the whole position
    rebalance: int      # calendar index of the rebalance day this order serves
    reason: str = ""    # reason of the last attempt
    attempt: int = -1   # calendar index of the last attempt
    tries: int = 0      # attempts sent so far


class Rebalancer(bt.Strategy):
    params = (
        ("targets", None),        # DataFrame rebalance_date, symbol, weight
        ("book", None),           # feeds.proxy.ProxyBook
        ("retry", True),
        ("lot_size", True),
        ("start", None),          # calendar index of the window's first day (default: the clock's first bar)
    )

    def __init__(self):
        self.skipped = Skips()
        self.book = self.p.book
        self.market = self.book.market
        self.clock = self.book.clock
        self.plans = self._plans(self.p.targets)
        self.rebalance_days = set(self.plans)
        self.remaining: dict[int, Remainder] = {}
        self._live: dict[int, int] = {}              # order ref -> sid
        self._last_sale = -1                         # calendar index of the last day a sell filled
        self._lots: dict = {}
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
        weights = targets["weight"].to_numpy(dtype=float)
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
        sid = self._live.pop(order.ref, None)
        if sid is None:
            return
        rem = self.remaining.get(sid)
        filled = int(abs(order.executed.size))
        today = self.clock.market_index()
        if filled and order.issell():
            self._last_sale = today
        if rem is None:
            return
        rem.attempt = today
        rem.qty -= filled
        rem.reason = order.info.get("reason", "") if order.status != bt.Order.Completed else ""
        if rem.qty <= 0 or (rem.close_all and order.status == bt.Order.Completed):
            del self.remaining[sid]

    def next(self):
        t = self.clock.market_index()
        if t in self.rebalance_days or t == self._last_bar:
            self.broker.snapshot_holdings()
        nxt = t + 1
        if nxt in self.plans:
            self._rebalance(t, self.plans[nxt])
        elif self.p.retry and self.remaining:
            self._retry()

    # ----- steps ---------------------------------------------------------------
    def _lot(self, sid: int):
        """The board's lot on the next trading day (None with lot rules off)."""
        if not self.p.lot_size:
            return None
        day = self.market.date_at(min(self.clock.market_index() + 1, self.market.n_days - 1))
        key = (str(self.market.board[sid]), day)
        lot = self._lots.get(key)
        if lot is None:
            lot = self._lots[key] = self.market.rules.lot(*key)
        return lot

    def _rebalance(self, t: int, plan: list[tuple[int, float]]) -> None:
        r = t + 1                              # the rebalance day these orders execute on
        value = self.broker.getvalue()
        prices = self.market.last_close[t]
        tick = self.market.rules.tick
        day = self.market.date_at(r)
        target: dict[int, int] = {}
        for sid, w in plan:
            symbol = self.market.symbols[sid]
            held = self.broker.held.get(sid)
            px = float(prices[sid])
            if r > self.market.delist_index[sid]:
                self.skipped.add("delisted", f"{symbol} on {day}")
                continue
            if not px > 0 or r < self.market.list_index[sid]:
                self.skipped.add("not_listed_yet", f"{symbol} on {day}")   # no close to size from
                continue
            px = round(px / tick) * tick       # float32 cents back to exact ticks
            lot = self._lot(sid)
            qty = lot.round_down(w * value / px) if lot else int(w * value / px)
            target[sid] = qty
            if qty == 0 and held is None:
                if w <= 0:
                    self.skipped.add("zero_weight", f"{symbol} on {day}")
                elif lot and value < lot.min * px:
                    self.skipped.add("cash_below_one_lot", f"{symbol} on {day}: value {value:,.0f} < "
                                     f"{lot.min} x {px:.2f}")
                else:
                    self.skipped.add("below_one_lot", f"{symbol} on {day}: {w:.4%} of {value:,.0f} < "
                                     f"{lot.min if lot else 1} x {px:.2f}")
            elif held is not None and held.qty == qty:
                self.skipped.add("at_target", f"{symbol} on {day}")
        self.remaining = {}
        sells, buys = [], []
        for sid, h in self.broker.held.items():
            want = target.get(sid, 0)
            if h.qty > want:
                if want == 0:
                    sells.append((sid, h.qty, True))
                else:
                    lot = self._lot(sid)
                    qty = h.qty - want
                    qty = lot.round_down(qty) if lot else qty       # a partial sell keeps to whole lots
                    if qty > 0:
                        sells.append((sid, qty, False))
        for sid, want in target.items():
            held = self.broker.held.get(sid)
            have = held.qty if held else 0
            if want > have:
                lot = self._lot(sid)
                qty = lot.round_down(want - have) if lot else want - have
                if qty > 0:
                    buys.append((sid, qty))
        for sid, qty, close_all in sells:
            self.remaining[sid] = Remainder("sell", qty, close_all, r)
            self._send(sid, self.remaining[sid], qty)
        for sid, qty in buys:
            self.remaining[sid] = Remainder("buy", qty, False, r)
            self._send(sid, self.remaining[sid], qty)

    def _retry(self) -> None:
        sells = [(sid, r) for sid, r in self.remaining.items() if r.side == "sell"]
        buys = [(sid, r) for sid, r in self.remaining.items() if r.side == "buy"]
        suspended_today = self.market.is_suspended[self.clock.market_index()]
        selling = False
        for sid, r in sells + buys:
            if r.reason in PERMANENT:
                continue
            if r.reason == "cash" and not (self._last_sale > r.attempt or selling):
                continue
            qty = r.qty
            if r.side == "sell":
                held = self.broker.held.get(sid)
                if held is None:
                    continue
                qty = held.qty if r.close_all else min(qty, held.qty)
            else:
                lot = self._lot(sid)
                qty = lot.round_down(qty) if lot else qty
            if qty > 0:
                self._send(sid, r, qty)
                # Only a sale that can trade funds a cash-cut buy: a stock suspended at today's close
                # (known now) would leave that buy refused for cash every day of its halt.
                selling = selling or (r.side == "sell" and not suspended_today[sid])

    def _send(self, sid: int, rem: Remainder, qty: int) -> None:
        data = self.book.by_sid(sid)
        order = (self.buy if rem.side == "buy" else self.sell)(
            data=data, size=qty, exectype=bt.Order.Market,
            rebalance=self.market.date_at(rem.rebalance), attempt=rem.tries)
        rem.tries += 1
        self._live[order.ref] = sid
