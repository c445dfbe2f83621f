"""Run scripted orders through the real Cerebro + clock + AShareBroker on a built market.

    broker = run_orders(market, [(1, "600000.SH", "buy", 1000)], "broker.limit_rule=locked")

Each order (day, symbol, side, qty) is submitted at the close of day-1 and so
executes on `day` (calendar index of the built market), like the rebalancer's.
"""
from __future__ import annotations

import backtrader as bt
import pandas as pd

from ashare_sim.backtest.run import make_cerebro
from ashare_sim.config import load_config
from tests.presets import IDEAL_EXECUTION


# Rules on, costs as configured by default; tests switch pieces off with --set style strings.
def config(*sets: str):
    base = ["backtest.start=2000-01-01", "backtest.end=2100-01-01", "backtest.benchmark=none",
            "output.report=false"]
    return load_config(None, base + IDEAL_EXECUTION + list(sets))


class Script(bt.Strategy):
    params = (("orders", ()), ("book", None), ("snap", ()))

    def next(self):
        t = self.p.book.clock.market_index()
        if t in self.p.snap:
            self.broker.snapshot_holdings()
        for day, symbol, side, qty in self.p.orders:
            if day == t + 1:
                data = self.p.book.get(symbol)
                (self.buy if side == "buy" else self.sell)(data=data, size=qty)


def run_orders(market, orders, *sets: str, snap=()):
    cfg = config(*sets)
    cerebro, book = make_cerebro(market, cfg, 0, market.n_days - 1)
    cerebro.addstrategy(Script, orders=list(orders), book=book, snap=tuple(snap))
    strat = cerebro.run()[0]
    return strat.broker


def orders_df(broker) -> pd.DataFrame:
    return pd.DataFrame([r._asdict() for r in broker.order_log])


def trades_df(broker) -> pd.DataFrame:
    return pd.DataFrame([r._asdict() for r in broker.trade_log])


def only(broker, **match):
    """The one order-log row matching `match`."""
    rows = [r for r in broker.order_log if all(getattr(r, k) == v for k, v in match.items())]
    assert len(rows) == 1, rows
    return rows[0]


def make(cls, *, tick: float = 0.01, market=None, crowd: int = 1, deal=None, rules=None, **params):
    """One execution model built as the core builds it: its own Params (defaults unless given) and an Env."""
    import types

    from ashare_sim.execution.models.base import Env
    from ashare_sim.rules import RulesTable

    if rules is None:
        rules = RulesTable.load() if tick == 0.01 else types.SimpleNamespace(tick=tick)
    p = cls.Params(**params) if cls.Params is not None else None
    return cls(p, Env(market, rules, crowd, deal))
