"""Orders are real bt.Orders: the strategy hears Completed, Partial then Expired, Rejected, Margin."""
import backtrader as bt

from ashare_sim.backtest.run import make_cerebro
from tests.execution.models.harness import config
from tests.market_builder import MarketBuilder

MAIN = "600000.SH"


class Listener(bt.Strategy):
    params = (("book", None), ("orders", ()))

    def __init__(self):
        self.heard = []
        self.trades = []

    def notify_order(self, order):
        self.heard.append((order.ref, order.getstatusname(), order.info.get("reason", ""),
                           int(abs(order.executed.size))))

    def notify_trade(self, trade):
        self.trades.append((trade.isopen, trade.isclosed, trade.size))

    def next(self):
        t = self.p.book.clock.market_index()
        for day, side, qty in self.p.orders:
            if day == t + 1:
                (self.buy if side == "buy" else self.sell)(data=self.p.book.get(MAIN), size=qty)


def run(orders, *sets):
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock(MAIN, close=[10.0] * 5, volume=4000)
    b.suspend(MAIN, 3)
    m = b.build()
    cerebro, book = make_cerebro(m, config(*sets), 0, m.n_days - 1)
    cerebro.addstrategy(Listener, book=book, orders=orders)
    return cerebro.run()[0]


def test_statuses_and_reasons_reach_notify_order():
    s = run([(1, "buy", 500), (2, "buy", 2000), (3, "sell", 100), (4, "buy", 100000)],
            "broker.volume_cap=0.25", "broker.cash=15100")
    statuses = [(st, reason, filled) for _, st, reason, filled in s.heard]
    assert statuses == [
        ("Completed", "", 500),
        ("Partial", "volume_cap", 1000), ("Expired", "volume_cap", 1000),
        ("Rejected", "suspended", 0),
        ("Margin", "cash", 0),
    ]


def test_notify_trade_sees_the_position_open_and_close():
    s = run([(1, "buy", 500), (2, "sell", 500)])
    assert s.trades[0][0] and s.trades[-1][1]


def test_getvalue_of_some_datas_and_getposition_do_not_create_positions():
    class Probe(Listener):
        def stop(self):
            p = self.p.book.get(MAIN)
            self.value_of = self.broker.getvalue(datas=[p])
            self.pos = self.getposition(p).size
            self.n_positions = len(self.broker.positions)

    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(MAIN, close=[10.0, 10.0, 12.0])
    b.stock("000001.SZ", close=[5.0] * 3)
    m = b.build()
    cerebro, book = make_cerebro(m, config(), 0, m.n_days - 1)
    cerebro.addstrategy(Probe, book=book, orders=[(1, "buy", 500)])
    s = cerebro.run()[0]
    assert s.value_of == 6000.0 and s.pos == 500
    s.getposition(book.get("000001.SZ"))
    assert len(s.broker.positions) == 1


def _order_state(order) -> dict:
    """Everything a bt.Order holds, its own ref aside, as plain values (OrderData has no __eq__)."""
    state = dict(vars(order))
    state.pop("ref")
    state["keys"] = list(vars(order))
    state["params"] = list(vars(state.pop("params")).items())
    state["p"] = state["p"] is order.params
    state["info"] = dict(order.info)
    for part in ("created", "executed"):
        state[part] = {k: [dict(vars(bit)) for bit in v] if k == "exbits" else v for k, v in vars(state[part]).items()}
    return state


