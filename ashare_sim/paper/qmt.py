"""QMT / miniQMT through its Python API, xtquant (`XtQuantTrader`): the live broker of `paper.adapter: qmt`.

xtquant is not a dependency of this project: its wheel holds Windows binaries only, and importing it asks
PyPI for its latest version. It is imported when this adapter is used (`paper run`), never before, from the package
named by `paper.qmt.api` (`xtquant`; a broker's own build may be named differently). The client's folder
and the account id come from the environment (`QMT_PATH`, `QMT_ACCOUNT_ID`) or the config; nothing secret is
written by this project.

What the adapter relies on (xtquant's documented surface): `XtQuantTrader(path, session)` with
`register_callback`, `start`, `connect` (0 = connected), `subscribe(account)` (0 = subscribed),
`order_stock(account, code, order_type, volume, price_type, price, strategy_name, order_remark)` (the
order id, or -1), `cancel_order_stock(account, order_id)` (0 = cancel sent), `query_stock_orders`,
`query_stock_trades`, `query_stock_positions`, `query_stock_asset` and `stop`; `StockAccount(account_id,
account_type)`; and the callbacks `on_disconnected`, `on_stock_order`, `on_stock_trade`, `on_order_error`,
`on_cancel_error`. Callbacks run on xtquant's own thread: they only put what they got on a queue, which
the session drains on its thread (a query from inside a callback would deadlock the client).
"""
from __future__ import annotations

import contextlib
import importlib
import os
import sys
import queue
import time
from types import ModuleType
from typing import Any

from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.execution.orders import Side
from ashare_sim.paper.live import BrokerError, BrokerOrder, Disconnected, OrderState, OrderUpdate, TradeReport

# The xtconstant values the adapter speaks (a contract test compares them with xtquant's own when it
# is importable).
STOCK_BUY, STOCK_SELL = 23, 24
FIX_PRICE = 11
# Market order types by exchange: the exchanges allow different ones (xtconstant names in comments).
PRICE_TYPES: dict[str, dict[str, int]] = {
    "limit": {"SH": 11, "SZ": 11, "BJ": 11},                   # FIX_PRICE at the protective price
    "best5_cancel": {"SH": 42, "BJ": 42, "SZ": 47},            # MARKET_SH_CONVERT_5_CANCEL / MARKET_SZ_CONVERT_5_CANCEL
    "peer_best": {"SH": 44, "SZ": 44, "BJ": 44},               # MARKET_PEER_PRICE_FIRST
    "own_best": {"SH": 45, "SZ": 45, "BJ": 45},                # MARKET_MINE_PRICE_FIRST
}
# xtconstant.ORDER_* -> where the order stands.
ORDER_STATES: dict[int, OrderState] = {
    48: OrderState.LIVE, 49: OrderState.LIVE, 50: OrderState.LIVE, 51: OrderState.LIVE,   # unreported .. cancel sent
    52: OrderState.LIVE, 55: OrderState.LIVE,                                            # partly filled, live
    53: OrderState.CANCELLED, 54: OrderState.CANCELLED,                                  # (partly filled,) cancelled
    56: OrderState.FILLED, 57: OrderState.REJECTED, 255: OrderState.LIVE,
}
STRATEGY_NAME = "ashare_sim"
ENV_PATH, ENV_ACCOUNT = "QMT_PATH", "QMT_ACCOUNT_ID"


def load_api(package: str) -> tuple[ModuleType, ModuleType]:
    """(xttrader, xttype) of the xtquant package named `package`; a clear error when it cannot be imported."""
    try:
        # xtquant prints a line about its version when imported: keep it out of the command's output
        with contextlib.redirect_stdout(sys.stderr):
            return importlib.import_module(f"{package}.xttrader"), importlib.import_module(f"{package}.xttype")
    except ImportError as exc:
        raise UserError(f"paper.qmt.api: cannot import {package}.xttrader ({exc}); install xtquant in this Python "
                        "(pip install xtquant; it runs on Windows beside a logged-in miniQMT client)") from None


