"""Your own Backtrader strategy on the A-share broker: feeds on the clock, indicators, lot sizing, refusals
by reason, the project's metrics and report, and a misaligned feed refused."""
import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from ashare_sim.backtest.userland import make_cerebro
from ashare_sim.common.errors import UserError
from ashare_sim.config import load_config
from tests.market_builder import MarketBuilder
from tests.presets import IDEAL_EXECUTION

A, S, B = "600000.SH", "688001.SH", "000001.SZ"
CLOSES = [10.0, 10.2, 10.4, 10.1, 10.3, 10.6, 10.8, 11.0, 10.9, 11.2]


def market():
    b = MarketBuilder(start="2021-03-01", days=10)
    b.stock(A, close=CLOSES)
    b.stock(S, close=[50.0] * 10)
    b.stock(B, close=[20.0, 20.2, None, None, 20.4, 20.6, 20.8, 21.0, 21.2, 21.4])      # suspended two days
    b.benchmark(list(1000 + np.arange(10)))
    return b.build()


def cfg(*sets):
    return load_config(None, [*IDEAL_EXECUTION, "broker.cash=1000000", "backtest.benchmark=none", "output.report=false",
                              *sets])


class Recorder(bt.Strategy):
    def __init__(self):
        self.sma = {d._name: bt.ind.SMA(d.close, period=3) for d in self.datas}
        self.seen = []

    def next(self):
        for d in self.datas:
            self.seen.append((d._name, d.datetime.date(0), d.close[0], d.volume[0], d.suspended[0], self.sma[d._name][0]))


def test_every_feed_shows_the_clocks_day_and_indicators_attach():
    m = market()
    cb = make_cerebro(m, cfg(), symbols=[A, "sz000001"])
    cb.addstrategy(Recorder)
    strat = cb.run()[0]
    rows = pd.DataFrame(strat.seen, columns=["symbol", "date", "close", "volume", "suspended", "sma"])
    a = rows[rows["symbol"] == A].reset_index(drop=True)
    assert a["date"].tolist() == [m.date_at(i) for i in range(10)][2:]        # SMA(3): from the third day
    assert a["close"].tolist() == CLOSES[2:]                                     # that day's bar, never the next
    assert a["sma"].round(6).tolist() == pd.Series(CLOSES).rolling(3).mean().dropna().round(6).tolist()
    b = rows[rows["symbol"] == B].set_index("date")
    day3 = m.date_at(3)
    assert (b.loc[day3, "close"], b.loc[day3, "volume"], b.loc[day3, "suspended"]) == (20.2, 0.0, 1.0)


class Buyer(bt.Strategy):
    params = (("orders", ()),)

    def next(self):
        if len(self) == 1:
            for name, kwargs in self.p.orders:
                self.buy(data=self.getdatabyname(name), **kwargs)


def test_sizes_round_down_to_the_board_lot_and_refusals_carry_their_reason(caplog):
    m = market()
    cb = make_cerebro(m, cfg(), symbols=[A, S])
    cb.addstrategy(Buyer, orders=[(A, {"size": 1_234}), (S, {"size": 150}), (S, {"size": 201})])
    r = cb.run_ashare()
    o = r.orders.set_index(["symbol", "requested_qty"])
    assert r.trades.groupby("symbol")["qty"].sum().to_dict() == {A: 1_200, S: 201}   # STAR: 200 then steps of 1
    assert o.loc[(S, 150), "reason"] == "lot_size" and o.loc[(S, 150), "status"] == "rejected"
    assert r.metrics["refused"] == {"lot_size": 1}


class TargetPercent(bt.Strategy):
    def next(self):
        if len(self) == 2:
            self.order_target_percent(self.getdatabyname(A), 0.5)
        if len(self) == 5:
            self.order_target_percent(self.getdatabyname(A), 0.2)


def test_order_target_percent_trades_whole_lots_and_the_run_has_the_projects_outputs(tmp_path):
    m = market()
    cb = make_cerebro(m, cfg("output.report=true", "backtest.benchmark=table"), symbols=[A])
    cb.addstrategy(TargetPercent)
    r = cb.run_ashare(out=tmp_path / "out")
    assert (r.trades["qty"] % 100 == 0).all() and len(r.trades) == 2 and set(r.trades["side"]) == {"buy", "sell"}
    assert r.metrics["targets_source"] == {"kind": "backtrader", "name": "TargetPercent", "feeds": 1}
    assert r.metrics["information_ratio"] is not None and r.metrics["total_costs"] > 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Backtrader strategy TargetPercent" in page and "your Backtrader strategy TargetPercent" in page
    assert len(pd.read_csv(tmp_path / "out" / "holdings.csv")) >= 1


