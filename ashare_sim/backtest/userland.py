"""Your own Backtrader strategy on the A-share broker: a ready Cerebro with per-stock feeds.

    import backtrader as bt
    import ashare_sim as sim

    cerebro = sim.make_cerebro(market, cfg, symbols=["600000.SH", "000001.SZ"])
    cerebro.addstrategy(MyStrategy)            # an ordinary bt.Strategy: indicators, order_target_percent, ...
    result = cerebro.run_ashare(out="out/mine")  # runs it; metrics, tables and report.html as a backtest's

What it gives:
- the A-share broker (`AShareBroker`: every rule and cost of the config, fills at the next day's deal
  price), with buys rounded down to the board lot (STAR: 200 then steps of 1) and partial sells to whole
  lots instead of being refused;
- one `AShareFeed` per symbol asked for, on the market's calendar and stamped at the session's close
  (15:00) like the broker's clock, so every feed shows the same day's bar: standard indicators attach to
  them. A feed is the clock itself (the first one), so nothing else needs adding;
- a refusal of any feed that is not on that clock: a PandasData stamped at midnight would put tomorrow's
  bar beside today's (a silent one-day look-ahead), so it is an error with the fix.

Orders are day market orders at the configured deal price (limit and stop orders are refused: the A-share
rules decide the price). A refused order carries its reason in `order.info.reason`, and the run ends with
one line counting refusals by reason.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Optional

import backtrader as bt
import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.backtest.broker import AShareBroker
from ashare_sim.backtest.clock import SESSION_END, ClockFeed
from ashare_sim.backtest.proxy import ProxyBook
from ashare_sim.common.errors import UserError
from ashare_sim.rules.symbols import parse_symbol, suggest


class AShareFeed(ClockFeed):
    """One stock's daily bars over the run's calendar, from the market panels, stamped like the clock.

    Lines: open, high, low, close (raw CNY), volume (shares), openinterest (the calendar index), and
    amount (CNY), adj_factor, adj_close (close x adj_factor), suspended (1 on a listed day without a bar
    or volume: its prices repeat the last close and its volume is 0), listed (1 from listing to the last
    listed day; after it the prices repeat the last close), up_limit / down_limit (the day's price
    limits; NaN on no-limit days), at_up_limit / at_down_limit (1 when the close sits at that limit).
    Before its listing a stock's prices are NaN."""

    lines = ("amount", "adj_factor", "adj_close", "suspended", "listed", "up_limit", "down_limit", "at_up_limit",
             "at_down_limit")
    params = (("market", None), ("sid", 0))

    def __init__(self):
        super().__init__()
        m, sid = self.p.market, int(self.p.sid)
        self.sid, self.symbol = sid, str(m.symbols[sid])
        rows = slice(self.p.first_index, self.p.first_index + len(self._nums))
        p = m.panels
        traded = m.has_bar[rows, sid] & (np.nan_to_num(p["volume"][rows, sid]) > 0)
        last = np.asarray(m.last_close[rows, sid], dtype=np.float64)

        decimals = max(0, int(round(-np.log10(m.rules.tick))))     # float32 panels back to exact ticks

        def col(name, fill=np.nan):
            values = (np.asarray(p[name][rows, sid], dtype=np.float64) if name in p else np.full(len(last), fill))
            return np.round(values, decimals) if name in ("open", "high", "low", "close", "high_limit", "low_limit") \
                else values
        last = np.round(last, decimals)
        self._cols = {}
        for name in ("open", "high", "low", "close"):
            self._cols[name] = np.where(traded, col(name), last)
        self._cols["volume"] = np.where(traded, col("volume"), 0.0)
        self._cols["amount"] = np.where(traded, col("amount"), 0.0)
        factor = np.nan_to_num(col("adj_factor", 1.0), nan=1.0)
        self._cols["adj_factor"] = factor
        self._cols["adj_close"] = self._cols["close"] * factor
        listed = m.is_listed[rows, sid]
        self._cols["suspended"] = (~traded & listed).astype(np.float64)
        self._cols["listed"] = listed.astype(np.float64)
        up, down = col("high_limit"), col("low_limit")
        self._cols["up_limit"], self._cols["down_limit"] = up, down
        tick = m.rules.tick / 2
        close = self._cols["close"]
        self._cols["at_up_limit"] = (traded & (np.abs(close - up) < tick)).astype(np.float64)
        self._cols["at_down_limit"] = (traded & (np.abs(close - down) < tick)).astype(np.float64)

    def _fill(self, i: int) -> None:
        lines = self.lines
        for name, values in self._cols.items():
            getattr(lines, name)[0] = values[i]


