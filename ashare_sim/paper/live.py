"""A day traded through a live broker (`paper run` with `paper.adapter: qmt`): the plan's orders sent, followed
to the end, what is unfilled cancelled at the configured time, every fill recorded once, and the broker's
positions and cash compared with the ledger.

Crash safety. A session holds the account's lock file for as long as it runs (a second `paper run` is
refused). Each order is written to the ledger's `broker_orders` under its remark (`as` + the account's
random tag + the day + the order's number, e.g. `as3fa9c12212010007`, 18 characters; miniQMT keeps 24)
and committed *before* it is sent; its broker id is committed after. A run killed anywhere in between
and started again the same day waits `paper.qmt.confirm_wait` seconds, asks the broker for the day's
orders and adopts those that carry its remark and match their symbol, side and quantity: an order is
never sent twice. A query that fails is an error, never an empty list. Orders are sent only on their
day, before `paper.qmt.cancel_at` (the broker lists today's orders only: a later run could not find them).
Fills are kept by the broker's fill id, so a fill reported twice is recorded once; a day is executed
only when the fills of every order add up to what the broker says it filled.

Nothing is overwritten. The ledger is executed from the fills the broker reported; the broker's account is
never changed to match the ledger, nor the ledger to match the broker: `reconcile` lists the differences.

The broker is anything with the small surface of `Broker` below; `paper.qmt` adapts miniQMT's xtquant to it.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import secrets
import time
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, Callable, Protocol

from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.common.filelock import exclusive
from ashare_sim.execution.orders import Side
from ashare_sim.paper.ledger import Ledger
from ashare_sim.rules.table import round_to_tick

BEIJING = dt.timezone(dt.timedelta(hours=8))
CANCEL_EVERY = 5.0                  # seconds between cancels of an order the broker has not yet cancelled
SEND_FAILED = "send failed: "       # the message of an order whose send raised and the broker did not list


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
    """The broker's word on one order (a callback or a query). `symbol`, `side`, `qty` are empty when the
    report does not carry them (an order error)."""
    remark: str
    order_id: int
    state: OrderState
    filled: int
    message: str = ""
    symbol: str = ""
    side: str = ""
    qty: int = 0


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
    """The broker cannot be reached, or answered a request with a failure (not an order's refusal)."""


class OverFilled(UserError):
    """The broker reports more shares filled for an order than it asked for: nothing is executed."""


class Broker(Protocol):
    """What a live adapter gives the session. Calls block; queries raise BrokerError rather than return
    nothing; `events` drains what callbacks reported."""
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
def remark_tag(led: Ledger) -> str:
    """Six random hex digits drawn once per account and kept in it: two paper accounts on one broker account
    never share a remark, whatever their names."""
    row = led.db.execute("SELECT value FROM meta WHERE key = 'remark_tag'").fetchone()
    if row is not None:
        return row[0]
    tag = secrets.token_hex(3)
    led.db.execute("INSERT INTO meta VALUES ('remark_tag', ?)", (tag,))
    return tag


def remark_of(tag: str, day: dt.date, request: int) -> str:
    return f"as{tag}{day:%y%m%d}{request:04d}"


def protective_price(market, t: int, day: dt.date, symbol: str, side: str, band: float | None) -> float:
    """The limit price that keeps an order inside the day's limits: the limit itself (a marketable order
    that can never fill beyond it), or the reference close x (1 +/- band) when `band` is set. The reference
    is the exchange's: the last close ex-right when `day` is an ex-date of the dividends table. On the tick,
    rounded against the trader's advantage (a buy down, a sell up) so it is never past the limit."""
    rules = market.rules
    sid = market.symbol_index[symbol]
    nxt = t + 1
    reference = _reference_close(market, t, day, sid)
    if nxt < market.n_days and market.date_at(nxt) == day and not math.isnan(market.high_limit[nxt, sid]):
        high, low = float(market.high_limit[nxt, sid]), float(market.low_limit[nxt, sid])
    else:                                       # a day after the data: the limits from the reference close
        ratio = rules.limit_ratio(str(market.board[sid]), day, bool(market.is_st[t, sid]))
        high, low = rules.limit_prices(reference, ratio) if ratio is not None else (math.inf, rules.tick)
    buy = side == Side.BUY
    if band is not None:
        wanted = reference * (1 + band) if buy else reference * (1 - band)
        price = min(wanted, high) if buy else max(wanted, low)
    else:
        price = high if buy else low
    if math.isinf(price):                       # no limit today (a new listing) and no band: 20% from the close
        price = reference * 1.2
    tick = rules.tick
    ticks = math.floor(price / tick + 1e-9) if buy else math.ceil(price / tick - 1e-9)
    return float(round_to_tick(max(ticks, 1) * tick, tick))


def _reference_close(market, t: int, day: dt.date, sid: int) -> float:
    close = float(market.last_close[t, sid])
    div = market.dividends
    if div is None or not len(div):
        return close
    rows = div[(div["sid"] == sid) & (div["ex_date"] == dt.datetime.combine(day, dt.time()))]
    if not len(rows):
        return close
    cash, bonus = float(rows["cash_per_share"].sum()), float(rows["bonus_per_share"].sum())
    return (close - cash) / (1.0 + bonus)


# ----- the ledger's record of the broker ---------------------------------------------------------
def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def broker_orders(led: Ledger, day: dt.date) -> list[dict[str, Any]]:
    return led.rows("SELECT * FROM broker_orders WHERE date = ? ORDER BY request", day.isoformat())


def _matches(row: dict, u: OrderUpdate) -> bool:
    """An update carries our remark and, when it says them, our symbol, side and quantity."""
    return ((not u.symbol or u.symbol == row["symbol"]) and (not u.side or u.side == row["side"])
            and (not u.qty or u.qty == row["qty"]))


def record_update(led: Ledger, day: dt.date, u: OrderUpdate) -> bool:
    """Apply an order update of `day`; False when it is not one of ours (the user's own order)."""
    found = led.rows("SELECT * FROM broker_orders WHERE remark = ? AND date = ?", u.remark, day.isoformat())
    if not found or not _matches(found[0], u):
        return False
    old = OrderState(found[0]["state"])
    # Callbacks may arrive out of order: a final state is never undone and the filled quantity never drops.
    # A send we called failed is the exception: the broker's own word on the order overrides it.
    revived = old == OrderState.REJECTED and found[0]["message"].startswith(SEND_FAILED) and u.order_id > 0
    state = old if old.final and not revived else u.state
    if revived:
        led.db.execute("UPDATE broker_orders SET message = '' WHERE remark = ?", (u.remark,))
    led.db.execute("UPDATE broker_orders SET state = ?, order_id = COALESCE(order_id, ?), filled = MAX(filled, ?), "
                   "message = CASE WHEN message = '' THEN ? ELSE message END, updated = ? WHERE remark = ?",
                   (int(state), u.order_id if u.order_id > 0 else None, u.filled, u.message, _now(), u.remark))
    if u.order_id > 0:             # fills reported before the order's id was known get their remark now
        led.db.execute("UPDATE broker_fills SET remark = ? WHERE date = ? AND order_id = ? AND remark IS NULL",
                       (u.remark, day.isoformat(), u.order_id))
    return True


def record_trade(led: Ledger, day: dt.date, tr: TradeReport) -> str:
    """Keep a fill once (by its id): 'ours', 'foreign' (an order that is not ours) or 'repeat'."""
    remark = None
    ours = led.rows("SELECT remark, symbol, side FROM broker_orders WHERE date = ? AND (remark = ? OR order_id = ?)",
                    day.isoformat(), tr.remark, tr.order_id or -1)
    if ours and ours[0]["symbol"] == tr.symbol and ours[0]["side"] == tr.side:
        remark = ours[0]["remark"]
    cur = led.db.execute("INSERT OR IGNORE INTO broker_fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (tr.fill_id, day.isoformat(), remark, tr.order_id or None, tr.symbol, tr.side,
                          int(tr.qty), float(tr.price), tr.commission, tr.time))
    if cur.rowcount != 1:
        return "repeat"
    return "ours" if remark else "foreign"