def test_the_day_market_order_builder_makes_what_backtraders_constructor_makes():
    from ashare_sim.backtest.broker import day_market_order
    from ashare_sim.backtest.userland import make_cerebro as user_cerebro

    class Compare(bt.Strategy):
        params = (("datas_of", None),)

        def __init__(self):
            self.pairs = []

        def next(self):
            eos = {}
            for data in self.p.datas_of(self):
                for cls in (bt.BuyOrder, bt.SellOrder):
                    for exectype, tradeid, transmit, histnotify in ((None, 0, True, False),
                                                                    (bt.Order.Market, 2, False, True)):
                        made = cls(owner=self, data=data, size=300, price=None, pricelimit=None, exectype=exectype,
                                   valid=None, tradeid=tradeid, oco=None, trailamount=None, trailpercent=None,
                                   parent=None, transmit=transmit, histnotify=histnotify)
                        for cache in (None, eos, eos):
                            fast = day_market_order(cls, self, data, 300, tradeid, transmit, histnotify, exectype,
                                                    cache)
                            assert type(fast) is cls and fast.ref > made.ref
                            self.pairs.append((_order_state(made), _order_state(fast)))
                if len(self) == 1:                  # the broker's short way for the engine's strategy, submitted
                    for buy in (True, False):
                        sent = (self.buy if buy else self.sell)(data=data, size=200, exectype=bt.Order.Market,
                                                                rebalance="2021-03-02", attempt=1)
                        short = self.broker.day_order(self, data, 200, buy, rebalance="2021-03-02", attempt=1)
                        self.pairs.append((_order_state(sent), _order_state(short)))

    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(MAIN, close=[10.0, 10.5, 12.0])
    m = b.build()
    cerebro, book = make_cerebro(m, config(), 0, m.n_days - 1)       # the engine's proxies
    cerebro.addstrategy(Compare, datas_of=lambda s: [book.get(MAIN)])
    proxies = cerebro.run()[0].pairs
    user = user_cerebro(m, config(), symbols=[MAIN])                   # a user's per-stock feeds
    user.addstrategy(Compare, datas_of=lambda s: s.datas)
    feeds = user.run()[0].pairs
    assert len(proxies) == len(feeds) == 3 * 12 + 2       # three bars, and the short way on the first
    for made, fast in proxies + feeds:
        assert fast == made


def test_a_users_day_of_odd_sizes_repeats_and_refusals_judged_together_equals_one_at_a_time(tmp_path_factory,
                                                                                          monkeypatch):
    """A Backtrader strategy's day of orders goes to the core together unless a stock is ordered twice in it or a
    size rounds to no lot (then one at a time, as before); either way the run is the same."""
    import datetime as dt

    import pandas as pd

    import ashare_sim.backtest.broker as broker
    from ashare_sim.backtest.userland import make_cerebro
    from ashare_sim.config import load_config
    from ashare_sim.data.market import load_market
    from tests.conftest import generated_market

    market = load_market(generated_market(tmp_path_factory, "broker_days", 30, dt.date(2020, 1, 1),
                                          dt.date(2020, 12, 31), 3))
    symbols = [str(s) for s in market.symbols[:24]]

    class Busy(bt.Strategy):
        def next(self):
            n = len(self)
            for i, d in enumerate(self.datas):
                if (i + n) % 3 == 0:
                    self.buy(data=d, size=150 + 37 * i)              # odd sizes: rounded down to the lot
                elif self.getposition(d).size and (i + n) % 3 == 1:
                    self.sell(data=d, size=self.getposition(d).size // 2 + 13)
            if n % 5 == 0:                                           # a stock twice in a day: the sell's lots
                held = self.getposition(self.datas[0]).size          # count the buy before it
                self.buy(data=self.datas[0], size=300)
                if held:
                    self.sell(data=self.datas[0], size=held + 150)
            if n % 7 == 0:
                self.buy(data=self.datas[1], size=40)                # below one lot: refused with lot_size

    def run(out):
        cfg = load_config(None, ["broker.cash=5000000", "output.report=false", "backtest.benchmark=none"])
        cb = make_cerebro(market, cfg, symbols=symbols)
        cb.addstrategy(Busy)
        return cb.run_ashare(out=out)

    seen = []
    execute_day = broker.ExecutionCore.execute_day
    monkeypatch.setattr(broker.ExecutionCore, "execute_day", lambda self, r, t: seen.append(t) or execute_day(self, r, t))
    together = run(tmp_path_factory.mktemp("together") / "out")
    monkeypatch.setattr(broker, "BATCH_MIN_ORDERS", 10**9)
    one_by_one = run(tmp_path_factory.mktemp("one_by_one") / "out")
    assert len(seen) > 50 and len(together.trades) > 500
    assert set(together.orders["reason"]) >= {"lot_size", ""}
    for a, b in ((together.orders, one_by_one.orders), (together.trades, one_by_one.trades),
                 (together.equity, one_by_one.equity)):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert together.metrics == one_by_one.metrics