class AShareCerebro(bt.Cerebro):
    """A Cerebro whose feeds all sit on the A-share clock; `run_ashare` runs it with the project's outputs."""

    params = (("market", None), ("ashare_cfg", None), ("window", None))   # make_cerebro() sets them

    def __init__(self):
        super().__init__()
        self.market, self.cfg, self.window = self.p.market, self.p.ashare_cfg, self.p.window
        self._clock: Optional[ClockFeed] = None
        self.book: Optional[ProxyBook] = None

    def add_stock(self, symbol: str) -> AShareFeed:
        """The stock's feed on the run's calendar, named by its symbol (any spelling)."""
        m = self.market
        sym = parse_symbol(symbol, m.rules)
        if sym is None or sym not in m.symbol_index:
            raise UserError(f"symbols: {symbol!r} is not a stock of the market{suggest(str(symbol), m.symbols)}")
        if any(getattr(d, "symbol", None) == sym for d in self.datas):
            raise UserError(f"symbols: {symbol!r} is {sym}, which has a feed already; give each stock once")
        i0, i1 = self.window
        sid = m.symbol_index[sym]
        if i0 < m.list_index[sid] <= i1:
            # NaN prices before listing: a recursive indicator (EMA, RSI, MACD) seeded with NaN stays NaN
            logger.warning(f"{sym} lists on {m.date_at(int(m.list_index[sid]))}, inside the run: its prices are NaN "
                           "before, and recursive indicators (EMA, RSI, MACD) on it stay NaN for the whole run; "
                           "start the run after its listing, or compute them from its listing day")
        feed = AShareFeed(dates=m.dates[i0:i1 + 1], first_index=i0, market=m, sid=sid)
        self.adddata(feed, name=sym)
        return feed

    def adddata(self, data, name=None):
        if not isinstance(data, ClockFeed):
            if not _on_the_clock(data, self.market, self.window):
                raise UserError(_foreign_feed_message(data, name, self.market, self.window))
            if self._clock is None:             # a series of one's own on the clock's days: the clock leads
                i0, i1 = self.window
                self.adddata(ClockFeed(dates=self.market.dates[i0:i1 + 1], first_index=i0), name="clock")
            return super().adddata(data, name=name)
        if self._clock is None:
            self._clock = data
            self.book = ProxyBook(self.market, data)
            self.setbroker(AShareBroker(market=self.market, cfg=self.cfg.broker, book=self.book, round_lots=True))
        return super().adddata(data, name=name)

    def run(self, **kwargs):
        if self._clock is None:                 # no stock asked for: the calendar alone drives the strategy
            i0, i1 = self.window
            self.adddata(ClockFeed(dates=self.market.dates[i0:i1 + 1], first_index=i0), name="clock")
        self.addanalyzer(_MonthEndHoldings, _name="_holdings")
        strategies = super().run(**kwargs)
        refusals = Counter(str(getattr(row.reason, "value", row.reason)) for row in self.broker.order_log
                           if row.reason and row.status != "filled")
        if refusals:
            logger.info("orders refused or cut: " + ", ".join(f"{reason} {n:,}" for reason, n in refusals.most_common()))
        return strategies


    def run_ashare(self, out=None, meta: Optional[dict] = None):
        """Run it and return a `BacktestResult` like a backtest's: metrics (excess over the config's
        benchmark, IR, TE, drawdowns, win rate, costs, refusals by reason), equity, orders, trades,
        month-end holdings; with `out`, the same output files and report.html."""
        import time

        from ashare_sim.backtest.analyzers import PerformanceAnalyzer
        from ashare_sim.backtest.run import (
            BacktestResult,
            BrokerTables,
            benchmark_levels,
            equity_table,
            run_metrics,
        )
        from ashare_sim.common.outdir import check_output_dir
        from ashare_sim.metrics.assumptions import BACKTRADER
        from ashare_sim.signals.function import empty_targets

        started = time.perf_counter()
        if out is not None:
            check_output_dir(Path(out))
        m, (i0, i1) = self.market, self.window
        cfg = replace(self.cfg, backtest=replace(self.cfg.backtest, start=m.date_at(i0), end=m.date_at(i1)))
        benchmark = benchmark_levels(m, cfg)
        if self._clock is None:
            self.adddata(ClockFeed(dates=m.dates[i0:i1 + 1], first_index=i0), name="clock")
        tables = BrokerTables(self.broker)
        self.addanalyzer(PerformanceAnalyzer, _name="performance", benchmark=benchmark, first_date=m.date_at(i0),
                         trades=tables.trades, orders=tables.orders, holdings=tables.holdings,
                         initial_cash=float(self.broker.startingcash))      # broker.cash, or setcash()
        strat = self.run()[0]
        names = ", ".join(dict.fromkeys(type(s).__name__ for s in self.runstrats[0])) if self.runstrats else "?"
        feeds = sum(isinstance(d, AShareFeed) for d in self.datas)
        source = {"kind": BACKTRADER, "name": names, "feeds": feeds}
        equity = equity_table(m, self.broker, benchmark, i0)
        metrics = run_metrics(strat.analyzers.performance.get_analysis(), equity, cfg, None, m, source)
        metrics["refused"] = dict(Counter(str(getattr(r.reason, "value", r.reason)) for r in self.broker.order_log
                                          if r.reason and r.status != "filled"))
        result = BacktestResult(equity, tables.orders(), tables.trades(), tables.holdings(), empty_targets(), metrics,
                                {}, initial_cash=self.broker.startingcash, signal=None)
        result.market, result.cfg, result.window = m, cfg, (i0, i1)
        if out is not None:
            result.write(Path(out), meta)
        result.seconds = time.perf_counter() - started
        return result


