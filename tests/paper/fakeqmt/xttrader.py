"""XtQuantTrader and XtQuantTraderCallback with the vendor's method and callback names, over a scripted
exchange kept in `<path>/fake_state.json`.

Callbacks run one at a time on a worker thread of the trader's own, as the vendor's do. The script (the
state's `script` key) makes the exchange fill in full, in part or not at all, reject a code (limit-up, not
enough cash, not sellable), refuse a send, repeat or reorder callbacks, drop the connection after some
sends, fail to connect, SIGKILL the process right after an order is accepted, drop trade callbacks and
let the trade list run behind the order statuses, or answer an orders query with None. In `mirror` mode the
exchange fills each order exactly as the simulator did in a paper account of the simulated adapter (the
shadow), and its positions and cash are the shadow's.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.paper.fakeqmt import xtconstant as c
from tests.paper.fakeqmt.xttype import XtAsset, XtCancelError, XtOrder, XtOrderError, XtPosition, XtTrade

_LOCK = threading.Lock()
# Mirror mode: the client folder -> a function that trades the shadow's day. The exchange calls it when the
# day's first order arrives or its cash is first asked for, so before that it shows the day before.
ADVANCE: dict[str, object] = {}
LIVE = (c.ORDER_UNREPORTED, c.ORDER_WAIT_REPORTING, c.ORDER_REPORTED, c.ORDER_PART_SUCC)


def state_file(path) -> Path:
    return Path(path) / "fake_state.json"


def new_state(path, account_id: str, cash: float, **script) -> dict:
    state = {"account_id": account_id, "cash": cash, "positions": {}, "orders": [], "trades": [], "next_id": 1000,
             "sends": 0, "killed": False, "day": None, "mirror": None, "script": script}
    save(path, state)
    return state


def load(path) -> dict:
    return json.loads(state_file(path).read_text())


def save(path, state: dict) -> None:
    tmp = state_file(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(state_file(path))


class XtQuantTraderCallback:
    def on_connected(self): pass
    def on_disconnected(self): pass
    def on_account_status(self, status): pass
    def on_stock_asset(self, asset): pass
    def on_stock_order(self, order): pass
    def on_stock_trade(self, trade): pass
    def on_stock_position(self, position): pass
    def on_order_error(self, order_error): pass
    def on_cancel_error(self, cancel_error): pass
    def on_order_stock_async_response(self, response): pass
    def on_cancel_order_stock_async_response(self, response): pass


class XtQuantTrader:
    def __init__(self, path, session, callback=None):
        self.path, self.session, self.callback = str(path), int(session), callback
        self.connected = False
        self._dead = False
        self._pool = None

    # ----- lifecycle -----------------------------------------------------------------------------
    def register_callback(self, callback):
        self.callback = callback

    def start(self):
        self._pool = ThreadPoolExecutor(max_workers=1)

    def connect(self):
        with _LOCK:
            s = load(self.path)
            if s["script"].get("connect_failures", 0) > 0:
                s["script"]["connect_failures"] -= 1
                save(self.path, s)
                return -1
        self.connected = True
        return 0

    def subscribe(self, account):
        return 0 if self.connected and account.account_id == load(self.path)["account_id"] else -1

    def stop(self):
        self.connected = False
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def run_forever(self):
        raise RuntimeError("the fake never blocks forever")

    def _push(self, name, obj):
        if self._dead or self.callback is None:
            return
        self._pool.submit(getattr(self.callback, name), obj)

    # ----- trading -------------------------------------------------------------------------------
    def _advance(self) -> None:
        s = load(self.path)
        if s["mirror"] and s.get("advanced") != s["day"] and self.path in ADVANCE:
            ADVANCE[self.path]()
            s = load(self.path)
            s["advanced"] = s["day"]
            save(self.path, s)

    def order_stock(self, account, stock_code, order_type, order_volume, price_type, price, strategy_name="",
                    order_remark=""):
        if self._dead or not self.connected:
            return -1
        self._advance()
        with _LOCK:
            s = load(self.path)
            script = s["script"]
            if stock_code in script.get("refuse", {}):
                return -1
            s["next_id"] += 1
            oid = s["next_id"]
            order = {"stock_code": stock_code, "order_id": oid, "order_sysid": f"S{oid}", "order_type": order_type,
                     "order_volume": int(order_volume), "price_type": price_type, "price": price, "traded_volume": 0,
                     "traded_price": 0.0, "order_status": c.ORDER_REPORTED, "status_msg": "",
                     "strategy_name": strategy_name, "order_remark": order_remark[:24]}
            s["orders"].append(order)
            s["sends"] += 1
            pushes = [("on_stock_order", dict(order))]
            reject = script.get("reject", {}).get(stock_code)
            if reject:
                order.update(order_status=c.ORDER_JUNK, status_msg=reject[1])
                pushes.append(("on_order_error", ("error", oid, reject[0], reject[1], order_remark)))
                pushes.append(("on_stock_order", dict(order)))
            else:
                trades = self._fills(s, order)
                for k, (qty, px, fee) in enumerate(trades):
                    trade = {"order_type": order_type, "stock_code": stock_code, "traded_id": f"T{oid}-{k}",
                             "traded_time": 1585704600 + k, "traded_price": px, "traded_volume": qty,
                             "traded_amount": qty * px, "order_id": oid, "order_sysid": f"S{oid}",
                             "strategy_name": strategy_name, "order_remark": order_remark[:24], "commission": fee}
                    s["trades"].append(trade)
                    if not script.get("drop_trade_pushes"):
                        pushes.append(("on_stock_trade", trade))
                    if script.get("duplicate_callbacks"):
                        pushes.append(("on_stock_trade", trade))
                    self._settle(s, order_type, stock_code, qty, px, fee)
                filled = sum(q for q, _, _ in trades)
                if filled:
                    order.update(traded_volume=filled, traded_price=sum(q * p for q, p, _ in trades) / filled,
                                 order_status=c.ORDER_SUCCEEDED if filled == order_volume else c.ORDER_PART_SUCC)
                    pushes.append(("on_stock_order", dict(order)))
                if script.get("out_of_order"):
                    pushes.reverse()                # the final word first, the 'reported' status last
            save(self.path, s)
            if script.get("lose_reply") == s["sends"]:
                pushes = []                          # accepted at the exchange; the reply and pushes are lost
                oid = -1
            if script.get("kill_after_sends") == s["sends"] and not s["killed"]:
                s["killed"] = True
                save(self.path, s)
                os.kill(os.getpid(), signal.SIGKILL)     # accepted by the exchange, never confirmed to the caller
        for name, obj in pushes:
            self._push(name, self._object(name, obj))
        if script.get("disconnect_after_sends") == s["sends"]:
            if self.callback is not None:
                self._pool.submit(self.callback.on_disconnected)
            self._dead = True
        return oid

    def cancel_order_stock(self, account, order_id):
        if self._dead:
            return -1
        with _LOCK:
            s = load(self.path)
            order = next((o for o in s["orders"] if o["order_id"] == order_id), None)
            if s["script"].get("ignore_cancel") and order is not None:
                return 0                             # accepted, never carried out
            if order is None or order["order_status"] not in LIVE:
                err = XtCancelError(c.SECURITY_ACCOUNT, s["account_id"], order_id, 0, "", -61, "order not cancellable")
                self._push("on_cancel_error", err)
                return -1
            order["order_status"] = c.ORDER_PART_CANCEL if order["traded_volume"] else c.ORDER_CANCELED
            save(self.path, s)
        self._push("on_stock_order", self._object("on_stock_order", dict(order)))
        return 0

    # ----- queries -------------------------------------------------------------------------------
    def query_stock_orders(self, account, cancelable_only=False):
        if self._dead or self._fail_once("none_queries"):
            return None
        s = load(self.path)
        rows = [o for o in s["orders"] if not cancelable_only or o["order_status"] in LIVE]
        return [self._object("on_stock_order", dict(o)) for o in rows]

    def query_stock_trades(self, account):
        if self._dead:
            return None
        trades = load(self.path)["trades"]
        if self._fail_once("trades_lag"):             # the counter's trade list runs behind its order statuses
            trades = trades[:-1]
        return [self._object("on_stock_trade", t) for t in trades]

    def _fail_once(self, key: str) -> bool:
        """True the first `script[key]` times it is asked (a persisted count)."""
        with _LOCK:
            s = load(self.path)
            if s["script"].get(key, 0) > 0:
                s["script"][key] -= 1
                save(self.path, s)
                return True
        return False

    def query_stock_positions(self, account):
        if self._dead:
            return None
        s = load(self.path)
        held = _mirror_positions(s) if s["mirror"] else s["positions"]
        return [XtPosition(c.SECURITY_ACCOUNT, s["account_id"], code, int(v), int(v), 0.0, 0.0)
                for code, v in sorted(held.items()) if v]

    def query_stock_asset(self, account):
        if self._dead:
            return None
        self._advance()
        s = load(self.path)
        cash = _mirror_cash(s) if s["mirror"] else s["cash"]
        return XtAsset(c.SECURITY_ACCOUNT, s["account_id"], cash, 0.0, 0.0, cash)

    # ----- the exchange -----------------------------------------------------------------------------
    def _fills(self, s, order) -> list[tuple[int, float, float]]:
        script = s["script"]
        code, qty = order["stock_code"], order["order_volume"]
        side = "buy" if order["order_type"] == c.STOCK_BUY else "sell"
        if s["mirror"]:
            con = sqlite3.connect(s["mirror"])
            rows = con.execute("SELECT qty, price, commission + stamp_duty + transfer_fee FROM fills WHERE date = ? "
                               "AND symbol = ? AND side = ? AND kind = 'fill' ORDER BY id",
                               (s["day"], code, side)).fetchall()
            con.close()
            return [(int(q), float(p), float(f)) for q, p, f in rows]
        mode = script.get("fill", "full")
        price = script.get("prices", {}).get(code, order["price"])
        if mode == "none":
            return []
        if mode == "partial":
            part = int(qty * script.get("partial_share", 0.5)) // 100 * 100
            return [(part, price, 5.0)] if part else []
        return [(qty, price, 5.0)]

    def _settle(self, s, order_type, code, qty, px, fee) -> None:
        if s["mirror"]:
            return
        sign = 1 if order_type == c.STOCK_BUY else -1
        s["positions"][code] = s["positions"].get(code, 0) + sign * qty
        s["cash"] -= sign * qty * px + fee

    def _object(self, name, obj):
        s_id = load(self.path)["account_id"]
        if name == "on_stock_order":
            return XtOrder(c.SECURITY_ACCOUNT, s_id, order_time=1585704600, **obj)
        if name == "on_stock_trade":
            return XtTrade(c.SECURITY_ACCOUNT, s_id, **obj)
        if name == "on_order_error":
            _, oid, eid, msg, remark = obj
            return XtOrderError(c.SECURITY_ACCOUNT, s_id, oid, eid, msg, "ashare_sim", remark)
        return obj


def _started(s) -> bool:
    """The shadow account exists (before its first day the broker account is cash only)."""
    if not Path(s["mirror"]).exists():
        return False
    con = sqlite3.connect(s["mirror"])
    found = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'account'").fetchone()
    con.close()
    return found is not None


def _mirror_positions(s) -> dict[str, int]:
    if not _started(s):
        return {}
    con = sqlite3.connect(s["mirror"])
    rows = con.execute("SELECT symbol, qty FROM positions").fetchall()
    con.close()
    return {sym: int(q) for sym, q in rows}


def _mirror_cash(s) -> float:
    if not _started(s):
        return float(s["cash"])
    con = sqlite3.connect(s["mirror"])
    cash = con.execute("SELECT cash FROM account").fetchone()[0]
    con.close()
    return float(cash)
