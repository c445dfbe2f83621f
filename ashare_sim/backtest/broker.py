"""`AShareBroker`: a Backtrader broker over the execution core (`execution.core.ExecutionCore`).

It is a `bt.BrokerBase`, so Cerebro, `Strategy.buy/sell`, `notify_order` / `notify_trade` and
value-based analyzers (TimeReturn, DrawDown, Returns, SharpeRatio, ...) work as with BackBroker.
Every rule, cost and fill is the core's: this class only turns `bt.Order` objects into order
requests, and outcomes back into Backtrader's execution bits and statuses. The paper account drives
the same core without Cerebro.

Every order is a market order for the day it executes (a day order): the strategy submits it at
the close of day t-1, the broker fills it at day t's deal price in submission order (the strategy
sends sells first, so their cash funds the same day's buys), and whatever is not filled by the end
of the day expires; a retry on a later day is a new order. A rebalance day's orders go to the core
together (`ExecutionCore.execute_day`, the same fills as one at a time).

Order statuses sent to the strategy: Completed; or Partial followed by Expired (the unfilled
rest); or Rejected (a rule), or Margin (no cash). The reason code is `order.info.reason`. Where
BackBroker's cost grows with the market, this broker's does not: positions exist only while held
(`getposition` creates no zero positions) and the value is cash + held quantities x last close
(ex-right when the stock was suspended through an ex-date: `Market.value_close`).
"""
from __future__ import annotations

import collections
import datetime as dt
import itertools

import backtrader as bt
from backtrader.order import OrderData
from backtrader.utils import AutoOrderedDict

from ashare_sim.backtest.proxy import SymbolProxy
from ashare_sim.common.errors import UserError
from ashare_sim.execution.core import BATCH_MIN_ORDERS, ExecutionCore
from ashare_sim.execution.log import RowLog
from ashare_sim.execution.orders import (
    FILLED,
    PARTIAL,
    OrderRequest,
    OrderRow,
    Reason,
    Side,
    TradeRow,
)
from ashare_sim.rules.table import round_to_tick

__all__ = ["AShareBroker", "OrderRow", "TradeRow", "day_market_order"]

# Per order class: its params class and the defaults of every param, in declaration order (read once, where
# Backtrader's metaclass copies them for every order).
_PARAMS = {cls: (cls.params, dict(cls.params._getitems())) for cls in (bt.BuyOrder, bt.SellOrder)}


def day_market_order(cls: type, owner, data, size, tradeid=0, transmit: bool = True, histnotify: bool = False,
                     exectype=None, eos: dict | None = None) -> bt.Order:
    """`cls(owner=..., data=..., size=..., exectype=...)` for a market order with no price, validity, trail,
    parent or OCO: the same object, attribute for attribute, as Backtrader's constructor makes.

    Why: the metaclass call copies the params' OrderedDict and resolves every param through `__getattr__`
    (46 us an order against 6 here: 0.6 s of a full-market run's 16,000). This is `MetaParams.donew` and
    `Order.__init__` (backtrader 1.9.78.123, pinned) for that one case; tests/backtest/test_broker.py
    compares the two. `eos`: a cache of the end-of-session number by bar, for proxies sharing one clock."""
    pcls, defaults = _PARAMS[cls]
    params = object.__new__(pcls)            # AutoInfoClass.__new__ without recursion is object.__new__
    vars(params).update(defaults)
    params.owner, params.data, params.size, params.exectype = owner, data, size, exectype
    params.tradeid, params.transmit, params.histnotify = tradeid, transmit, histnotify
    order = object.__new__(cls)
    order.params = order.p = params
    order.ref = next(cls.refbasis)
    order.broker = None
    order.info = AutoOrderedDict()
    order.comminfo = None
    order.triggered = False
    order._active = True
    order.status = bt.Order.Created
    order.plimit = None
    if exectype is None:
        order.exectype = bt.Order.Market
    if cls.ordtype != bt.Order.Buy:
        size = order.size = -size
    pclose = data.close[0]
    dcreated = data.datetime[0]
    order.created = OrderData(dt=dcreated, size=size, price=pclose, pricelimit=None, pclose=pclose,
                              trailamount=None, trailpercent=None)
    order._limitoffset = 0.0
    order.executed = OrderData(remsize=size)
    order.position = 0
    dteos = eos.get(dcreated) if eos is not None else None
    if dteos is None:
        dtime = data.datetime.datetime(0)
        session = data.p.sessionend
        end = dtime.replace(hour=session.hour, minute=session.minute, second=session.second,
                            microsecond=session.microsecond)
        if end < dtime:
            end += dt.timedelta(days=1)
        dteos = data.date2num(end)
        if eos is not None:
            eos.clear()                      # one bar at a time
            eos[dcreated] = dteos
    order.dteos = dteos
    return order