class _MonthEndHoldings(bt.Analyzer):
    """Holdings at each month's last trading day and the run's last day (holdings.csv), as a backtest's."""

    def next(self):
        broker, clock = self.strategy.broker, self.strategy.broker.clock
        t, m = clock.market_index(), broker.market
        last = clock.p.first_index + clock.n_bars() - 1
        if t == last or m.dates[t].astype("datetime64[M]") != m.dates[t + 1].astype("datetime64[M]"):
            broker.snapshot_holdings()


def make_cerebro(market, cfg, symbols: Iterable[str] = (), start=None, end=None) -> AShareCerebro:
    """A Cerebro with the A-share broker of `cfg` and a feed per symbol (any spelling) over [start, end]
    (the config's backtest window, else the market's days); add your strategy and run it."""
    s = start if start is not None else cfg.backtest.start
    e = end if end is not None else cfg.backtest.end
    i0 = market.index_of(s) if s is not None else 0
    i1 = market.index_of(e, side="right") - 1 if e is not None else market.n_days - 1
    if s is not None and e is not None and pd.Timestamp(e) < pd.Timestamp(s):
        raise UserError(f"window {s} .. {e}: the end is before the start; swap them")
    if i1 < i0:
        raise UserError(f"window {s} .. {e}: no trading day of the market ({market.date_at(0)} .. "
                        f"{market.date_at(market.n_days - 1)}); change it")
    cerebro = AShareCerebro(market=market, ashare_cfg=cfg, window=(i0, i1), stdstats=False, preload=True,
                            runonce=True, maxcpus=1)
    for symbol in [symbols] if isinstance(symbols, str) else symbols:
        cerebro.add_stock(symbol)
    return cerebro


def _on_the_clock(data, market, window) -> bool:
    """A PandasData whose bars are exactly the run's trading days, stamped at the session's close (a
    time zone, if any, is read as China's local time)."""
    frame = getattr(getattr(data, "p", None), "dataname", None)
    if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.DatetimeIndex):
        return False
    if frame.index.tz is not None:
        frame = data.p.dataname = frame.tz_convert("Asia/Shanghai").tz_localize(None)
    i0, i1 = window
    days = pd.DatetimeIndex(market.dates[i0:i1 + 1].astype("datetime64[ns]"))
    return bool(len(frame) == len(days) and (frame.index.normalize() == days).all()
                and set(frame.index.time) == {SESSION_END})


def _foreign_feed_message(data, name, market, window) -> str:
    label = name or getattr(data, "_name", "") or type(data).__name__
    frame = getattr(getattr(data, "p", None), "dataname", None)
    why = ("only a PandasData can be checked against the clock; read the file into a DataFrame and give a "
           "PandasData." if not isinstance(frame, pd.DataFrame) else "")
    if isinstance(frame, pd.DataFrame) and isinstance(frame.index, pd.DatetimeIndex) and len(frame):
        times = set(frame.index.time)
        if times != {SESSION_END}:
            why = (f"its bars are stamped {sorted(times)[0]}, the clock's at {SESSION_END}; Backtrader would show "
                   "tomorrow's bar beside today's (a one-day look-ahead).")
        else:
            i0, i1 = window
            days = pd.DatetimeIndex(market.dates[i0:i1 + 1].astype("datetime64[ns]"))
            off = frame.index.normalize().symmetric_difference(days)
            if len(frame) > len(days) and not frame.index.normalize().difference(days).empty and \
                    days.isin(frame.index.normalize()).all():
                why = (f"it covers more days than the run ({market.date_at(i0)} .. {market.date_at(i1)}); give "
                       "it the run's days only (frame.loc[start:end]).")
            elif len(off):
                why = (f"its days differ from the run's trading days ({market.date_at(i0)} .. {market.date_at(i1)}), "
                       f"first at {off[0].date()}: give one bar per run day, stamped {SESSION_END}.")
    return (f"feed {label!r}: not on the A-share clock{': ' + why if why else '.'} Use cerebro.add_stock(symbol) "
            "for a stock of the market; for other series, give a PandasData with one bar per trading day of the "
            f"run stamped {SESSION_END}, or compute them inside the strategy")


