"""The naive Backtrader design, kept as the speed baseline of `bench_engine.py`.

One `PandasData` per stock, all added to Cerebro (plus a calendar feed first,
so the clock is every trading day), the plain `BackBroker`, a percentage
commission, market orders filled at the next bar's open, and the same targets
(equal weights, sells first) sized at the close before the rebalance date.
No A-share rule. This is the naive design docs/benchmarks.md measured at ~0.19 s per stock
over 3,000 days; it is not used by the simulator.
"""
from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd


class NaiveRebalancer(bt.Strategy):
    params = (("plans", None), ("calendar", None))

    def __init__(self):
        self.next_day = {d: n for d, n in zip(self.p.calendar[:-1], self.p.calendar[1:])}

    def prenext(self):
        self.next()

    def next(self):
        today = self.datas[0].datetime.date(0)
        tomorrow = self.next_day.get(today)
        plan = self.p.plans.get(tomorrow)
        if not plan:
            return
        names = {name: w for name, w in plan}
        for data in self.datas[1:]:
            if data._name not in names and self.getposition(data).size:
                self.order_target_size(data=data, target=0)
        for name, w in plan:
            data = self.getdatabyname(name)
            if len(data):
                self.order_target_percent(data=data, target=w)


def run_naive(market, targets: pd.DataFrame, cash: float, commission: float) -> float:
    """Final portfolio value of the naive run over the whole market calendar."""
    dates = pd.DatetimeIndex(market.dates.astype("datetime64[ns]"))
    cerebro = bt.Cerebro(stdstats=False, preload=True, runonce=True, maxcpus=1)
    calendar = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 0.0}, index=dates)
    cerebro.adddata(bt.feeds.PandasData(dataname=calendar), name="__calendar__")
    p = market.panels
    for sid, symbol in enumerate(market.symbols):
        rows = np.flatnonzero(market.has_bar[:, sid])
        if not len(rows):
            continue
        df = pd.DataFrame({"open": p["open"][rows, sid].astype(float), "high": p["high"][rows, sid].astype(float),
                           "low": p["low"][rows, sid].astype(float), "close": p["close"][rows, sid].astype(float),
                           "volume": p["volume"][rows, sid].astype(float)}, index=dates[rows])
        cerebro.adddata(bt.feeds.PandasData(dataname=df), name=str(symbol))
    t = targets.copy()
    t["rebalance_date"] = pd.to_datetime(t["rebalance_date"]).dt.date
    if "weight" not in t.columns or t["weight"].isna().all():
        t["weight"] = 1.0 / t.groupby("rebalance_date")["symbol"].transform("count")
    plans = {d: list(zip(g["symbol"], g["weight"])) for d, g in t.groupby("rebalance_date")}
    cerebro.addstrategy(NaiveRebalancer, plans=plans, calendar=[d.date() for d in dates])
    cerebro.broker.setcash(cash)
    cerebro.broker.setcommission(commission=commission)
    strat = cerebro.run()[0]
    return float(strat.broker.getvalue())