class QmtBroker:
    """`paper.live.Broker` over an XtQuantTrader."""

    name = "qmt"

    def __init__(self, params, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.path = env.get(ENV_PATH) or params.path
        self.account_id = env.get(ENV_ACCOUNT) or params.account_id
        if not self.path:
            raise UserError(f"paper.qmt.path: the miniQMT client's userdata_mini folder is not set; set {ENV_PATH} "
                            "or paper.qmt.path")
        if not self.account_id:
            raise UserError(f"paper.qmt.account_id: the broker account is not set; set {ENV_ACCOUNT} (or "
                            "paper.qmt.account_id)")
        if not os.path.isdir(self.path):
            raise UserError(f"paper.qmt.path: {self.path} is not a folder; give the miniQMT client's userdata_mini "
                            f"folder ({ENV_PATH} or paper.qmt.path)")
        self.params = params
        self.xttrader, xttype = load_api(params.api)
        self.account = xttype.StockAccount(str(self.account_id), params.account_type)
        if isinstance(self.account, str):         # xtquant returns its complaint instead of raising
            raise UserError(f"paper.qmt.account_id: {self.account}")
        self.trader = None
        self._events: queue.Queue = queue.Queue()
        self._sessions = 0

    # ----- connection -------------------------------------------------------------------------
    def connect(self) -> None:
        if self.trader is not None:
            try:
                self.trader.stop()
            except Exception:               # noqa: BLE001  (a dead client: a new one is made below)
                pass
        self._sessions += 1
        # A session id may not be reused within seconds of its last use: a new one on each (re)connect.
        session = (self.params.session_id or int(time.time()) % 1_000_000 * 100) + self._sessions
        trader = self.xttrader.XtQuantTrader(str(self.path), session)
        trader.register_callback(_callback(self.xttrader, self._events))
        try:
            trader.start()
            code = trader.connect()
            if code != 0:
                raise BrokerError(f"connect() returned {code}: is the miniQMT client running and logged in, and is "
                                  f"{self.path} its userdata_mini folder?")
            code = trader.subscribe(self.account)
            if code != 0:
                raise BrokerError(f"subscribe({self.account_id}) returned {code}: is the account logged in?")
        except BaseException as exc:
            with contextlib.suppress(Exception):     # a failed client must not go on feeding the queue
                trader.stop()
            if isinstance(exc, BrokerError) or not isinstance(exc, Exception):
                raise
            raise BrokerError(f"connect: {exc}") from None
        self.trader = trader

    def close(self) -> None:
        if self.trader is not None:
            self.trader.stop()
            self.trader = None

    # ----- orders -----------------------------------------------------------------------------
    def send(self, order: BrokerOrder) -> int:
        exchange = order.symbol.rsplit(".", 1)[-1]
        price_type = PRICE_TYPES[order.price_type][exchange]
        order_type = STOCK_BUY if order.side == Side.BUY else STOCK_SELL
        order_id = self._call("order_stock", order.symbol, order_type, int(order.qty), price_type,
                              float(order.price), STRATEGY_NAME, order.remark)
        if order_id is None or int(order_id) < 0:
            raise BrokerError(f"order_stock returned {order_id}")
        return int(order_id)

    def cancel(self, order_id: int) -> None:
        code = self._call("cancel_order_stock", int(order_id))
        if code != 0:                           # e.g. it filled meanwhile: its final status tells
            logger.info(f"qmt: cancel of order {order_id} returned {code}")

    def orders(self) -> list[OrderUpdate]:
        return [order_update(o) for o in self._query("query_stock_orders", False) if o.order_remark]

    def trades(self) -> list[TradeReport]:
        return [trade_report(t) for t in self._query("query_stock_trades")]

    def positions(self) -> dict[str, int]:
        return {p.stock_code: int(p.volume) for p in self._query("query_stock_positions")}

    def _call(self, name: str, *args):
        """A call on the client; its own failures (a native exception, no client) are BrokerErrors."""
        if self.trader is None:
            raise BrokerError("not connected")
        try:
            return getattr(self.trader, name)(self.account, *args)
        except Exception as exc:                 # noqa: BLE001  (the native client's own exceptions)
            raise BrokerError(f"{name}: {exc}") from None

    def _query(self, name: str, *args) -> list:
        """A list query; xtquant answers None when it failed (or, it says, when there is nothing): asked once
        more, then an error, never taken for an empty account (a restart would send its orders again)."""
        if self.trader is None:
            raise BrokerError("not connected")
        for _ in range(2):
            try:
                rows = getattr(self.trader, name)(self.account, *args)
            except Exception as exc:             # noqa: BLE001  (the native client's own exceptions)
                raise BrokerError(f"{name}: {exc}") from None
            if rows is not None:
                return list(rows)
            time.sleep(0.2)
        raise BrokerError(f"{name}({self.account_id}) gave nothing (None) twice")

    def cash(self) -> float:
        asset = self._call("query_stock_asset")
        if asset is None:
            raise BrokerError(f"query_stock_asset({self.account_id}) gave nothing")
        return float(asset.cash) + float(asset.frozen_cash)

    def events(self, wait: float) -> list:
        out = []
        try:
            out.append(self._events.get(timeout=wait))
            while True:
                out.append(self._events.get_nowait())
        except queue.Empty:
            pass
        return out


def order_update(o: Any) -> OrderUpdate:
    state = ORDER_STATES.get(int(o.order_status), OrderState.LIVE)
    return OrderUpdate(str(o.order_remark), int(o.order_id), state, int(o.traded_volume),
                       str(getattr(o, "status_msg", "") or "") if state == OrderState.REJECTED else "",
                       str(o.stock_code), Side.BUY if int(o.order_type) == STOCK_BUY else Side.SELL,
                       int(o.order_volume))


def trade_report(t: Any) -> TradeReport:
    side = Side.BUY if int(t.order_type) == STOCK_BUY else Side.SELL
    commission = getattr(t, "commission", None)
    return TradeReport(f"{t.order_id}:{t.traded_id}", str(t.order_remark or ""), int(t.order_id), str(t.stock_code),
                       side, int(t.traded_volume), float(t.traded_price),
                       None if commission is None else float(commission), str(t.traded_time))


def _callback(xttrader: ModuleType, events: queue.Queue):
    """An XtQuantTraderCallback that puts what it is told on `events` (it runs on the client's thread)."""

    class Callback(xttrader.XtQuantTraderCallback):
        def on_disconnected(self):
            events.put(Disconnected("the client reported a disconnect"))

        def on_stock_order(self, order):
            events.put(order_update(order))

        def on_stock_trade(self, trade):
            events.put(trade_report(trade))

        def on_order_error(self, error):
            events.put(OrderUpdate(str(error.order_remark), int(error.order_id), OrderState.REJECTED, 0,
                                   f"{error.error_id}: {error.error_msg}"))

        def on_cancel_error(self, error):
            logger.info(f"qmt: cancel of order {error.order_id} refused ({error.error_id}: {error.error_msg})")

    return Callback()