# ----- for Cerebros on Backtrader's own broker -------------------------------------------------------------
class AShareCommission(bt.CommInfoBase):
    """The A-share fees of a config as a Backtrader commission scheme, for a Cerebro on Backtrader's own
    BackBroker: commission at its rate with its minimum (per fill: BackBroker fills an order at once),
    stamp duty on sells and the transfer fee, both from the dated rules table on the day of the fill
    (read from `clock`, any feed of the Cerebro). `exchange`: SH, SZ or BJ (the transfer fee differs)."""

    params = (("stocklike", True), ("commtype", bt.CommInfoBase.COMM_FIXED), ("percabs", True),
              ("broker_cfg", None), ("rules", None), ("exchange", "SH"), ("clock", None))

    def __init__(self):
        super().__init__()
        from ashare_sim.execution.models.base import Env
        from ashare_sim.execution.models.costs import CostModel
        self.costs = CostModel.from_config(self.p.broker_cfg, Env(market=None, rules=self.p.rules))

    def _getcommission(self, size, price, pseudoexec):
        from ashare_sim.execution.orders import Side
        if not size:
            return 0.0
        day = self.p.clock.datetime.date(0)
        side = Side.BUY if size > 0 else Side.SELL
        key = object()                          # each call one fill, with its own minimum
        c = self.costs.fill_costs(key, day, side, self.p.exchange, int(abs(size)), float(price), float(price))
        self.costs.end_day()
        return float(c.commission + c.stamp_duty + c.transfer_fee)


def use_ashare_costs(cerebro: bt.Cerebro, cfg, rules=None) -> None:
    """Give every feed already added to a plain Cerebro the A-share fees of `cfg` (its name must be a
    symbol such as 600000.SH, which gives the exchange); call after adddata, before run."""
    from ashare_sim.rules import RulesTable
    rules = rules or RulesTable.load(cfg.rules.table)
    if not cerebro.datas:
        raise UserError("use_ashare_costs: add the feeds first (cerebro.adddata(feed, name='600000.SH'))")
    for data in cerebro.datas:
        sym = parse_symbol(data._name, rules)
        if sym is None:
            raise UserError(f"use_ashare_costs: feed {data._name!r} is not named by a stock code; name it "
                            "(cerebro.adddata(feed, name='600000.SH')) so its exchange is known")
        cerebro.broker.addcommissioninfo(AShareCommission(broker_cfg=cfg.broker, rules=rules,
                                                          exchange=sym.split(".")[1], clock=data), name=data._name)


def write_cerebro_report(strategy: bt.Strategy, out, cfg=None, analyzer: str = "performance", title: str = ""):
    """The project's outputs from any Cerebro run with its `PerformanceAnalyzer` attached (under the name
    `analyzer`): equity.csv, trades.csv, orders.csv, metrics.json and report.html in `out`, written whole
    or not at all. Returns the metrics."""
    import json

    from ashare_sim.backtest.outputs import RUN_MANIFEST, csv_frame
    from ashare_sim.common.outdir import check_output_dir, output_set
    from ashare_sim.metrics.performance import json_safe
    from ashare_sim.metrics.report_data import report_data
    from ashare_sim.report.html import write_report

    perf = getattr(strategy.analyzers, analyzer, None)
    if perf is None:
        raise UserError(f"write_cerebro_report: the strategy has no analyzer named {analyzer!r}; add it before "
                        "the run: cerebro.addanalyzer(sim.PerformanceAnalyzer, _name='performance')")
    out = Path(out)
    check_output_dir(out)
    metrics = dict(perf.get_analysis())
    metrics["targets_source"] = {"kind": "backtrader", "name": title or type(strategy).__name__, "feeds": len(strategy.datas)}
    equity, trades, orders = perf.equity(), perf.trades_frame(), perf.orders_frame()

    with output_set(out, RUN_MANIFEST, {"kind": "backtest", "data": "a Backtrader Cerebro"}) as stage:
        csv_frame(equity.reset_index() if "date" not in equity.columns else equity, ("date",)).to_csv(
            stage / "equity.csv", index=False)
        csv_frame(trades, ("date",)).to_csv(stage / "trades.csv", index=False)
        csv_frame(orders, ("date",)).to_csv(stage / "orders.csv", index=False)
        (stage / "metrics.json").write_text(json.dumps(json_safe(metrics), indent=2, allow_nan=False) + "\n",
                                            encoding="utf-8")
        write_report(stage, report_data(metrics, equity, trades, None, orders))
    return metrics
