"""Backtrader analyzers that record a run and hand it to `metrics.performance`.

They work in any Cerebro: they read the date from the strategy's clock
(`self.strategy.datetime`, i.e. the engine's single clock feed, not whichever
feed happens to be first) and value / cash from `self.strategy.broker`, and
they make no assumption about the broker beyond getvalue() / getcash().

- `DailyValue`: one row per bar: date, value, cash (+ benchmark level when a
  Series is given).
- `OrderLog`: fills and final order states from notify_order, in the output
  trades / orders columns (generic: all fees land in `commission`). The A-share
  engine writes its own richer tables and passes them to `PerformanceAnalyzer`.
- `PerformanceAnalyzer`: DailyValue + OrderLog, and `get_analysis()` returns
  `compute_metrics(...)` on what it recorded (or on the tables the providers give).
"""
from __future__ import annotations

import datetime as _dt
from collections import OrderedDict
from typing import Any, Callable

import backtrader as bt
import pandas as pd

from ashare_sim.execution.orders import (
    EQUITY_COLUMNS,
    ORDER_COLUMNS,
    TRADE_COLUMNS,
    Reason,
    Side,
    Status,
)
from ashare_sim.metrics.performance import PERIODS_PER_YEAR, compute_metrics

# Provider params accept a DataFrame or a zero-argument callable returning one (read at stop()).
TableProvider = pd.DataFrame | Callable[[], pd.DataFrame | None] | None


def _resolve(provider: TableProvider) -> pd.DataFrame | None:
    return provider() if callable(provider) else provider


def align_benchmark(dates: list[_dt.date] | pd.DatetimeIndex, benchmark: pd.Series | None) -> pd.Series:
    """Benchmark levels on `dates`: the last level on or before each date (NaN before the first)."""
    idx = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize()
    if benchmark is None or len(benchmark) == 0:
        return pd.Series(float("nan"), index=idx)
    s = pd.Series(pd.to_numeric(benchmark, errors="coerce").to_numpy(dtype=float),
                  index=pd.DatetimeIndex(pd.to_datetime(benchmark.index)).normalize())
    s = s[~s.index.duplicated(keep="last")].sort_index().dropna()
    return s.reindex(s.index.union(idx)).ffill().reindex(idx)


class DailyValue(bt.Analyzer):
    """Records (date, broker value, broker cash) at every strategy bar.

    Params: `benchmark` — optional pd.Series of index levels indexed by date,
    aligned (last level on or before each date) into the `benchmark` column;
    `first_date` — optional datetime.date: bars before it are not recorded.
    get_analysis(): OrderedDict date -> {"value", "cash"}; `equity()` gives the
    equity table of the outputs (date, value, cash, benchmark). A date seen twice keeps
    its last row (e.g. a replayed bar).
    """

    params = (("benchmark", None), ("first_date", None))

    def start(self) -> None:
        self._rows: OrderedDict[_dt.date, tuple[float, float]] = OrderedDict()

    def next(self) -> None:
        day = self.strategy.datetime.date(0)
        if self.p.first_date is not None and day < self.p.first_date:
            return          # a warm-up bar before the measured window (e.g. the eve a first rebalance is sized on)
        broker = self.strategy.broker
        self._rows[day] = (float(broker.getvalue()), float(broker.getcash()))

    def stop(self) -> None:
        self.rets = OrderedDict((d, {"value": v, "cash": c}) for d, (v, c) in self._rows.items())

    def equity(self) -> pd.DataFrame:
        """The recorded rows as date (datetime64), value, cash, benchmark."""
        dates = list(self._rows)
        eq = pd.DataFrame({
            "date": pd.to_datetime(dates),
            "value": [v for v, _ in self._rows.values()],
            "cash": [c for _, c in self._rows.values()],
        })
        eq["benchmark"] = align_benchmark(dates, self.p.benchmark).to_numpy() if len(dates) else []
        return eq[EQUITY_COLUMNS]


