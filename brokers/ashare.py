"""`AShareBroker`: a Backtrader broker that fills orders under the A-share rules.

It is a `bt.BrokerBase`, so Cerebro, `Strategy.buy/sell`, `notify_order` /
`notify_trade` and value-based analyzers (TimeReturn, DrawDown, Returns,
SharpeRatio, ...) work as with BackBroker. It differs from BackBroker where
BackBroker's cost grows with the market: positions are kept only while held
(no zero positions created by `getposition`) and the portfolio is valued as
cash + held quantities x `market.last_close[t]`, so a bar costs O(held).

Every order is a market order for the day it executes (a day order): the
strategy submits it at the close of day t-1, the broker fills it at day t's
deal price in submission order (the strategy sends sells first, so their
cash funds the same day's buys), and whatever is not filled by the end of
the day expires; a retry on a later day is a new order. Per order:

    validators (delisted, suspended, price limit, lot size, T+1)   -> reject with a reason
    quantity limits: position / T+1 sellable, volume cap, lots      -> partial with a reason
    deal price (open | close | vwap) -> slippage model, clamped to [low, high] and the limits
    cash: buys cut to the affordable lots (fees included)           -> partial / rejected 'cash'
    fill: position, cash, costs (commission once per order per day, stamp duty, transfer fee)

Order statuses sent to the strategy: Accepted, then Completed; or Partial
followed by Expired (the unfilled rest); or Rejected (a rule), or Margin (no
cash). The reason code is `order.info.reason`. Before the day's trading the
broker applies corporate actions (dividends, bonus shares) and settles
holdings of delisted stocks. Every attempt is a row of `order_log`, every
fill a row of `trade_log`, every day a row of `equity_log`.
"""
from __future__ import annotations

import collections
import datetime as dt
import math
from dataclasses import dataclass

import backtrader as bt
import numpy as np
from loguru import logger

from brokers.context import BUY, SELL, OrderContext, context_from_market
from brokers.corporate_actions import DelistingSettlement, corporate_action_models
from brokers.costs import CostModel, Costs
from brokers.fill_price import fill_price_model
from brokers.slippage import slippage_model
from brokers.validators import LotSize, TPlusOne, build_validators
from brokers.volume_cap import volume_cap_model
from rules.table import Lot

ANY_LOT = Lot(1, 1)


@dataclass(slots=True)
class Holding:
    """A held position of one symbol (the broker keeps only these)."""
    proxy: object
    position: bt.Position
    opened: dt.date                       # day the position was opened (dividend tax holding period)
    locked: int = 0                       # shares not sellable today (bought / bonus today)

    @property
    def qty(self) -> int:
        return int(self.position.size)

    def last_bar_row(self, t: int) -> int:
        return self.proxy.last_bar_row(t)


@dataclass
class OrderRow:
    date: dt.date
    symbol: str
    side: str
    requested_qty: int
    filled_qty: int
    price: float
    status: str                           # filled | partial | rejected
    reason: str
    rebalance_date: dt.date | None = None  # the rebalance this attempt serves (None: not from a plan)
    attempt: int = 0                      # 0 = first attempt, 1.. = retries on later days
    ref: int = 0


@dataclass
class TradeRow:
    date: dt.date
    symbol: str
    side: str
    qty: int
    price: float
    commission: float
    stamp_duty: float
    transfer_fee: float
    slippage: float
    kind: str = "fill"                    # fill | delist
    participation: float = float("nan")   # qty / the day's volume (NaN for settlements)
    ref: int = 0