class AShareBroker(bt.BrokerBase):
    params = (
        ("market", None),       # data.market.Market
        ("cfg", None),          # config.schema.BrokerConfig
        ("book", None),         # backtest.proxy.ProxyBook (gives the clock and symbol proxies)
        ("round_lots", False),  # a user's strategy: buys rounded down to the board lot, partial sells to
                                # whole lots (the engine's own planner sends whole lots already)
    )

    def __init__(self):
        super().__init__()
        self.market = self.p.market
        self.book = self.p.book
        self.clock = self.book.clock
        self.startingcash = float(self.p.cfg.cash)
        self._comminfo = self.comminfo[None]      # stock-like, zero: our fees are charged by the core
        self._reset()

    def _reset(self) -> None:
        self.core = ExecutionCore(self.market, self.p.cfg)
        self.core.account.cash = self.startingcash
        self.notifs: collections.deque = collections.deque()
        self.pending: list = []
        self._positions: dict[int, bt.Position] = {}   # Backtrader views of the core's positions, by sid
        self._eos: dict[float, float] = {}             # the clock's bar -> its end of session (day_market_order)
        self._requests: list[OrderRequest] = []        # send_requests: the next day's, and who hears their outcomes
        self._heard = None
        self._keys = itertools.count(1)

    def start(self):
        super().start()
        self._reset()

    # ----- the core's state, as Backtrader reads it ---------------------------------------
    @property
    def account(self):
        return self.core.account

    @property
    def cash(self) -> float:
        return self.core.account.cash

    @property
    def order_log(self) -> RowLog:
        return self.core.order_log

    @property
    def trade_log(self) -> RowLog:
        return self.core.trade_log

    @property
    def equity_log(self) -> list:
        return self.core.equity_log

    @property
    def holdings_log(self) -> list:
        return self.core.holdings_log

    # ----- Backtrader broker interface -------------------------------------
    def getcash(self):
        return self.cash

    get_cash = getcash

    def setcash(self, cash):
        self.startingcash = float(cash)
        self.core.account.cash = float(cash)

    set_cash = setcash

    def getvalue(self, datas=None):
        if datas:
            t = self._t()
            acct = self.core.account
            held = [acct.positions[d.sid] for d in datas if d.sid in acct.positions]
            if not held:
                return 0.0
            row = self.market.value_close[t]
            return float(sum(p.qty * float(round_to_tick(float(row[p.sid]), self.market.rules.tick))
                             for p in held if row[p.sid] == row[p.sid]))
        if len(self.clock) == 0:
            return self.cash
        return self.core.value(self._t())

    get_value = getvalue

    @property
    def positions(self) -> dict:
        """Backtrader's data -> Position map (strategy.getpositions), derived from the held names."""
        return {self.book.by_sid(sid): self._bt_position(sid) for sid in self.core.account.positions}

    def _bt_position(self, sid: int) -> bt.Position:
        p = self.core.account.positions[sid]
        return bt.Position(p.qty, p.cost)

    def getposition(self, data, clone=True):
        if data.sid not in self.core.account.positions:
            return bt.Position(0, 0.0)           # not stored: no zero positions to value every bar
        return self._bt_position(data.sid)

    def setcommission(self, *args, **kwargs):
        raise UserError("setcommission: this broker charges the A-share fees of the config; set broker.commission.rate "
                        "/ .min, broker.stamp_duty and broker.transfer_fee instead")

    def addcommissioninfo(self, comminfo, name=None):
        raise UserError("addcommissioninfo: this broker charges the A-share fees of the config; set "
                        "broker.commission.rate / .min, broker.stamp_duty and broker.transfer_fee instead")

    def orderstatus(self, order):
        return order.status

    # Backtrader's broker signature; every order is a day market order here, so most arguments only travel
    # into the bt.Order for analyzers and notifications.
    def buy(self, owner, data, size, price=None, plimit=None, exectype=None, valid=None, tradeid=0, oco=None,
            trailamount=None, trailpercent=None, parent=None, transmit=True, histnotify=False,
            _checksubmit=True, **kwargs):
        return self._order(bt.BuyOrder, owner, data, size, price, plimit, exectype, valid, tradeid, oco,
                           trailamount, trailpercent, parent, transmit, histnotify, kwargs)

    def sell(self, owner, data, size, price=None, plimit=None, exectype=None, valid=None, tradeid=0, oco=None,
             trailamount=None, trailpercent=None, parent=None, transmit=True, histnotify=False,
             _checksubmit=True, **kwargs):
        return self._order(bt.SellOrder, owner, data, size, price, plimit, exectype, valid, tradeid, oco,
                           trailamount, trailpercent, parent, transmit, histnotify, kwargs)

    def _order(self, cls, owner, data, size, price, plimit, exectype, valid, tradeid, oco, trailamount,
               trailpercent, parent, transmit, histnotify, info):
        if exectype not in (None, bt.Order.Market):
            raise UserError(f"{bt.Order.ExecTypes[exectype]} order on {getattr(data, '_name', data)}: orders here are "
                            "day market orders filled at the configured deal price (broker.deal_price), under the "
                            "day's price limits; send a market order (exectype None)")
        if (price is None and plimit is None and valid is None and oco is None and trailamount is None
                and trailpercent is None and parent is None):
            # proxies share the clock, so they share its end of session: computed once a bar
            order = day_market_order(cls, owner, data, size, tradeid, transmit, histnotify, exectype,
                                     self._eos if type(data) is SymbolProxy else None)
        else:
            order = cls(owner=owner, data=data, size=size, price=price, pricelimit=plimit, exectype=exectype,
                        valid=valid, tradeid=tradeid, oco=oco, trailamount=trailamount, trailpercent=trailpercent,
                        parent=parent, transmit=transmit, histnotify=histnotify)
        order.addinfo(**info)
        return self.submit(order)

    def day_order(self, owner, data, size: int, buy: bool, **info) -> bt.Order:
        """`owner.buy(data=data, size=size, exectype=bt.Order.Market, **info)` (or sell), the same order, without
        the relay of fourteen arguments through Strategy.buy and buy (the engine's strategy sends 16,000)."""
        order = day_market_order(bt.BuyOrder if buy else bt.SellOrder, owner, data, size, exectype=bt.Order.Market,
                                 eos=self._eos if type(data) is SymbolProxy else None)
        order.addinfo(**info)
        return self.submit(order)

    def send_requests(self, requests: list[OrderRequest], heard) -> None:
        """Requests for the next bar without Backtrader orders (the engine's strategy when nothing else listens to
        orders): filled in the order sent, before any order; `heard(request, filled, completed, reason, t)` is
        told of each outcome on its day, as the strategy's `notify_order` would be."""
        for req in requests:
            req.key = next(self._keys)          # the order's identity for the commission minimum
        self._requests.extend(requests)
        self._heard = heard

    def submit(self, order):
        """Accept a day order (no Submitted / Accepted notification: the strategy hears the outcome)."""
        order.submit(self)
        order.accept(self)
        order.addcomminfo(self._comminfo)
        self.pending.append(order)
        return order

    def cancel(self, order):
        if order in self.pending:
            self.pending.remove(order)
            order.cancel()
            self.notify(order)
            return True
        return False

    def notify(self, order, final: bool = True):
        """Queue a notification; a final state is sent as is (the order will not change again).

        Either way the execution bits since the last notification are marked
        pending, which is how the Strategy builds its trades (notify_trade)."""
        if final:
            order.executed.markpending()
            self.notifs.append(order)
        else:
            self.notifs.append(order.clone())

    def get_notification(self):
        return self.notifs.popleft() if self.notifs else None

    def next(self):
        t = self._t()
        core = self.core
        if t != core.day:
            core.start_day(t)
        if self._requests:
            requests, self._requests = self._requests, []
            for req, filled, completed, reason in zip(requests, *core.trade_day(requests, t)):
                self._heard(req, filled, completed, reason, t)
        orders, self.pending = self.pending, []
        now = self.clock.datetime[0]
        requests = [None]
        if core.batches and len(orders) >= BATCH_MIN_ORDERS and len({o.data.sid for o in orders}) == len(orders):
            # a user's size is rounded to lots with the position before the day: exact when each stock trades once
            requests = [self._request(order, t) for order in orders]
        if None not in requests:
            # judged together (a rebalance day's orders): what one at a time gives, to the bit (the core's tests)
            for order, out in zip(orders, core.execute_day(requests, t)):
                self._settle(order, out, now)
        else:
            for order in orders:
                self.execute_order(order, t, now)
        core.end_day(t)

    def _t(self) -> int:
        return self.clock.market_index()

    def sellable(self, sid: int) -> int:
        return self.core.account.sellable(sid)

    # ----- one order: request -> core -> outcome -> bt.Order ------------------------------
    def execute_order(self, order, t: int, now: float | None = None) -> None:
        """`order` on calendar day t; `now`: the clock's datetime number (read here when not given)."""
        now = self.clock.datetime[0] if now is None else now
        req = self._request(order, t)
        if req is None:                      # below one lot: refused as the rule would, with its reason
            side = Side.BUY if order.isbuy() else Side.SELL
            order.addinfo(reason=Reason.LOT_SIZE)
            order.reject(self)
            self.core.order_log.append(OrderRow(self.market.date_at(t), order.data.symbol, side,
                                                int(abs(order.created.size)), 0, float("nan"), "rejected",
                                                Reason.LOT_SIZE, None, 0, order.ref))
            self.notify(order)
            return
        self._settle(order, self.core.execute(req, t), now)

    def _request(self, order, t: int) -> OrderRequest | None:
        """The core's request for `order` on day t (None: a user's size below one board lot)."""
        info = order.info
        data = order.data                       # a param: each read goes through Order.__getattr__
        buy = order.isbuy()
        qty = int(abs(order.created.size))
        if self.p.round_lots:
            qty = self._whole_lots(data.sid, qty, buy, t)
            if qty == 0:
                return None
        return OrderRequest(data.sid, data.symbol, Side.BUY if buy else Side.SELL, qty, info.get("rebalance"),
                            int(info.get("attempt", 0) or 0), order.ref)

    def _settle(self, order, out, now: float) -> None:
        """The core's outcome on `order`: its execution bits, status and notifications."""
        fill = out.fill
        if fill is not None:
            signed = fill.qty if order.isbuy() else -fill.qty
            charged = fill.costs.charged
            closedcomm = charged if fill.closed else 0.0
            openedcomm = charged if fill.opened and not fill.closed else 0.0
            order.execute(now, signed, fill.price, fill.closed, abs(fill.closed) * fill.cost_before,
                          closedcomm, fill.opened, abs(fill.opened) * fill.price, openedcomm, 0.0,
                          -fill.closed * (fill.price - fill.cost_before), fill.size_after, fill.cost_after)
        if out.status == FILLED:
            order.completed()
            self.notify(order)
        elif out.status == PARTIAL:
            order.addinfo(reason=out.reason)
            order.partial()
            self.notify(order, final=False)
            order.status = order.Expired          # a day order: the rest lapses (Order.expire() refuses Market orders)
            self.notify(order)
        else:
            order.addinfo(reason=out.reason)
            if out.reason == Reason.CASH:
                order.margin()
            else:
                order.reject(self)
            self.notify(order)

    def _whole_lots(self, sid: int, qty: int, buy: bool, t: int) -> int:
        """A user's size in whole board lots: buys rounded down; sells too, unless they close the position
        (odd lots may only be sold whole)."""
        if not self.p.cfg.lot_size:
            return qty
        lot = self.market.rules.lot(str(self.market.board[sid]), self.market.date_at(t))
        if buy:
            return lot.round_down(qty)
        held = self.core.account.qty(sid)
        return held if qty >= held else lot.round_down(qty)

    # ----- snapshots for outputs ---------------------------------------------
    def snapshot_holdings(self) -> None:
        """Record holdings after today's trading (the engine calls it on rebalance dates)."""
        self.core.snapshot_holdings(self._t())
