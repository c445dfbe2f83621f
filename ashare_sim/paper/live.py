"""A day traded through a live broker (`paper run` with `paper.adapter: qmt`): the plan's orders sent, followed
to the end, what is unfilled cancelled at the configured time, every fill recorded once, and the broker's
positions and cash compared with the ledger.

Crash safety. Each order is written to the ledger's `broker_orders` under its remark (`as` + a tag of the
account + the day + the order's number, e.g. `as3fa92212010007`) and committed *before* it is sent; its
broker id is committed after. A run killed anywhere in between and started again waits
`paper.qmt.confirm_wait` seconds, asks the broker for the day's orders and adopts those that carry a remark
of ours: an order is never sent twice. Fills are kept by the broker's fill id, so a fill reported twice
(a repeated callback, a query after a reconnect) is recorded once.

Nothing is overwritten. The ledger is executed from the fills the broker reported; the broker's account is
never changed to match the ledger, nor the ledger to match the broker: `reconcile` lists the differences.

The broker is anything with the small surface of `Broker` below; `paper.qmt` adapts miniQMT's xtquant to it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Callable, Protocol

from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.execution.orders import Side
from ashare_sim.paper.ledger import Ledger
from ashare_sim.rules.table import round_to_tick

BEIJING = dt.timezone(dt.timedelta(hours=8))


class OrderState(IntEnum):
    """Where a broker order stands, as this module needs it (a broker adapter maps its own statuses)."""
    SENDING = 0          # written, maybe sent: a restart looks for it at the broker before sending
    LIVE = 1             # accepted, not finished (unfilled or partly filled)
    FILLED = 2           # final: filled in full
    CANCELLED = 3        # final: cancelled, possibly after a partial fill
    REJECTED = 4         # final: refused by the broker or the exchange

    @property
    def final(self) -> bool:
        return self in (OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED)


@dataclass(frozen=True)
class BrokerOrder:
    """An order as sent: the plan's request `request` of the day."""
    remark: str
    request: int
    symbol: str
    side: str
    qty: int
    price_type: str
    price: float


@dataclass(frozen=True)
class OrderUpdate:
    """The broker's word on one order (a callback or a query)."""
    remark: str
    order_id: int
    state: OrderState
    filled: int
    message: str = ""


@dataclass(frozen=True)
class TradeReport:
    """One fill the broker reported."""
    fill_id: str
    remark: str
    order_id: int
    symbol: str
    side: str
    qty: int
    price: float
    commission: float | None
    time: str


@dataclass(frozen=True)
class Disconnected:
    reason: str = ""


class BrokerError(Exception):
    """The broker cannot be reached or refused a request outright (a connection, not an order)."""


class Broker(Protocol):
    """What a live adapter gives the session. Calls block; `events` drains what callbacks reported."""
    name: str
    account_id: str

    def connect(self) -> None: ...
    def send(self, order: BrokerOrder) -> int: ...                  # the broker's order id; BrokerError
    def cancel(self, order_id: int) -> None: ...
    def orders(self) -> list[OrderUpdate]: ...                       # today's orders that carry a remark
    def trades(self) -> list[TradeReport]: ...                       # today's fills
    def positions(self) -> dict[str, int]: ...                       # symbol -> shares held
    def cash(self) -> float: ...
    def events(self, wait: float) -> list: ...                       # OrderUpdate | TradeReport | Disconnected
    def close(self) -> None: ...


# ----- the orders of a day -----------------------------------------------------------------------
def remark_tag(account: dict) -> str:
    """Four hex digits of the account's identity: two paper accounts on one broker account never share a
    remark. With the day and the order's number it fits miniQMT's 24-character remark."""
    return hashlib.sha256(f"{account['name']}|{account['start_date']}".encode()).hexdigest()[:4]


def remark_of(account: dict, day: dt.date, request: int) -> str:
    return f"as{remark_tag(account)}{day:%y%m%d}{request:04d}"


def protective_price(market, t: int, day: dt.date, symbol: str, side: str, band: float | None) -> float:
    """The limit price that keeps an order inside the day's limits: the limit itself (a marketable order
    that can never fill beyond it), or the last close x (1 +/- band) when `band` is set. On the tick, rounded
    against the trader's advantage (a buy down, a sell up) so it is never past the limit."""
    rules = market.rules
    sid = market.symbol_index[symbol]
    nxt = t + 1
    if nxt < market.n_days and market.date_at(nxt) == day and not math.isnan(market.high_limit[nxt, sid]):
        high, low = float(market.high_limit[nxt, sid]), float(market.low_limit[nxt, sid])
    else:                                       # a day after the data: the limits from the last close
        ratio = rules.limit_ratio(str(market.board[sid]), day, bool(market.is_st[t, sid]))
        close = float(market.last_close[t, sid])
        high, low = rules.limit_prices(close, ratio) if ratio is not None else (math.inf, rules.tick)
    last = float(market.last_close[t, sid])
    buy = side == Side.BUY
    if band is not None:
        wanted = last * (1 + band) if buy else last * (1 - band)
        price = min(wanted, high) if buy else max(wanted, low)
    else:
        price = high if buy else low
    if math.isinf(price):                       # no limit today (a new listing) and no band: 20% from the close
        price = last * 1.2
    tick = rules.tick
    ticks = math.floor(price / tick + 1e-9) if buy else math.ceil(price / tick - 1e-9)
    return float(round_to_tick(max(ticks, 1) * tick, tick))