class OrderLog(bt.Analyzer):
    """Fills (trades.csv columns) and final order states (orders.csv columns) from notify_order.

    Generic Backtrader brokers report one commission per fill, so it goes to
    `commission` and stamp_duty / transfer_fee / slippage are 0. Order status:
    filled (all requested shares traded), partial (some), rejected (none, for
    Margin / Rejected / Canceled / Expired); reason is `cash` for Margin, else
    the order's `info['reason']` when the broker sets one, else empty.
    """

    def start(self) -> None:
        self._fills: list[dict[str, Any]] = []
        self._orders: list[dict[str, Any]] = []

    def _symbol(self, order: bt.Order) -> str:
        return getattr(order.data, "_name", "") or str(self.strategy.datas.index(order.data))

    def notify_order(self, order: bt.Order) -> None:
        side = Side.BUY if order.isbuy() else Side.SELL
        symbol = self._symbol(order)
        for bit in order.executed.iterpending():
            self._fills.append({
                "date": bt.num2date(bit.dt).date(), "symbol": symbol, "side": side,
                "qty": abs(float(bit.size)), "price": float(bit.price),
                "commission": float(bit.closedcomm + bit.openedcomm),
                "stamp_duty": 0.0, "transfer_fee": 0.0, "slippage": 0.0,
            })
        if order.status in (order.Created, order.Submitted, order.Accepted, order.Partial):
            return
        requested = abs(float(order.created.size))
        filled = abs(float(order.executed.size))
        if filled >= requested > 0:
            status = Status.FILLED
        elif filled > 0:
            status = Status.PARTIAL
        else:
            status = Status.REJECTED
        reason = ""
        if status != Status.FILLED:
            reason = Reason.CASH if order.status == order.Margin else str(order.info.get("reason", "") or "")
        self._orders.append({
            "date": self.strategy.datetime.date(0), "symbol": symbol, "side": side,
            "requested_qty": requested, "filled_qty": filled,
            "price": float(order.executed.price or order.created.price or 0.0),
            "status": status, "reason": reason,
        })

    def trades_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self._fills, columns=TRADE_COLUMNS)

    def orders_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self._orders, columns=ORDER_COLUMNS)

    def stop(self) -> None:
        self.rets = OrderedDict(trades=self._fills, orders=self._orders)


class PerformanceAnalyzer(DailyValue, OrderLog):
    """All `metrics.json` figures for the run, from `compute_metrics`.

    Params:
      benchmark: pd.Series of index levels by date, or None (benchmark fields null).
      trades / orders / holdings: DataFrame or zero-argument callable returning one
        (read at stop); when None, trades and orders come from this analyzer's own
        notify_order log and holdings are left out.
      record_orders: False records nothing from notify_order (trades_frame() and
        orders_frame() stay empty), for a run whose providers give both tables.
      initial_cash: starting capital; None = broker.startingcash (BackBroker), else
        the broker value when the run starts.
      periods_per_year, risk_free: passed to compute_metrics.
    get_analysis(): the metrics dict (JSON-safe).
    """

    params = (
        ("trades", None),
        ("orders", None),
        ("holdings", None),
        ("initial_cash", None),
        ("periods_per_year", PERIODS_PER_YEAR),
        ("risk_free", 0.0),
        ("record_orders", True),
    )

    @property
    def hears_orders(self) -> bool:
        """Whether its notify_order records anything (a strategy may spare it orders it would not record)."""
        return bool(self.p.record_orders)

    def notify_order(self, order: bt.Order) -> None:
        if self.p.record_orders:
            OrderLog.notify_order(self, order)

    def start(self) -> None:
        DailyValue.start(self)
        OrderLog.start(self)
        broker = self.strategy.broker
        cash = self.p.initial_cash
        if cash is None:
            cash = getattr(broker, "startingcash", None) or broker.getvalue()
        self.initial_cash = float(cash)

    def stop(self) -> None:
        trades = _resolve(self.p.trades)
        orders = _resolve(self.p.orders)
        if trades is None:
            trades = self.trades_frame()
        if orders is None:
            orders = self.orders_frame()
        equity = self.equity()
        if len(equity) == 0:
            self.rets = OrderedDict()
            return
        self.rets = compute_metrics(
            equity, trades, orders, _resolve(self.p.holdings), self.initial_cash,
            periods_per_year=self.p.periods_per_year, risk_free=self.p.risk_free,
        )

    def get_analysis(self) -> dict:
        return self.rets