def unaccounted(led: Ledger, day: dt.date) -> list[dict]:
    """Orders whose recorded fills fall short of what the broker says it filled (fills still on their way):
    the day cannot be executed yet."""
    return [r for r in _booked(led, day) if r["booked"] < r["filled"]]


def over_filled(led: Ledger, day: dt.date) -> list[dict]:
    """Orders with more shares in fills than the order asked for: a broker account that is not as it should
    be (an order sent twice); nothing is executed."""
    return [r for r in _booked(led, day) if r["booked"] > r["qty"]]


def _booked(led: Ledger, day: dt.date) -> list[dict]:
    return led.rows("SELECT o.remark, o.symbol, o.side, o.qty, o.filled, COALESCE(SUM(f.qty), 0) AS booked "
                    "FROM broker_orders o LEFT JOIN broker_fills f ON f.remark = o.remark AND f.date = o.date "
                    "AND f.symbol = o.symbol AND f.side = o.side WHERE o.date = ? GROUP BY o.remark",
                    day.isoformat())


def unfinished_days(led: Ledger, before: dt.date) -> list[str]:
    """Days before `before` whose orders went out (to the broker, or as a basket file) but which were never
    executed: a later day planned without their fills would trade the same names again."""
    return [r["date"] for r in led.rows(
        "SELECT DISTINCT p.date FROM plans p WHERE p.status = 'planned' AND p.date < ? AND (p.date IN "
        "(SELECT date FROM broker_orders) OR p.date IN (SELECT date FROM runs WHERE command = 'basket')) "
        "ORDER BY p.date", before.isoformat())]


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
    missing_fills: int = 0                      # orders whose reported fills fall short of their filled volume
    over_fills: int = 0                         # orders with more shares in fills than they asked for

    @property
    def complete(self) -> bool:
        return not self.open_orders and not self.missing_fills and not self.over_fills

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SessionTimes:
    """When to stop: cancel what is unfilled at `cancel_at` (Beijing time), then wait `final_wait` seconds
    for the cancels and the last fills. `clock_check`: send only on the day itself before `cancel_at`.
    `now` is the clock (a test gives its own)."""
    cancel_at: dt.time
    final_wait: float = 60.0
    confirm_wait: float = 3.0
    poll: float = 0.5
    reconnect_tries: int = 5
    reconnect_wait: float = 2.0
    clock_check: bool = True
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(BEIJING)