def test_a_feed_off_the_clock_is_refused_with_the_fix_and_one_on_it_is_taken():
    m = market()
    days = pd.DatetimeIndex(m.dates.astype("datetime64[ns]"))
    frame = pd.DataFrame({"open": CLOSES, "high": CLOSES, "low": CLOSES, "close": CLOSES, "volume": 1.0}, index=days)
    cb = make_cerebro(m, cfg(), symbols=[A])
    with pytest.raises(UserError, match="not on the A-share clock: its bars are stamped 00:00:00, the clock's at 15:00:00; .*tomorrow's bar"):
        cb.adddata(bt.feeds.PandasData(dataname=frame), name="midnight")
    with pytest.raises(UserError, match="days differ from the run's trading days"):
        cb.adddata(bt.feeds.PandasData(dataname=frame.iloc[1:].set_index(frame.index[1:] + pd.Timedelta(hours=15))))
    cb.adddata(bt.feeds.PandasData(dataname=frame.set_index(frame.index + pd.Timedelta(hours=15))), name="mine")
    cb.addstrategy(Closes)
    seen = pd.DataFrame(cb.run()[0].seen, columns=["date", "stock", "mine"])
    assert len(seen) == 10 and (seen["stock"] == seen["mine"]).all()            # the same day's bar on both


class Closes(bt.Strategy):
    def next(self):
        self.seen = getattr(self, "seen", [])
        self.seen.append((self.datas[0].datetime.date(0), self.getdatabyname(A).close[0],
                          self.getdatabyname("mine").close[0]))


class Limit(bt.Strategy):
    def next(self):
        self.buy(data=self.datas[0], size=100, exectype=bt.Order.Limit, price=9.0)


def test_limit_orders_are_refused_with_why():
    cb = make_cerebro(market(), cfg(), symbols=[A])
    cb.addstrategy(Limit)
    with pytest.raises(UserError, match="Limit order on 600000.SH: orders here are day market orders"):
        cb.run()


def test_an_unknown_symbol_names_the_closest():
    with pytest.raises(UserError, match="'600001.SH' is not a stock of the market \\(did you mean '600000.SH'\\?\\)"):
        make_cerebro(market(), cfg(), symbols=["600001.SH"])


class ThreeFills(bt.Strategy):
    def next(self):
        if len(self) == 1:
            self.buy(size=1000)
        if len(self) in (3, 8):
            self.sell(size=500)


def test_the_ashare_fees_on_backtraders_own_broker_by_hand(tmp_path):
    """BackBroker with the A-share fees: commission 0.03% with its 5 CNY minimum, stamp duty on sells at
    0.1% to 2023-08-27 and 0.05% from 2023-08-28, transfer fee 0.001%; the project's report from the run."""
    import ashare_sim as sim
    days = pd.bdate_range("2023-08-21", periods=10) + pd.Timedelta(hours=15)
    frame = pd.DataFrame({"open": 10.0, "high": 10.0, "low": 10.0, "close": 10.0, "volume": 1e6}, index=days)
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(1_000_000)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame), name="600000.SH")
    sim.use_ashare_costs(cerebro, load_config(None))
    cerebro.addstrategy(ThreeFills)
    cerebro.addanalyzer(sim.PerformanceAnalyzer, _name="performance")
    strat = cerebro.run()[0]
    # buy 10,000 on 08-22: 5 (minimum) + 0.10; sell 5,000 on 08-24: 5 + 5.00 duty + 0.05;
    # sell 5,000 on 08-31: 5 + 2.50 duty + 0.05
    assert cerebro.broker.getcash() == pytest.approx(1_000_000 - 5.1 - 10.05 - 7.55)
    m = sim.write_cerebro_report(strat, tmp_path / "out")
    assert m["total_costs"] == pytest.approx(22.7) and m["targets_source"]["name"] == "ThreeFills"
    assert (tmp_path / "out" / "report.html").read_text().count("ThreeFills") >= 1
    assert pd.read_csv(tmp_path / "out" / "trades.csv")["commission"].round(2).tolist() == [5.1, 10.05, 7.55]
    with pytest.raises(UserError, match="is not named by a stock code"):
        other = bt.Cerebro()
        other.adddata(bt.feeds.PandasData(dataname=frame), name="mystock")
        sim.use_ashare_costs(other, load_config(None))


class BuyThenSellSameDay(bt.Strategy):
    def next(self):
        if len(self) == 1:
            self.buy(data=self.getdatabyname(A), size=1_000)
            self.sell(data=self.getdatabyname(A), size=1_000)      # fills the same day as the buy: T+1
        if len(self) == 3:
            self.buy(data=self.getdatabyname(U), size=1_000)       # its next open is at the up limit