# ----- the ledger's record of the broker ---------------------------------------------------------
def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def broker_orders(led: Ledger, day: dt.date) -> list[dict[str, Any]]:
    return led.rows("SELECT * FROM broker_orders WHERE date = ? ORDER BY request", day.isoformat())


def record_update(led: Ledger, u: OrderUpdate) -> bool:
    """Apply an order update; False when the remark is not one of ours (the user's own order)."""
    row = led.rows("SELECT state, filled FROM broker_orders WHERE remark = ?", u.remark)
    if not row:
        return False
    old = OrderState(row[0]["state"])
    # Callbacks may arrive out of order: a final state is never undone and the filled quantity never drops.
    state = old if old.final else u.state
    led.db.execute("UPDATE broker_orders SET state = ?, order_id = COALESCE(order_id, ?), filled = MAX(filled, ?), "
                   "message = CASE WHEN message = '' THEN ? ELSE message END, updated = ? WHERE remark = ?",
                   (int(state), u.order_id if u.order_id > 0 else None, u.filled, u.message, _now(), u.remark))
    return True


def record_trade(led: Ledger, day: dt.date, tr: TradeReport) -> bool:
    """Keep a fill once (by its id); True when it is new."""
    remark = tr.remark
    if not remark and tr.order_id:
        found = led.rows("SELECT remark FROM broker_orders WHERE order_id = ?", tr.order_id)
        remark = found[0]["remark"] if found else ""
    cur = led.db.execute("INSERT OR IGNORE INTO broker_fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (tr.fill_id, day.isoformat(), remark or None, tr.order_id or None, tr.symbol, tr.side,
                          int(tr.qty), float(tr.price), tr.commission, tr.time))
    return cur.rowcount == 1


# ----- one trading session ----------------------------------------------------------------------------
@dataclass
class SessionResult:
    date: str
    sent: int = 0
    adopted: int = 0                            # found at the broker after a crash: not sent again
    rejected: dict[str, str] = field(default_factory=dict)   # remark -> message
    cancelled: int = 0
    filled_orders: int = 0
    partial_orders: int = 0
    fills: int = 0
    duplicate_fills: int = 0
    foreign_fills: int = 0                      # fills of orders that are not ours (the user's own trading)
    reconnects: int = 0
    open_orders: int = 0                        # still live at the broker when the session ended

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SessionTimes:
    """When to stop: cancel what is unfilled at `cancel_at` (Beijing time), then wait `final_wait` seconds
    for the cancels to be confirmed. `now` is the clock (a test gives its own)."""
    cancel_at: dt.time
    final_wait: float = 60.0
    confirm_wait: float = 3.0
    poll: float = 0.5
    reconnect_tries: int = 5
    reconnect_wait: float = 2.0
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(BEIJING)