def session_lock(path: Path):
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--account {path}: cannot create its folder ({exc.strerror}); choose another path") from None
    return exclusive(path.with_name(path.name + ".lock"), f"--account {path}", "a paper run is trading it")


def trade_day(path, market, cfg, day: dt.date, broker: Broker, times: SessionTimes,
              band: float | None = None) -> SessionResult:
    """Send the plan of `day` to `broker` (connected), follow it to the end and record what it reports. The
    caller holds `session_lock(path)`."""
    from ashare_sim.paper.session import close_before

    t = close_before(market, day)
    result = SessionResult(day.isoformat())
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
        refuse_unknown_holdings(led, acct, held_at_broker, broker)
        requests = json.loads(plan["requests"])
        existing = {r["request"]: r for r in broker_orders(led, day)}
        unsent = [i for i in range(len(requests)) if i not in existing] + \
                 [i for i, r in existing.items() if OrderState(r["state"]) == OrderState.SENDING]
        if unsent:
            check_clock(day, times, led.path)
        elif times.clock_check and times.now().date() > day:
            # The broker lists only today's orders and fills: a past day is complete now or never from it.
            _summarise(led, day, result)
            if result.open_orders or result.missing_fills or result.over_fills:
                raise UserError(f"--date {day}: its orders are not all final with their fills recorded, and the "
                                f"broker no longer lists that day; record the day from the terminal's export of its "
                                f"fills: `paper execute --account {led.path} --date {day} --fills FILE`")
            return result
        tag = remark_tag(led)
        kind = cfg.paper.qmt.price_type
        for i, req in enumerate(requests):
            if i in existing:
                continue
            order = BrokerOrder(remark_of(tag, day, i), i, req["symbol"], req["side"], int(req["qty"]), kind,
                                protective_price(market, t, day, req["symbol"], req["side"], band))
            led.db.execute("INSERT INTO broker_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, '', ?)",
                           (order.remark, day.isoformat(), i, order.symbol, order.side, order.qty, order.price_type,
                            order.price, int(OrderState.SENDING), _now()))
        led.checkpoint()                                     # every order is on disk before one is sent
        if any(OrderState(r["state"]) == OrderState.SENDING for r in existing.values()):
            logger.warning(f"orders of {day} may have been sent by a run that stopped: waiting "
                           f"{times.confirm_wait:g} s, then looking for them at the broker by their remarks")
            time.sleep(times.confirm_wait)
        at_broker = {u.remark: u for u in broker.orders()}
        for row in broker_orders(led, day):
            if OrderState(row["state"]) == OrderState.SENDING:
                _send_one(led, day, broker, times, row, kind, at_broker, result)
                led.checkpoint()
        _sync(led, day, broker, times, result)          # what happened while an earlier run was down
        _follow(led, day, broker, times, result)
        _summarise(led, day, result)
        led.log_run("send", day, result.as_dict())
    return result


