"""`ExecutionCore`: the A-share order steps on an `Account`, without Backtrader.

The backtest's broker (`backtest.broker.AShareBroker`) and the paper account both drive this one
object, so there is a single copy of the rules. A trading day is

    core.start_day(t)            # T+1 unlock, delisted holdings settled, dividends and bonus shares
    core.execute(request, t)     # one order: -> OrderOutcome, logged in core.order_log / trade_log
    ...                          # or core.execute_day(requests, t): the day's orders, judged together
    core.end_day(t)              # the day's commission minimums and volume caps reset; equity logged

and one order, in this order (first refusal wins; every model is a small class chosen by config):

    validators (delisted, suspended, price limit, lot size, T+1)    -> rejected with the reason
    sell: no position -> no_position; cut to the T+1 sellable        -> partial t_plus_1
    volume cap, cumulative per stock and day (what earlier orders
      in the stock took today is spent)                              -> partial volume_cap
    lot rounding (sells of the whole position may keep an odd lot)   -> rejected lot_size when 0
    deal price (open | close | vwap) -> slippage, on the tick, inside the bar and the limits
    buys: cut to the lots the cash covers, fees included             -> partial / rejected cash
    fill: account, costs (commission minimum once per order per day, stamp duty, transfer fee)

`execute_day` gives what `execute` gives order after order, to the bit: every step that does not depend
on the orders before it (the rules, the quantity cuts, the prices, the fees) runs on the day's orders as
arrays, with each model's array form; the cash a buy may spend and the bookkeeping run in the order sent.
It falls back to one order at a time for a model without an array form, a stock ordered twice in the day,
or a day of a few orders (arrays do not pay for themselves there).
"""
from __future__ import annotations

import math
from dataclasses import astuple
from typing import NamedTuple

import numpy as np
from loguru import logger

from ashare_sim.execution.account import Account, Position
from ashare_sim.execution.context import DayOrders, OrderContext, context_from_market, day_orders_from_market
from ashare_sim.execution.log import RowLog
from ashare_sim.execution.models.base import Env, build_all, build_chosen
from ashare_sim.execution.models.corporate_actions import CORPORATE_ACTIONS
from ashare_sim.execution.models.costs import CostModel
from ashare_sim.execution.models.deal_price import DEAL_PRICES
from ashare_sim.execution.models.slippage import SLIPPAGE
from ashare_sim.execution.models.validators import VALIDATORS, LotSize, TPlusOne, lots_of
from ashare_sim.execution.models.volume_cap import QUANTITY_LIMITS
from ashare_sim.execution.orders import (
    FEE_KINDS,
    FILLED,
    PARTIAL,
    REJECTED,
    Costs,
    DayEvents,
    Fill,
    OrderOutcome,
    OrderRequest,
    OrderRow,
    Reason,
    Side,
    TradeRow,
    fees_charged,
)
from ashare_sim.rules.table import Lot, round_to_tick

ANY_LOT = Lot(1, 1)
BATCH_MIN_ORDERS = 8        # fewer orders in a day: one at a time is faster than arrays


def has_array_form(model, one: str, many: str) -> bool:
    """The class that gives `model` its one-order method `one` gives its array form `many` too (a subclass
    that changes only `one` must not be judged by its parent's `many`)."""
    for klass in type(model).__mro__:
        if one in vars(klass):
            return many in vars(klass)
    return False