def trade_day(path, market, cfg, day: dt.date, broker: Broker, times: SessionTimes,
              band: float | None = None, known_ids: tuple[str, ...] = ()) -> SessionResult:
    """Send the plan of `day` to `broker`, follow it to the end and record what the broker reports."""
    from ashare_sim.paper.session import close_before

    t = close_before(market, day)
    result = SessionResult(day.isoformat())
    _connect(broker, times, first=True)
    held_at_broker = broker.positions()
    with Ledger.open(path, create=False, timeout=cfg.paper.lock_timeout) as led:
        acct = led.account()
        if acct is None:
            raise UserError(f"--account {led.path}: no account in it yet; `paper plan --date D` starts one")
        plan = led.plan(day)
        if plan is None or plan["status"] != "planned" or plan["based_on"] != acct["last_date"]:
            done = plan is not None and plan["status"] == "executed"
            raise UserError(f"--date {day}: " + ("already executed" if done else "no current plan to send; run "
                            f"`paper plan --date {day}` first"))
        _refuse_unknown_holdings(led, acct, held_at_broker, broker)
        requests = json.loads(plan["requests"])
        existing = {r["request"]: r for r in broker_orders(led, day)}
        crashed = any(OrderState(r["state"]) == OrderState.SENDING for r in existing.values())
        kind = cfg.paper.qmt.price_type
        for i, req in enumerate(requests):
            if i in existing:
                continue
            order = BrokerOrder(remark_of(acct, day, i), i, req["symbol"], req["side"], int(req["qty"]), kind,
                                protective_price(market, t, day, req["symbol"], req["side"], band))
            led.db.execute("INSERT INTO broker_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, '', ?)",
                           (order.remark, day.isoformat(), i, order.symbol, order.side, order.qty, order.price_type, order.price,
                            int(OrderState.SENDING), _now()))
        led.checkpoint()                                     # every order is on disk before one is sent
        if crashed:
            logger.warning(f"orders of {day} may have been sent by a run that stopped: waiting "
                           f"{times.confirm_wait:g} s, then looking for them at the broker by their remarks")
            time.sleep(times.confirm_wait)
        at_broker = {u.remark: u for u in broker.orders()}
        for row in broker_orders(led, day):
            if OrderState(row["state"]) == OrderState.SENDING:
                _send_one(led, day, broker, times, row, kind, at_broker, result)
                led.checkpoint()
        _follow(led, day, broker, times, result)
        _sync(led, day, broker, result)                    # the broker's own list is the last word
        led.checkpoint()
        rows = broker_orders(led, day)
        for r in rows:
            state = OrderState(r["state"])
            if state == OrderState.REJECTED:
                result.rejected[r["remark"]] = r["message"]
            elif state == OrderState.CANCELLED:
                result.cancelled += 1
            if state == OrderState.FILLED:
                result.filled_orders += 1
            elif 0 < r["filled"] < r["qty"]:
                result.partial_orders += 1
            if not state.final:
                result.open_orders += 1
        result.fills = led.rows("SELECT COUNT(*) AS n FROM broker_fills WHERE date = ? AND remark IS NOT NULL",
                                day.isoformat())[0]["n"]
        led.log_run("send", day, result.as_dict())
    return result


def _send_one(led, day, broker: Broker, times: SessionTimes, row: dict, kind: str, at_broker: dict,
              result: SessionResult) -> None:
    """Send one written order, unless the broker already has it (a run that stopped after sending it). A send
    that fails because the line dropped is sent again once, after a reconnect and a look at the broker."""
    if row["remark"] in at_broker:
        record_update(led, at_broker[row["remark"]])
        result.adopted += 1
        return
    order = BrokerOrder(row["remark"], row["request"], row["symbol"], row["side"], row["qty"], kind, row["price"])
    for attempt in (1, 2):
        try:
            order_id = broker.send(order)
        except BrokerError as exc:
            events = broker.events(times.poll)
            for ev in events:
                _apply(led, day, ev, broker, times, result)
            if attempt == 1 and any(isinstance(ev, Disconnected) for ev in events):
                if led.rows("SELECT 1 FROM broker_orders WHERE remark = ? AND state != ?", order.remark,
                            int(OrderState.SENDING)):
                    result.adopted += 1          # it reached the broker after all
                    return
                continue
            record_update(led, OrderUpdate(order.remark, 0, OrderState.REJECTED, 0, str(exc)))
            logger.warning(f"{order.side} {order.qty} {order.symbol}: refused by the broker ({exc})")
            return
        led.db.execute("UPDATE broker_orders SET state = ?, order_id = ?, updated = ? WHERE remark = ? AND state = ?",
                       (int(OrderState.LIVE), order_id, _now(), order.remark, int(OrderState.SENDING)))
        result.sent += 1
        return


def _refuse_unknown_holdings(led: Ledger, acct: dict, held: dict[str, int], broker: Broker) -> None:
    """A broker position in a stock this paper account never held: the broker account is not this account's
    alone, and every reconcile would be wrong. Refused before anything is sent."""
    # Names the account has or had, and the ones its orders (today's included) may have bought at the broker.
    ever = set()
    for sql in ("SELECT DISTINCT symbol FROM fills", "SELECT symbol FROM positions",
                "SELECT DISTINCT symbol FROM broker_orders"):
        ever |= {r["symbol"] for r in led.rows(sql)}
    for plan in led.rows("SELECT requests FROM plans WHERE status = 'planned'"):
        ever |= {r["symbol"] for r in json.loads(plan["requests"])}
    strange = sorted(s for s, q in held.items() if q > 0 and s not in ever)
    if strange:
        raise UserError(f"broker account {broker.account_id} holds {strange[0]} ({held[strange[0]]:,} shares)"
                        + (f" and {len(strange) - 1} more" if len(strange) > 1 else "")
                        + f", which paper account {acct['name']} ({led.path}) never had; trade the paper account on "
                          "a broker account of its own (nothing was sent)")