def check_clock(day: dt.date, times: SessionTimes, path) -> None:
    """Orders go out on their own day, before the cancel time: the broker lists only today's orders, so a run
    on another day could neither find what an earlier one sent nor follow what it sends."""
    if not times.clock_check:
        return
    now = times.now()
    if now.date() != day:
        raise UserError(f"--date {day}: it is {now.date()} in Beijing; a day's orders are sent on that day only. "
                        f"If a run of {day} stopped before its end, record that day's fills from the terminal's "
                        f"export: `paper execute --account {path} --date {day} --fills FILE`")
    if now.time() >= times.cancel_at:
        raise UserError(f"--date {day}: it is {now:%H:%M:%S} in Beijing, past paper.qmt.cancel_at "
                        f"({times.cancel_at}); nothing is sent after it")


def _send_one(led, day, broker: Broker, times: SessionTimes, row: dict, kind: str, at_broker: dict,
              result: SessionResult) -> None:
    """Send one written order, unless the broker already has it (a run that stopped after sending it). A
    send that fails is looked up at the broker before it is called refused (it may have got through)."""
    if row["remark"] in at_broker:
        if record_update(led, day, at_broker[row["remark"]]):
            result.adopted += 1
            return
        raise UserError(f"the broker has an order with remark {row['remark']} that is not this account's "
                        f"{row['side']} of {row['qty']:,} {row['symbol']}; is another program using its remarks? "
                        "(nothing more was sent)")
    current = led.rows("SELECT state FROM broker_orders WHERE remark = ?", row["remark"])
    if OrderState(current[0]["state"]) != OrderState.SENDING:
        return
    order = BrokerOrder(row["remark"], row["request"], row["symbol"], row["side"], row["qty"], kind, row["price"])
    for attempt in (1, 2):
        try:
            order_id = broker.send(order)
        except BrokerError as exc:
            # It may have got through (a lost reply): look for it after a while before anything else.
            events = broker.events(times.poll)
            for ev in events:
                _apply(led, day, ev, broker, times, result)
            time.sleep(times.confirm_wait)
            try:
                there = {u.remark: u for u in broker.orders()}
            except BrokerError:
                _reconnect(broker, times, result)
                there = {u.remark: u for u in broker.orders()}
            if order.remark in there and record_update(led, day, there[order.remark]):
                result.adopted += 1
                return
            # Sent again only when the line had dropped (now re-made) and the broker does not list it; otherwise
            # refused as far as the broker's list tells, and a later update that shows it still counts.
            if attempt == 1 and any(isinstance(ev, Disconnected) for ev in events):
                continue
            record_update(led, day, OrderUpdate(order.remark, 0, OrderState.REJECTED, 0, SEND_FAILED + str(exc)))
            logger.warning(f"{order.side} {order.qty} {order.symbol}: refused by the broker ({exc})")
            return
        led.db.execute("UPDATE broker_orders SET state = ?, order_id = ?, updated = ? WHERE remark = ? AND state = ?",
                       (int(OrderState.LIVE), order_id, _now(), order.remark, int(OrderState.SENDING)))
        result.sent += 1
        return


def refuse_unknown_holdings(led: Ledger | None, acct: dict | None, held: dict[str, int], broker: Broker,
                            path=None) -> None:
    """A broker position in a stock this paper account never held nor ordered: the broker account is not this
    account's alone, and every reconcile would be wrong. Refused before anything is sent."""
    ever: set[str] = set()
    if led is not None:
        # Names the account has or had, and the ones its orders (today's included) may have bought.
        sqls = ["SELECT DISTINCT symbol FROM fills", "SELECT symbol FROM positions"]
        if led.has_table("broker_orders"):               # schema 1 (read only) has none
            sqls.append("SELECT DISTINCT symbol FROM broker_orders")
        for sql in sqls:
            ever |= {r["symbol"] for r in led.rows(sql)}
        for plan in led.rows("SELECT requests FROM plans WHERE status = 'planned'"):
            ever |= {r["symbol"] for r in json.loads(plan["requests"])}
    strange = sorted(s for s, q in held.items() if q > 0 and s not in ever)
    if strange:
        name = acct["name"] if acct else "(new)"
        raise UserError(f"broker account {broker.account_id} holds {strange[0]} ({held[strange[0]]:,} shares)"
                        + (f" and {len(strange) - 1} more" if len(strange) > 1 else "")
                        + f", which paper account {name} ({led.path if led else path}) never had; trade the paper "
                          "account on a broker account of its own (nothing was sent)")