class ExecutionCore:
    def __init__(self, market, cfg_broker, account: Account | None = None):
        m, cfg = market, cfg_broker
        self.market = m
        self.cfg = cfg
        self.tick = m.rules.tick
        self.rules = m.rules
        env = Env(m, m.rules, cfg.crowd)
        self.deal = _OncePerOrder(build_chosen(DEAL_PRICES, cfg.deal_price, cfg, env))
        env = Env(m, m.rules, cfg.crowd, self.deal)
        self.validators = build_all(VALIDATORS, cfg, env)
        self.limits = build_all(QUANTITY_LIMITS, cfg, env)
        self.slippage = build_chosen(SLIPPAGE, cfg.slippage.model, cfg, env)
        self.costs = CostModel.from_config(cfg, env)
        self._cost_env = env
        actions = build_all(CORPORATE_ACTIONS, cfg, env)
        self.settlers = [a for a in actions if hasattr(a, "settlements")]      # delisted holdings, first
        self.payers = [a for a in actions if hasattr(a, "entitlements")]       # dividends and bonus shares
        self.lots = any(isinstance(v, LotSize) for v in self.validators)
        self.t_plus_1 = any(isinstance(v, TPlusOne) for v in self.validators)
        self.account = account if account is not None else Account(float(cfg.cash))
        self.order_log = RowLog(OrderRow)
        self.trade_log = RowLog(TradeRow)
        self.equity_log: list[tuple[int, float, float]] = []
        self.holdings_log: list[tuple] = []
        self.day = -1
        self._volume_used: dict[int, int] = {}     # sid -> shares filled today (the cap is per stock and day)
        self._value_key = None
        self._value = self.account.cash
        self.batches = all([
            all(has_array_form(v, "check", "check_many") for v in self.validators),
            all(has_array_form(q, "allowed", "allowed_many") for q in self.limits),
            has_array_form(self.deal.model, "price", "price_many"),
            has_array_form(self.slippage, "price", "price_many"),
            all(has_array_form(f, "fee", "fee_many") and has_array_form(f, "fee", "charged_many")
                for f in self.costs.fees)])

    def fresh_costs(self) -> CostModel:
        """The config's cost model with no orders charged yet (fees of fills a broker reported without them)."""
        return CostModel.from_config(self.cfg, self._cost_env)

    # ----- the day -------------------------------------------------------------------
    def start_day(self, t: int) -> DayEvents:
        """Before the day's trading: unlock yesterday's shares, settle delisted holdings, pay entitlements."""
        self.day = t
        acct = self.account
        acct.unlock_all()
        events = DayEvents()
        for model in self.settlers:
            for s in model.settlements(t, acct.positions):
                self._settle_delisted(t, s)
                events.settlements.append(s)
        for model in self.payers:
            for e in model.entitlements(t, acct.positions):
                self._entitle(e)
                events.entitlements.append(e)
        acct.changed()
        return events

    def end_day(self, t: int) -> None:
        self.costs.end_day()
        self._volume_used.clear()
        self.equity_log.append((t, self.value(t), self.account.cash))

    def value(self, t: int) -> float:
        """Cash + held quantities x last close (O(held), cached until the account changes)."""
        acct = self.account
        key = (t, acct.version, acct.cash)
        if key != self._value_key:
            self._value = acct.cash + acct.positions_value(self.market.value_close[t], self.tick)
            self._value_key = key
        return self._value

    def snapshot_holdings(self, t: int) -> None:
        """Record holdings after the day's trading (holdings.csv)."""
        day = self.market.date_at(t)
        row = self.market.value_close[t]
        for sid, p in sorted(self.account.positions.items()):
            close = float(round_to_tick(float(row[sid]), self.tick))
            self.holdings_log.append((day, p.symbol, p.qty, p.sellable, close, p.qty * close))

    # ----- one order -------------------------------------------------------------------
    def execute(self, req: OrderRequest, t: int) -> OrderOutcome:
        """One attempt of `req` on calendar day t under every rule switched on."""
        acct = self.account
        sid, side = req.sid, req.side
        held = acct.position(sid)
        pos = held.qty if held else 0
        ctx = context_from_market(self.market, t, sid, side, req.qty, pos, acct.sellable(sid))
        for v in self.validators:
            reason = v.check(ctx)
            if reason:
                return self._refuse(req, ctx, reason)
        qty, reason = req.qty, ""
        if side == Side.SELL:
            if pos <= 0:
                return self._refuse(req, ctx, Reason.NO_POSITION)
            qty = min(qty, pos)
            if self.t_plus_1 or held.locked:
                if ctx.sellable < qty:
                    qty, reason = ctx.sellable, TPlusOne.reason
        for limit in self.limits:
            cap = limit.allowed(ctx) - self._volume_used.get(sid, 0)
            if cap < qty:
                qty, reason = max(cap, 0), limit.reason
        lot = self.rules.lot(ctx.board, ctx.day) if self.lots else ANY_LOT
        if side == Side.BUY or qty != pos:
            qty = lot.round_down(qty)
        if qty <= 0:
            return self._refuse(req, ctx, reason or Reason.LOT_SIZE)
        deal = self.deal.price(ctx)
        price = self.slippage.price(ctx, deal, qty)
        if side == Side.BUY:
            afford = self.costs.affordable(req.key, ctx.day, ctx.exchange, price, acct.cash, lot)
            if afford < qty:
                qty, reason = afford, Reason.CASH
            if qty <= 0:
                return self._refuse(req, ctx, Reason.CASH)
        fill = self._fill(req, ctx, qty, price, deal)
        wanted = ctx.qty if ctx.is_buy else min(ctx.qty, ctx.position)     # a sell never exceeds the holding
        if fill.qty >= wanted:
            return self._log(OrderOutcome(req, FILLED, "", fill), ctx)
        return self._log(OrderOutcome(req, PARTIAL, str(reason), fill), ctx)

    def execute_day(self, requests: list[OrderRequest], t: int) -> list[OrderOutcome]:
        """`execute` of each request in turn on calendar day t (the same outcomes, fills and logs, to the
        bit), the steps that do not depend on earlier orders done on the day's orders together."""
        return self._day(requests, t, True)

    def trade_day(self, requests: list[OrderRequest], t: int) -> DayFills:
        """`execute_day` giving only what a retry book reads of each outcome (filled shares, filled in full,
        reason): the same account and logs, without an outcome object per order."""
        return self._day(requests, t, False)

    def _day(self, requests: list[OrderRequest], t: int, detail: bool):
        sids = [r.sid for r in requests]
        keys = [r.key for r in requests]
        if (not self.batches or len(requests) < BATCH_MIN_ORDERS or len(set(sids)) < len(sids)
                or len(set(keys)) < len(keys)):
            return _outcomes([self.execute(r, t) for r in requests], detail)
        acct = self.account
        b = day_orders_from_market(self.market, t, sids, [r.side for r in requests], [r.qty for r in requests],
                                   acct)
        n = len(b)
        buy, sell = b.is_buy, ~b.is_buy
        # the validators: first refusal wins
        reasons = np.full(n, None, dtype=object)
        refused = np.zeros(n, dtype=bool)
        for v in self.validators:
            found = v.check_many(b)
            hit = found.astype(bool) & ~refused
            reasons[hit] = found[hit]
            refused |= hit
        nothing_held = ~refused & sell & (b.position <= 0)
        reasons[nothing_held] = Reason.NO_POSITION
        refused |= nothing_held
        # the quantity: sells to the position, then T+1, the quantity limits and the lots cut it
        qty = np.where(sell, np.minimum(b.qty, b.position), b.qty)
        cut = np.full(n, "", dtype=object)
        t1 = sell & (b.sellable < qty) & ((b.locked > 0) | self.t_plus_1)
        qty = np.where(t1, b.sellable, qty)
        cut[t1] = TPlusOne.reason
        used = self._volume_used
        spent = np.fromiter((used.get(s, 0) for s in sids), dtype=np.int64, count=n) if used else 0
        for limit in self.limits:
            cap = limit.allowed_many(b) - spent
            binds = cap < qty
            qty = np.where(binds, np.maximum(cap, 0), qty)
            cut[binds] = limit.reason
        lot_min, lot_step = lots_of(self.rules, b) if self.lots else (np.ones(n, np.int64), np.ones(n, np.int64))
        rounds = buy | (qty != b.position)
        qty = np.where(rounds, Lot.round_down_many(qty, lot_min, lot_step), qty)
        none = ~refused & (qty <= 0)
        reasons[none] = np.where(cut[none].astype(bool), cut[none], Reason.LOT_SIZE)
        refused |= none                          # every order with a reason now; the rest trade
        # prices and fees as if every order filled in full; the cash then decides the buys in turn
        deal = self.deal.price_many(b)
        price = self.slippage.price_many(b, deal, qty)
        notional, total, columns, slip = self.costs.fees_many(keys, b.day, buy, b.exchanges, qty, price, deal)
        cash_path = self._cash_if_all_fill(b, refused, qty, price, notional, total, columns)
        if cash_path is not None:
            return self._all_fill(requests, b, cash_path, refused, reasons, cut, qty, price, deal, notional, slip,
                                  columns, detail)
        lists = (reasons.tolist(), cut.tolist(), qty.tolist(), price.tolist(), deal.tolist(), notional.tolist(),
                 total.tolist(), slip.tolist(), [c.tolist() for c in columns])
        return _outcomes(self._execute_in_turn(requests, b, *lists), detail)

    def _cash_if_all_fill(self, b: DayOrders, refused, qty, price, notional, total, columns) -> float | None:
        """The cash after the day's orders when no buy is cut for cash (each not refused fills the quantity the
        rules left it), else None. The cash each buy finds is a running sum over the orders before it, each
        term as `_book` adds it; a buy fits when `_execute_in_turn`'s quick test passes for it (for a whole
        number of lots q, round_down(cash / unit) >= q exactly when cash / unit >= q)."""
        open_ = ~refused
        charged = fees_charged(*columns)
        buy = b.is_buy
        delta = np.where(buy, -(notional + charged), notional - charged)[open_]
        path = np.add.accumulate(np.concatenate(([self.account.cash], delta)))
        buying = buy[open_]
        if buying.any():
            chosen = open_ & buy
            unit = self.costs.unit_cost_many(b.day, [e for e, c in zip(b.exchanges, chosen.tolist()) if c],
                                             price[chosen])
            cash = path[:-1][buying]
            with np.errstate(divide="ignore", invalid="ignore"):
                fits = (unit > 0) & (cash / unit >= qty[chosen]) & (total[chosen] <= cash + 1e-9)
            if not fits.all():
                return None
        return float(path[-1])

    def _all_fill(self, requests, b: DayOrders, cash: float, refused, reasons, cut, qty, price, deal, notional, slip,
                  columns, detail: bool):
        """`_execute_in_turn` for a day on which no buy is cut for cash (`_cash_if_all_fill`): each order not
        refused fills what the rules left it. The positions change in turn; the logs take the day's rows as
        columns, each value as `_log_row` and `_book` would log it."""
        acct, day, move = self.account, b.day, self._move
        fills = np.flatnonzero(~refused)
        full = qty >= np.where(b.is_buy, b.qty, np.minimum(b.qty, b.position))  # a sell never exceeds the holding
        status_code = np.where(refused, 0, np.where(full, 1, 2))
        statuses = _STATUSES[status_code].tolist()
        why = [str(r) if code == 0 else ("" if code == 1 else str(c))
               for r, c, code in zip(reasons.tolist(), cut.tolist(), status_code.tolist())]
        filled = np.where(refused, 0, qty)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(b.volume > 0, qty / b.volume, np.nan)[fills]
        at, f_qty, f_price = fills.tolist(), qty[fills], price[fills]
        symbols = b.symbols
        booked = []                                      # (size, cost, cost before, opened, closed) of each fill
        for i, sid, q, px, is_buy in zip(at, b.sid[fills].tolist(), f_qty.tolist(), f_price.tolist(),
                                         b.is_buy[fills].tolist()):
            moved = move(sid, symbols[i], day, is_buy, q, px)
            if detail:
                booked.append(moved)
        acct.cash = cash
        acct.version += len(at)                         # as `_book` counts each fill a change
        self.costs.charged_many([requests[i].key for i in at], notional[fills].tolist())
        refs = [_ref(r) for r in requests]
        sides = [r.side for r in requests]
        commission, stamp_duty, transfer_fee = (c[fills] for c in columns)
        f_slip = slip[fills]
        # the numbers as arrays: the logs give them back as the Python ints and floats `_log_row` and `_book` log
        self.order_log.extend({
            "date": [day] * len(requests), "symbol": list(symbols), "side": sides, "requested_qty": b.qty,
            "filled_qty": filled, "price": np.where(refused, math.nan, price), "status": statuses, "reason": why,
            "rebalance_date": [r.rebalance for r in requests], "attempt": [int(r.attempt) for r in requests],
            "ref": refs})
        self.trade_log.extend({
            "date": [day] * len(at), "symbol": [symbols[i] for i in at], "side": [sides[i] for i in at],
            "qty": f_qty, "price": f_price, "commission": commission, "stamp_duty": stamp_duty,
            "transfer_fee": transfer_fee, "slippage": f_slip, "kind": ["fill"] * len(at), "participation": share,
            "ref": [refs[i] for i in at]})
        if not detail:
            return DayFills(filled.tolist(), (status_code == 1).tolist(), why)
        outcomes = [OrderOutcome(req, status, reason) for req, status, reason in zip(requests, statuses, why)]
        columns = zip(f_qty.tolist(), f_price.tolist(), deal[fills].tolist(), commission.tolist(), stamp_duty.tolist(),
                      transfer_fee.tolist(), f_slip.tolist(), share.tolist(), booked)
        for i, (q, px, dl, fee1, fee2, fee3, sl, part, (size, cost, cost_before, opened, closed)) in zip(at, columns):
            outcomes[i].fill = Fill(q, px, dl, Costs(fee1, fee2, fee3, sl), part, size, cost, cost_before, opened,
                                    closed)
        return outcomes

    def _execute_in_turn(self, requests, b: DayOrders, reasons, cut, qty, price, deal, notional, total, slip,
                         columns) -> list[OrderOutcome]:
        """The sequential part of `execute_day`: the cash each buy may spend, then the account and the logs."""
        acct, costs, day = self.account, self.costs, b.day
        commission, stamp_duty, transfer_fee = columns
        volume = b.volume.tolist()
        sids = b.sid.tolist()
        buys = b.is_buy.tolist()
        position = b.position.tolist()
        outcomes, charged_keys, charged_notional = [], [], []
        for i, req in enumerate(requests):
            symbol, side, is_buy = b.symbols[i], req.side, buys[i]
            if reasons[i] is not None:
                outcomes.append(self._log_row(OrderOutcome(req, REJECTED, str(reasons[i])), day, symbol, side,
                                              int(req.qty)))
                continue
            q, reason = qty[i], cut[i]
            if is_buy:
                cash = acct.cash
                unit = costs.unit_cost(day, b.exchanges[i], price[i])
                lot = self.rules.lot(b.boards[i], day) if self.lots else ANY_LOT
                # `affordable` walks down from round_down(cash / unit) to the first quantity that fits: when q
                # is on that walk and fits, it gives q or more; otherwise ask it
                fits = unit > 0 and lot.round_down(cash / unit) >= q and total[i] <= cash + 1e-9
                afford = q if fits else costs.affordable(req.key, day, b.exchanges[i], price[i], cash, lot)
                if afford < q:
                    q = afford
                    if q <= 0:
                        outcomes.append(self._log_row(OrderOutcome(req, REJECTED, str(Reason.CASH)), day, symbol,
                                                      side, int(req.qty)))
                        continue
                    fill_costs = costs.fill_costs(req.key, day, side, b.exchanges[i], q, price[i], deal[i])
                    fill = self._book(req, sids[i], symbol, day, side, is_buy, volume[i], q, price[i], deal[i],
                                      fill_costs)
                    outcomes.append(self._log_row(OrderOutcome(req, PARTIAL, str(Reason.CASH), fill), day, symbol,
                                                  side, int(req.qty)))
                    continue
            charged_keys.append(req.key)
            charged_notional.append(notional[i])
            fill = self._book(req, sids[i], symbol, day, side, is_buy, volume[i], q, price[i], deal[i],
                              Costs(commission[i], stamp_duty[i], transfer_fee[i], slip[i]))
            wanted = req.qty if is_buy else min(req.qty, position[i])
            status = FILLED if q >= wanted else PARTIAL
            outcomes.append(self._log_row(OrderOutcome(req, status, "" if status == FILLED else str(reason), fill),
                                          day, symbol, side, int(req.qty)))
        costs.charged_many(charged_keys, charged_notional)
        return outcomes

    def book_external(self, req: OrderRequest, t: int, fills: list[dict]) -> OrderOutcome:
        """Record fills reported by a broker outside this core (basket files) for `req` on day t: their
        prices and fees as reported, the account and logs as for our own fills. The rest is unfilled."""
        held = self.account.position(req.sid)
        ctx = context_from_market(self.market, t, req.sid, req.side, req.qty, held.qty if held else 0,
                                  self.account.sellable(req.sid))
        deal = self.deal.price(ctx) if ctx.traded else math.nan
        done = None
        for f in fills:
            slip = 0.0 if math.isnan(deal) else (f["price"] - deal) * f["qty"] * (1.0 if ctx.is_buy else -1.0)
            fees = [f[kind] for kind in FEE_KINDS]
            if None in fees:                # a broker that reports no fee: the config's cost model charges it
                model = self.costs.fill_costs(req.key, ctx.day, ctx.side, ctx.exchange, int(f["qty"]),
                                              float(f["price"]), deal)
                fees = [getattr(model, kind) if fee is None else fee for kind, fee in zip(FEE_KINDS, fees)]
            costs = Costs(*fees, slip)
            one = self._apply(req, ctx, int(f["qty"]), float(f["price"]), deal, costs)
            done = one if done is None else Fill(
                done.qty + one.qty, (done.price * done.qty + one.price * one.qty) / (done.qty + one.qty), deal,
                Costs(*(x + y for x, y in zip(astuple(done.costs), astuple(one.costs)))), math.nan,
                one.size_after, one.cost_after, done.cost_before)
        if done is None:
            return self._refuse(req, ctx, Reason.UNFILLED)
        status = FILLED if done.qty >= req.qty else PARTIAL
        return self._log(OrderOutcome(req, status, "" if status == FILLED else Reason.UNFILLED, done), ctx)

    def _fill(self, req: OrderRequest, ctx: OrderContext, qty: int, price: float, deal: float) -> Fill:
        costs = self.costs.fill_costs(req.key, ctx.day, ctx.side, ctx.exchange, qty, price, deal)
        return self._apply(req, ctx, qty, price, deal, costs)

    def _apply(self, req: OrderRequest, ctx: OrderContext, qty: int, price: float, deal: float, costs: Costs) -> Fill:
        return self._book(req, ctx.sid, ctx.symbol, ctx.day, ctx.side, ctx.is_buy, ctx.volume, qty, price, deal, costs)

    def _book(self, req: OrderRequest, sid: int, symbol: str, day, side: str, is_buy: bool, volume: float, qty: int,
              price: float, deal: float, costs: Costs) -> Fill:
        """A fill of `qty` at `price` on the account and in the trade log."""
        acct = self.account
        size, cost, cost_before, opened, closed = self._move(sid, symbol, day, is_buy, qty, price)
        notional = qty * price
        if is_buy:
            acct.cash -= notional + costs.charged
        else:
            acct.cash += notional - costs.charged
        acct.changed()
        participation = qty / volume if volume > 0 else math.nan
        self.trade_log.append(TradeRow(day, symbol, side, qty, price, costs.commission, costs.stamp_duty,
                                       costs.transfer_fee, costs.slippage, "fill", participation, _ref(req)))
        return Fill(qty, price, deal, costs, participation, size, cost, cost_before, opened, closed)

    def _move(self, sid: int, symbol: str, day, is_buy: bool, qty: int, price: float) -> tuple:
        """A fill's change to the position (T+1 locks a buy; a position sold to nothing is gone) and to the
        volume used today: (size, cost, cost before, opened, closed)."""
        positions = self.account.positions
        p = positions.get(sid)
        if p is None:
            p = positions[sid] = Position(sid, symbol, day)
        cost_before = p.cost
        size, cost, opened, closed = p.update(qty if is_buy else -qty, price)
        if is_buy and self.t_plus_1:
            p.locked += qty
        if size == 0:
            del positions[sid]
            self._forget(sid)
        self._volume_used[sid] = self._volume_used.get(sid, 0) + qty
        return size, cost, cost_before, opened, closed

    def _refuse(self, req: OrderRequest, ctx: OrderContext, reason: str) -> OrderOutcome:
        return self._log(OrderOutcome(req, REJECTED, str(reason)), ctx)

    def _log(self, out: OrderOutcome, ctx: OrderContext) -> OrderOutcome:
        return self._log_row(out, ctx.day, ctx.symbol, ctx.side, ctx.qty)

    def _log_row(self, out: OrderOutcome, day, symbol: str, side: str, qty: int) -> OrderOutcome:
        req = out.request
        self.order_log.append(OrderRow(day, symbol, side, qty, out.filled_qty, out.price, out.status, out.reason,
                                       req.rebalance, int(req.attempt), _ref(req)))
        return out

    # ----- before the day's trading ---------------------------------------------------------
    def _entitle(self, e) -> None:
        p = self.account.positions[e.sid]
        self.account.cash += e.cash
        if e.shares > 0:
            cost = p.qty * p.cost
            p.qty += e.shares
            p.cost = cost / p.qty if p.qty else 0.0
            p.locked += e.shares

    def _settle_delisted(self, t: int, s) -> None:
        p = self.account.positions.pop(s.sid)
        self.account.cash += s.qty * s.price
        self._forget(s.sid)
        day = self.market.date_at(t)
        self.trade_log.append(TradeRow(day, p.symbol, Side.SELL, s.qty, s.price, 0.0, 0.0, 0.0, 0.0, kind="delist"))
        logger.debug(f"{day} {p.symbol}: delisted holding of {s.qty} settled at {s.price:.2f}")

    def _forget(self, sid: int) -> None:
        for model in self.payers:
            if hasattr(model, "forget"):
                model.forget(sid)