def _connect(broker: Broker, times: SessionTimes, first: bool = False) -> None:
    tries = max(1, times.reconnect_tries)
    for k in range(tries):
        try:
            broker.connect()
            return
        except BrokerError as exc:
            if k + 1 == tries:
                raise BrokerError(f"cannot connect after {tries} attempt(s): {exc}") from None
            logger.warning(f"{broker.name}: {'cannot connect' if first else 'connection lost'}, trying again "
                           f"({k + 1}/{tries}): {exc}")
            time.sleep(times.reconnect_wait)


def _follow(led: Ledger, day: dt.date, broker: Broker, times: SessionTimes, result: SessionResult) -> None:
    """Record callbacks until every order is final; at `cancel_at` cancel what is live, then wait for the
    cancels (at most `final_wait` seconds)."""
    cancelled_at = None
    while True:
        for ev in broker.events(times.poll):
            _apply(led, day, ev, broker, times, result)
        led.checkpoint()
        live = [r for r in broker_orders(led, day) if not OrderState(r["state"]).final]
        if not live:
            return
        now = times.now()
        if cancelled_at is None and now.time() >= times.cancel_at:
            _sync(led, day, broker, result)            # a fill may be on its way: cancel only what is still live
            live = [r for r in broker_orders(led, day) if not OrderState(r["state"]).final]
            for r in live:
                if r["order_id"]:
                    broker.cancel(int(r["order_id"]))
            cancelled_at = time.monotonic()
            logger.info(f"{times.cancel_at}: {len(live)} unfinished order(s) cancelled")
        elif cancelled_at is not None and time.monotonic() - cancelled_at > times.final_wait:
            _sync(led, day, broker, result)
            logger.warning(f"{len(live)} order(s) still open {times.final_wait:g} s after their cancel")
            return


def _apply(led, day, ev, broker, times, result) -> None:
    if isinstance(ev, OrderUpdate):
        record_update(led, ev)
    elif isinstance(ev, TradeReport):
        _trade(led, day, ev, result)
    elif isinstance(ev, Disconnected):
        result.reconnects += 1
        logger.warning(f"{broker.name}: disconnected ({ev.reason or 'no reason given'}); reconnecting")
        _connect(broker, times)
        _sync(led, day, broker, result)                 # what happened while the line was down


def _trade(led, day, tr: TradeReport, result: SessionResult) -> None:
    if record_trade(led, day, tr):
        if not led.rows("SELECT 1 FROM broker_fills WHERE fill_id = ? AND remark IS NOT NULL", tr.fill_id):
            result.foreign_fills += 1
    else:
        result.duplicate_fills += 1


def _sync(led, day, broker: Broker, result: SessionResult) -> None:
    for u in broker.orders():
        record_update(led, u)
    for tr in broker.trades():
        _trade(led, day, tr, result)


# ----- execute and reconcile -------------------------------------------------------------------------
def broker_fills_by_request(led: Ledger, day: dt.date, fees: str = "model") -> dict[int, list[dict]]:
    """The day's fills of our orders by the plan's request index, as `book_external` takes them (fees None:
    the cost model's)."""
    rows = led.rows("SELECT f.*, o.request FROM broker_fills f JOIN broker_orders o ON f.remark = o.remark "
                    "WHERE f.date = ? ORDER BY f.time, f.fill_id", day.isoformat())
    out: dict[int, list[dict]] = {}
    for r in rows:
        commission = r["commission"] if fees == "broker" and r["commission"] is not None else None
        out.setdefault(int(r["request"]), []).append(
            {"qty": int(r["qty"]), "price": float(r["price"]), "commission": commission, "stamp_duty": None,
             "transfer_fee": None, "time": r["time"], "fill_id": r["fill_id"]})
    return out


def open_orders(led: Ledger, day: dt.date) -> list[dict]:
    return [r for r in broker_orders(led, day) if not OrderState(r["state"]).final]


@dataclass
class Difference:
    what: str                   # a symbol, or "cash"
    ledger: float
    broker: float

    def text(self) -> str:
        if self.what == "cash":
            return f"cash: ledger {self.ledger:,.2f} CNY, broker {self.broker:,.2f} CNY"
        return f"{self.what}: ledger {self.ledger:,.0f} shares, broker {self.broker:,.0f}"


def reconcile(path, broker: Broker, cash_tolerance: float = 0.01) -> list[Difference]:
    """The broker's positions and cash against the ledger's; neither side is changed."""
    with Ledger.open(path, create=False, write=False) as led:
        ours = {p["symbol"]: p["qty"] for p in led.positions()}
        cash = led.account()["cash"]
    theirs = {s: q for s, q in broker.positions().items() if q}
    out = [Difference(s, ours.get(s, 0), theirs.get(s, 0)) for s in sorted(set(ours) | set(theirs))
           if ours.get(s, 0) != theirs.get(s, 0)]
    broker_cash = broker.cash()
    if abs(broker_cash - cash) > cash_tolerance:
        out.append(Difference("cash", cash, broker_cash))
    return out