U = "600519.SH"


def test_t_plus_1_and_price_limits_apply_to_a_backtrader_strategy():
    b = MarketBuilder(start="2021-03-01", days=6)
    b.stock(A, close=CLOSES[:6])
    b.stock(U, close=[10.0, 10.0, 10.0, 11.0, 11.0, 11.0], open=[10.0, 10.0, 10.0, 11.0, 11.0, 11.0],
            pre_close=[10.0, 10.0, 10.0, 10.0, 11.0, 11.0])
    cb = make_cerebro(b.build(), cfg(), symbols=[A, U])
    cb.addstrategy(BuyThenSellSameDay)
    r = cb.run_ashare()
    o = r.orders.set_index(["symbol", "side"])
    assert o.loc[(A, "buy"), "status"] == "filled"
    assert (o.loc[(A, "sell"), "status"], o.loc[(A, "sell"), "reason"]) == ("rejected", "t_plus_1")
    assert (o.loc[(U, "buy"), "status"], o.loc[(U, "buy"), "reason"]) == ("rejected", "limit_up")
    assert r.metrics["refused"] == {"t_plus_1": 1, "limit_up": 1}


def test_setcash_is_honoured_and_setcommission_refused_with_the_config_keys():
    cb = make_cerebro(market(), cfg(), symbols=[A])
    cb.broker.setcash(2_000_000)
    cb.addstrategy(Buyer, orders=[(A, {"size": 1_000})])
    r = cb.run_ashare()
    assert r.metrics["initial_cash"] == 2_000_000 and r.equity["value"].iloc[0] == pytest.approx(2_000_000, rel=1e-3)
    with pytest.raises(UserError, match="set broker.commission.rate"):
        cb.broker.setcommission(commission=0.01)


def test_listing_and_delisting_inside_the_run_are_said_and_shown():
    from loguru import logger
    b = MarketBuilder(start="2021-03-01", days=8)
    b.stock(A, close=CLOSES[:8])
    b.stock(S, close=[50.0] * 5, first_day=3, list_date="2021-03-04")
    b.stock(B, close=[20.0] * 4, delist_date="2021-03-04")
    said = []
    sink = logger.add(lambda msg: said.append(str(msg)), level="WARNING")
    try:
        cb = make_cerebro(b.build(), cfg(), symbols=[A, S, B])
    finally:
        logger.remove(sink)
    assert any(f"{S} lists on 2021-03-04, inside the run" in s and "stay NaN" in s for s in said)
    cb.addstrategy(Lines)
    seen = pd.DataFrame(cb.run()[0].seen, columns=["symbol", "date", "listed", "suspended", "close"])
    b_rows = seen[seen["symbol"] == B]
    assert b_rows["listed"].tolist() == [1, 1, 1, 1, 0, 0, 0, 0] and (b_rows["suspended"] == 0).all()
    assert np.isnan(seen[(seen["symbol"] == S)]["close"].iloc[0])


class Lines(bt.Strategy):
    def next(self):
        self.seen = getattr(self, "seen", [])
        for d in self.datas:
            self.seen.append((d._name, d.datetime.date(0), d.listed[0], d.suspended[0], d.close[0]))


def test_symbols_given_twice_or_as_a_string():
    with pytest.raises(UserError, match="'SH600000' is 600000.SH, which has a feed already"):
        make_cerebro(market(), cfg(), symbols=[A, "SH600000"])
    assert [d._name for d in make_cerebro(market(), cfg(), symbols=A).datas] == [A]
    with pytest.raises(UserError, match="the end is before the start"):
        make_cerebro(market(), cfg(), symbols=[A], start="2021-03-05", end="2021-03-02")


def test_a_feed_in_chinas_time_zone_at_15_00_is_taken():
    m = market()
    days = pd.DatetimeIndex(m.dates.astype("datetime64[ns]")) + pd.Timedelta(hours=15)
    frame = pd.DataFrame({"open": CLOSES, "high": CLOSES, "low": CLOSES, "close": CLOSES, "volume": 1.0},
                         index=days.tz_localize("Asia/Shanghai"))
    cb = make_cerebro(m, cfg(), symbols=[A])
    cb.adddata(bt.feeds.PandasData(dataname=frame), name="mine")
    cb.addstrategy(Closes)
    seen = pd.DataFrame(cb.run()[0].seen, columns=["date", "stock", "mine"])
    assert (seen["stock"] == seen["mine"]).all()
    with pytest.raises(UserError, match="only a PandasData can be checked against the clock"):
        cb.adddata(bt.feeds.GenericCSVData(dataname=__file__), name="csv")