def connect(broker: Broker, times: SessionTimes, first: bool = True) -> None:
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


def _reconnect(broker: Broker, times: SessionTimes, result: SessionResult) -> None:
    result.reconnects += 1
    connect(broker, times, first=False)


def _follow(led: Ledger, day: dt.date, broker: Broker, times: SessionTimes, result: SessionResult) -> None:
    """Record callbacks until every order is final and its fills add up; at `cancel_at` cancel what is live
    (again every few seconds until the broker confirms), then wait at most `final_wait` seconds."""
    cancel_from = last_cancel = None
    while True:
        events = broker.events(times.poll)
        for ev in events:
            _apply(led, day, ev, broker, times, result)
        live = [r for r in broker_orders(led, day) if not OrderState(r["state"]).final]
        if not live:
            _sync(led, day, broker, times, result)          # the broker's own lists are the last word
            if not unaccounted(led, day):
                led.checkpoint()
                return
        if events:
            led.checkpoint()
        now = times.now()
        if cancel_from is None and now.time() >= times.cancel_at:
            cancel_from = time.monotonic()
        if cancel_from is not None:
            if last_cancel is None or time.monotonic() - last_cancel >= CANCEL_EVERY:
                _sync(led, day, broker, times, result)     # a fill may be on its way: cancel only what is live
                live = [r for r in broker_orders(led, day) if not OrderState(r["state"]).final]
                for r in live:
                    if r["order_id"]:
                        broker.cancel(int(r["order_id"]))
                if live and last_cancel is None:
                    logger.info(f"{times.cancel_at}: {len(live)} unfinished order(s) cancelled")
                last_cancel = time.monotonic()
                led.checkpoint()
            if time.monotonic() - cancel_from > times.final_wait:
                _sync(led, day, broker, times, result)
                led.checkpoint()
                return


def _apply(led, day, ev, broker, times, result) -> None:
    if isinstance(ev, OrderUpdate):
        record_update(led, day, ev)
    elif isinstance(ev, TradeReport):
        _trade(led, day, ev, result)
    elif isinstance(ev, Disconnected):
        logger.warning(f"{broker.name}: disconnected ({ev.reason or 'no reason given'}); reconnecting")
        _reconnect(broker, times, result)
        _sync(led, day, broker, times, result)           # what happened while the line was down


def _trade(led, day, tr: TradeReport, result: SessionResult) -> None:
    kind = record_trade(led, day, tr)
    if kind == "repeat":
        result.duplicate_fills += 1
    elif kind == "foreign":
        result.foreign_fills += 1


def _sync(led, day, broker: Broker, times: SessionTimes, result: SessionResult) -> None:
    try:
        orders, trades = broker.orders(), broker.trades()
    except BrokerError as exc:
        logger.warning(f"{broker.name}: a query failed ({exc}); reconnecting")
        _reconnect(broker, times, result)
        orders, trades = broker.orders(), broker.trades()
    for u in orders:
        record_update(led, day, u)
    for tr in trades:
        _trade(led, day, tr, result)


def _summarise(led: Ledger, day: dt.date, result: SessionResult) -> None:
    for r in broker_orders(led, day):
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
    result.missing_fills = len(unaccounted(led, day))
    result.over_fills = len(over_filled(led, day))
    result.fills = led.rows("SELECT COUNT(*) AS n FROM broker_fills WHERE date = ? AND remark IS NOT NULL",
                            day.isoformat())[0]["n"]


# ----- execute and reconcile -------------------------------------------------------------------------
def broker_fills_by_request(led: Ledger, day: dt.date, fees: str = "model") -> dict[int, list[dict]]:
    """The day's fills of our orders by the plan's request index, as `book_external` takes them (fees None:
    the cost model's)."""
    rows = led.rows("SELECT f.*, o.request FROM broker_fills f JOIN broker_orders o ON f.remark = o.remark "
                    "AND f.date = o.date AND f.symbol = o.symbol AND f.side = o.side "
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
    broker_cash = broker.cash()
    theirs = {s: q for s, q in broker.positions().items() if q}
    out = [Difference(s, ours.get(s, 0), theirs.get(s, 0)) for s in sorted(set(ours) | set(theirs))
           if ours.get(s, 0) != theirs.get(s, 0)]
    if abs(broker_cash - cash) > cash_tolerance:
        out.append(Difference("cash", cash, broker_cash))
    return out