class AShareBroker(bt.BrokerBase):
    params = (
        ("market", None),       # feeds.market.Market
        ("cfg", None),          # core.config.BrokerConfig
        ("book", None),         # feeds.proxy.ProxyBook (gives the clock and symbol proxies)
    )

    def __init__(self):
        super().__init__()
        m, cfg = self.p.market, self.p.cfg
        self.market = m
        self.book = self.p.book
        self.clock = self.book.clock
        self.deal = fill_price_model(cfg.deal_price, m.rules.tick)
        self.validators = build_validators(cfg, m.rules, self.deal)
        self.volume_cap = volume_cap_model(cfg.volume_cap, cfg.crowd)
        self.slippage = slippage_model(cfg.slippage, m.rules.tick, m, cfg.crowd)
        self.costs = CostModel.from_config(cfg, m.rules)
        self.actions = corporate_action_models(m, cfg)
        self.delisting = DelistingSettlement(m, cfg.delist_haircut)
        self.lots = LotSize(m.rules) if cfg.lot_size else None
        self.t_plus_1 = bool(cfg.t_plus_1)
        self.startingcash = float(cfg.cash)
        self._comminfo = self.comminfo[None]      # stock-like, zero: our fees are charged by CostModel
        self._reset()

    def _reset(self) -> None:
        self.cash = self.startingcash
        self.held: dict[int, Holding] = {}        # sid -> Holding
        self.notifs: collections.deque = collections.deque()
        self.pending: list = []
        self.order_log: list[OrderRow] = []
        self.trade_log: list[TradeRow] = []
        self.equity_log: list[tuple[int, float, float]] = []
        self.holdings_log: list[tuple] = []
        self._day = -1
        self._arrays = None                       # (sids, qty) of held names, rebuilt after a change
        self._value_key = None
        self._value = self.cash

    def start(self):
        super().start()
        self._reset()

    # ----- Backtrader broker interface -------------------------------------
    def getcash(self):
        return self.cash

    get_cash = getcash

    def setcash(self, cash):
        self.startingcash = self.cash = float(cash)

    set_cash = setcash

    def getvalue(self, datas=None):
        if datas:
            t = self._t()
            held = [self.held[d.sid] for d in datas if d.sid in self.held]
            if not held:
                return 0.0
            px = np.nan_to_num(self._ticks(self.market.last_close[t, [h.proxy.sid for h in held]]))
            return float(sum(h.position.size * float(p) for h, p in zip(held, px)))
        if len(self.clock) == 0:
            return self.cash
        key = (self._t(), self.cash, len(self.trade_log), self._day)
        if key != self._value_key:
            self._value = self.cash + self.positions_value(self._t())
            self._value_key = key
        return self._value

    get_value = getvalue

    def positions_value(self, t: int) -> float:
        """Held quantities x last close: a gather and a dot product, O(held)."""
        if not self.held:
            return 0.0
        if self._arrays is None:
            sids = np.fromiter(self.held.keys(), dtype=np.int64, count=len(self.held))
            qty = np.fromiter((h.position.size for h in self.held.values()), dtype=np.float64, count=len(self.held))
            self._arrays = (sids, qty)
        sids, qty = self._arrays
        px = self._ticks(self.market.last_close[t, sids])
        return float(np.dot(np.nan_to_num(px), qty))

    def _ticks(self, px: np.ndarray) -> np.ndarray:
        """float32 panel prices back to exact ticks (cents)."""
        tick = self.market.rules.tick
        return np.round(px.astype(np.float64) / tick) * tick

    @property
    def positions(self) -> dict:
        """Backtrader's data -> Position map (strategy.getpositions), derived from the held names."""
        return {h.proxy: h.position for h in self.held.values()}

    def getposition(self, data, clone=True):
        h = self.held.get(data.sid)
        if h is None:
            return bt.Position(0, 0.0)           # not stored: no zero positions to value every bar
        return h.position.clone() if clone else h.position

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
        order = cls(owner=owner, data=data, size=size, price=price, pricelimit=plimit, exectype=exectype,
                    valid=valid, tradeid=tradeid, oco=oco, trailamount=trailamount, trailpercent=trailpercent,
                    parent=parent, transmit=transmit, histnotify=histnotify)
        order.addinfo(**info)
        return self.submit(order)

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
        if t != self._day:
            self._start_day(t)
        orders, self.pending = self.pending, []
        for order in orders:
            self.execute_order(order, t)
        self.costs.end_day()
        self.equity_log.append((t, self.getvalue(), self.cash))

    # ----- the day -----------------------------------------------------------
    def _t(self) -> int:
        return self.clock.market_index()

    def _start_day(self, t: int) -> None:
        self._day = t
        for h in self.held.values():
            h.locked = 0
        for s in self.delisting.settlements(t, self.held):
            self._settle_delisted(t, s)
        for model in self.actions:
            for e in model.entitlements(t, self.held):
                self._entitle(e)

    def _entitle(self, e) -> None:
        h = self.held[e.sid]
        self.cash += e.cash
        if e.shares > 0:
            pos = h.position
            cost = pos.size * pos.price
            pos.size += e.shares
            pos.price = cost / pos.size if pos.size else 0.0
            h.locked += e.shares
        self._changed()

    def _settle_delisted(self, t: int, s) -> None:
        h = self.held.pop(s.sid)
        proxy = h.proxy
        self.cash += s.qty * s.price
        self._forget(s.sid)
        self._changed()
        self.trade_log.append(TradeRow(self.market.date_at(t), proxy.symbol, SELL, s.qty, s.price,
                                       0.0, 0.0, 0.0, 0.0, kind="delist"))
        logger.debug(f"{self.market.date_at(t)} {proxy.symbol}: delisted holding of {s.qty} settled at {s.price:.2f}")

    def _changed(self) -> None:
        self._value_key = None
        self._arrays = None

    def _forget(self, sid: int) -> None:
        for model in self.actions:
            if hasattr(model, "forget"):
                model.forget(sid)

    def sellable(self, sid: int) -> int:
        h = self.held.get(sid)
        if h is None:
            return 0
        return max(h.qty - h.locked, 0)

    def execute_order(self, order, t: int) -> None:
        """One attempt: validate, size, price and fill `order` on calendar day t."""
        proxy = order.data
        sid = proxy.sid
        side = BUY if order.isbuy() else SELL
        requested = int(abs(order.created.size))
        h = self.held.get(sid)
        pos = h.qty if h else 0
        ctx = context_from_market(self.market, t, sid, side, requested, pos, self.sellable(sid))
        for v in self.validators:
            reason = v.check(ctx)
            if reason:
                return self._refuse(order, ctx, reason)
        qty, reason = requested, ""
        if side == SELL:
            if pos <= 0:
                return self._refuse(order, ctx, "no_position")
            qty = min(qty, pos)
            if self.t_plus_1 or h.locked:
                if ctx.sellable < qty:
                    qty, reason = ctx.sellable, TPlusOne.reason
        cap = self.volume_cap.allowed(ctx)
        if cap < qty:
            qty, reason = cap, self.volume_cap.reason
        lot = self.lots.lot(ctx.board, ctx.day) if self.lots else ANY_LOT
        if side == BUY or qty != pos:
            qty = lot.round_down(qty)
        if qty <= 0:
            return self._refuse(order, ctx, reason or "lot_size")
        deal = self.deal.price(ctx)
        price = self.slippage.price(ctx, deal, qty)
        if side == BUY:
            afford = self.costs.affordable(order.ref, ctx.day, ctx.exchange, price, self.cash, lot)
            if afford < qty:
                qty, reason = afford, "cash"
            if qty <= 0:
                return self._refuse(order, ctx, "cash")
        self.execute_fill(order, ctx, qty, price, deal)
        self._finish(order, ctx, reason)

    def execute_fill(self, order, ctx: OrderContext, qty: int, price: float, deal: float) -> Costs:
        """Book one fill of `qty` shares at `price` (several fills of one order may share a day)."""
        proxy = order.data
        sid = ctx.sid
        costs = self.costs.fill_costs(order.ref, ctx.day, ctx.side, ctx.exchange, qty, price, deal)
        h = self.held.get(sid)
        if h is None:
            pos = bt.Position(0, 0.0)
            h = self.held[sid] = Holding(proxy, pos, ctx.day)
        pos = h.position
        signed = qty if ctx.is_buy else -qty
        pprice_orig = pos.price
        psize, pprice, opened, closed = pos.update(signed, price)
        notional = qty * price
        if ctx.is_buy:
            self.cash -= notional + costs.charged
            h.locked += qty if self.t_plus_1 else 0
        else:
            self.cash += notional - costs.charged
        closedvalue = abs(closed) * pprice_orig
        openedvalue = abs(opened) * price
        closedcomm = costs.charged if closed else 0.0
        openedcomm = costs.charged if opened and not closed else 0.0
        pnl = -closed * (price - pprice_orig)
        order.execute(self.clock.datetime[0], signed, price, closed, closedvalue, closedcomm,
                      opened, openedvalue, openedcomm, 0.0, pnl, psize, pprice)
        if psize == 0:
            del self.held[sid]
            self._forget(sid)
        self._changed()
        participation = qty / ctx.volume if ctx.volume > 0 else math.nan
        self.trade_log.append(TradeRow(ctx.day, ctx.symbol, ctx.side, qty, price, costs.commission,
                                       costs.stamp_duty, costs.transfer_fee, costs.slippage,
                                       participation=participation, ref=order.ref))
        return costs

    def _finish(self, order, ctx: OrderContext, reason: str) -> None:
        """End of the order's day: Completed, or Partial then Expired for the rest."""
        filled = int(abs(order.executed.size))
        wanted = ctx.qty if ctx.is_buy else min(ctx.qty, ctx.position)     # a sell never exceeds the holding
        if filled >= wanted:
            order.completed()
            self.notify(order)
            self._log(order, ctx, filled, "filled", "")
            return
        order.addinfo(reason=reason)
        order.partial()
        self.notify(order, final=False)
        order.status = order.Expired          # a day order: the rest lapses (Order.expire() refuses Market orders)
        self.notify(order)
        self._log(order, ctx, filled, "partial", reason)

    def _refuse(self, order, ctx: OrderContext, reason: str) -> None:
        order.addinfo(reason=reason)
        if reason == "cash":
            order.margin()
        else:
            order.reject(self)
        self.notify(order)
        self._log(order, ctx, 0, "rejected", reason)

    def _log(self, order, ctx: OrderContext, filled: int, status: str, reason: str) -> None:
        price = float(order.executed.price) if filled else math.nan
        info = order.info
        self.order_log.append(OrderRow(ctx.day, ctx.symbol, ctx.side, ctx.qty, filled, price, status, reason,
                                       info.get("rebalance"), int(info.get("attempt", 0) or 0), order.ref))

    # ----- snapshots for outputs ---------------------------------------------
    def snapshot_holdings(self) -> None:
        """Record holdings after today's trading (the engine calls it on rebalance dates)."""
        t = self._t()
        day = self.market.date_at(t)
        row = self.market.last_close[t]
        for sid, h in sorted(self.held.items()):
            close = float(self._ticks(row[sid]))
            self.holdings_log.append((day, h.proxy.symbol, h.qty, self.sellable(sid), close, h.qty * close))