class _OncePerOrder:
    """The deal price model, asked once per order: strict price limits test the deal price before the core
    fills at it, and a VWAP costs a division and a rounding each time."""

    def __init__(self, model):
        self.model = model
        self._ctx: OrderContext | None = None
        self._price = math.nan
        self._orders: DayOrders | None = None
        self._prices = None

    def price(self, ctx: OrderContext) -> float:
        if ctx is not self._ctx:        # a new order (the last context is held, so its id is not reused)
            self._price = self.model.price(ctx)
            self._ctx = ctx
        return self._price

    def price_many(self, orders: DayOrders):
        if orders is not self._orders:
            self._prices = self.model.price_many(orders)
            self._orders = orders
        return self._prices

    def __getattr__(self, name: str):
        # Only for attributes of the model; `model` itself and dunders are looked up while copying or
        # unpickling, before `model` is set (a Backtrader optimisation pickles the broker and its core).
        if name == "model" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.model, name)


_STATUSES = np.array([REJECTED, FILLED, PARTIAL], dtype=object)      # by code: refused, filled in full, partly


class DayFills(NamedTuple):
    """What a retry book reads of a day's outcomes, an entry per request (`ExecutionCore.trade_day`)."""
    filled: list[int]                     # shares filled
    completed: list[bool]                 # filled in full
    reasons: list[str]                    # why not (empty when completed)


def _outcomes(outcomes: list[OrderOutcome], detail: bool):
    if detail:
        return outcomes
    return DayFills([o.filled_qty for o in outcomes], [o.status == FILLED for o in outcomes],
                    [o.reason for o in outcomes])


def _ref(req: OrderRequest) -> int:
    return req.key if isinstance(req.key, int) else 0


__all__ = ["ExecutionCore", "Costs"]
