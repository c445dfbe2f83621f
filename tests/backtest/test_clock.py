"""The clock feed and symbol proxies: one bar per trading day, prices read from the panels."""
import backtrader as bt
import numpy as np

from ashare_sim.backtest.clock import ClockFeed
from ashare_sim.backtest.proxy import ProxyBook
from tests.market_builder import MarketBuilder


class Recorder(bt.Strategy):
    params = (("book", None),)

    def __init__(self):
        self.rows = []

    def next(self):
        p = self.p.book.get("600000.SH")
        self.rows.append((self.p.book.clock.market_index(), self.datetime.date(0), p.close[0], p.open[0],
                          p.datetime.date(0), len(p)))


def market():
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock("600000.SH", close=[10.0, 10.5, 11.0, 11.2, 11.4], open=[9.9, 10.4, 10.9, 11.1, 11.3])
    b.suspend("600000.SH", 2)
    return b.build()


def run(m, i0=0, i1=None):
    i1 = m.n_days - 1 if i1 is None else i1
    cerebro = bt.Cerebro(stdstats=False)
    clock = ClockFeed(dates=m.dates[i0:i1 + 1], first_index=i0)
    cerebro.adddata(clock, name="clock")
    book = ProxyBook(m, clock)
    cerebro.addstrategy(Recorder, book=book)
    return cerebro.run()[0], book


def test_one_bar_per_trading_day_with_the_market_index():
    m = market()
    strat, _ = run(m, 1, 3)
    assert [r[0] for r in strat.rows] == [1, 2, 3]
    assert [r[1] for r in strat.rows] == [m.date_at(i) for i in (1, 2, 3)]
    assert [r[5] for r in strat.rows] == [1, 2, 3]           # len(proxy) = bars seen by the clock


def test_proxy_shows_the_last_bar_on_a_suspended_day_never_nan():
    strat, _ = run(market())
    closes = [r[2] for r in strat.rows]
    opens = [r[3] for r in strat.rows]
    assert closes[2] == closes[1] == 10.5
    assert opens[2] == opens[1]
    assert not np.isnan(closes).any()
    assert [r[4] for r in strat.rows] == [r[1] for r in strat.rows]


def test_proxies_are_hashable_and_unique_per_symbol():
    m = market()
    _, book = run(m)
    a, b = book.get("600000.SH"), book.by_sid(0)
    assert a is b
    assert {a: 1}[b] == 1
    assert a._name == "600000.SH" and a._compensate is None
