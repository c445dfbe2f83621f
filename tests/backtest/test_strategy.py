"""The rebalancer: timing, sells before buys, lot sizing, retries until the next rebalance."""
import pandas as pd
import pytest

from ashare_sim.backtest.run import run_backtest
from ashare_sim.config import load_config
from tests.market_builder import MarketBuilder
from tests.presets import IDEAL_EXECUTION

A, B, C = "600000.SH", "000001.SZ", "600004.SH"


def cfg(*sets):
    return load_config(None, [*IDEAL_EXECUTION, "backtest.start=2021-03-01", "backtest.end=2021-12-31", "backtest.benchmark=none",
                              "output.report=false", "broker.cash=1000000", *sets])


def targets(*rows):
    return pd.DataFrame(rows, columns=["rebalance_date", "symbol", "weight"])


def test_orders_are_sized_at_the_previous_close_and_fill_at_the_rebalance_open():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock(A, close=[10.0, 10.3, 10.3, 10.3], open=[10.0, 10.2, 10.3, 10.3])
    r = run_backtest(b.build(), cfg(), None, targets=targets((b.day(1), A, 0.5)))
    o = r.orders.iloc[0]
    assert str(o["date"]) == b.day(1)
    assert o["requested_qty"] == 50_000             # 0.5 x 1,000,000 / 10.0 (day-0 close), whole lots
    assert o["price"] == pytest.approx(10.2)        # day-1 open


def test_sells_go_first_and_fund_the_same_days_buys():
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock(A, close=[10.0] * 5)
    b.stock(B, close=[20.0] * 5)
    r = run_backtest(b.build(), cfg(), None,
                     targets=targets((b.day(1), A, 0.99), (b.day(3), B, 0.99)))
    day3 = r.orders[r.orders["date"].astype(str) == b.day(3)]
    assert day3["side"].tolist() == ["sell", "buy"]
    assert day3["status"].tolist() == ["filled", "filled"]
    assert day3.iloc[1]["filled_qty"] == 49_400      # lot-rounded 0.99 x value / 20


def test_suspended_day_blocks_both_sides_and_the_retry_fills_on_resumption():
    b = MarketBuilder(start="2021-03-01", days=6)
    b.stock(A, close=[10.0] * 6)
    b.stock(B, close=[20.0] * 6)
    b.suspend(A, 3).suspend(B, 3)
    r = run_backtest(b.build(), cfg(), None, targets=targets((b.day(1), A, 0.9), (b.day(3), B, 0.9)))
    o = r.orders
    on3 = o[o["date"].astype(str) == b.day(3)]
    assert on3["reason"].tolist() == ["suspended", "suspended"] and on3["side"].tolist() == ["sell", "buy"]
    on4 = o[o["date"].astype(str) == b.day(4)]
    assert on4["status"].tolist() == ["filled", "filled"]
    assert r.holdings[r.holdings["date"].astype(str) == b.day(3)]["symbol"].tolist() == [A]
    assert len(o) == 5                              # buy A; sell A, buy B (blocked); both retried once


def test_retry_stops_at_the_next_rebalance_and_volume_cap_remainders_are_retried():
    b = MarketBuilder(start="2021-03-01", days=6)
    b.stock(A, close=[10.0] * 6, volume=10_000)
    r = run_backtest(b.build(), cfg("broker.volume_cap=0.25"), None,
                     targets=targets((b.day(1), A, 0.5), (b.day(4), A, 0.0)))
    o = r.orders
    buys = o[o["side"] == "buy"]
    assert buys["filled_qty"].tolist() == [2500, 2500, 2500]           # days 1, 2, 3; superseded on day 4
    assert set(buys["reason"]) == {"volume_cap"}
    sells = o[o["side"] == "sell"]
    assert sells["filled_qty"].tolist() == [2500, 2500]                # days 4, 5 (the run ends), capped too
    assert str(sells.iloc[0]["date"]) == b.day(4)


def test_retry_off_leaves_remainders():
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock(A, close=[10.0] * 5, volume=10_000)
    r = run_backtest(b.build(), cfg("broker.volume_cap=0.25", "broker.retry=false"), None,
                     targets=targets((b.day(1), A, 0.5)))
    assert len(r.orders) == 1 and r.orders.iloc[0]["reason"] == "volume_cap"


def test_holdings_are_recorded_on_rebalance_dates_after_trading():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock(A, close=[10.0, 10.0, 11.0, 11.0])
    r = run_backtest(b.build(), cfg(), None, targets=targets((b.day(1), A, 0.5)))
    h = r.holdings.iloc[0]
    assert (str(h["date"]), h["symbol"], h["qty"], h["sellable_qty"]) == (b.day(1), A, 50_000, 0)
    assert h["value"] == pytest.approx(h["qty"] * h["close"])


def test_a_buy_cut_for_cash_is_retried_once_a_sale_has_freed_cash():
    b = MarketBuilder(start="2021-03-01", days=6)
    b.stock(A, close=[10.0, 10.0, 10.0, 9.0, 9.0, 9.0])
    b.bar(A, 3, open=9.0, high=9.0, low=9.0, close=9.0)            # locked limit-down on the rebalance day
    b.stock(B, close=[20.0] * 6)
    r = run_backtest(b.build(), cfg(), None, targets=targets((b.day(1), A, 0.99), (b.day(3), B, 0.99)))
    o = r.orders
    on3 = o[o["date"].astype(str) == b.day(3)]
    assert on3["reason"].tolist() == ["limit_down", "cash"]
    on4 = o[o["date"].astype(str) == b.day(4)]
    # the sale at the lower price funds most of the buy on the same day; the rest is short of cash
    assert on4["side"].tolist() == ["sell", "buy"] and on4["status"].tolist() == ["filled", "partial"]
    assert on4.iloc[1]["filled_qty"] > 40_000 and on4.iloc[1]["reason"] == "cash"
    assert len(o) == 5                              # no more cash comes: the rest is not retried


def test_a_halted_holding_does_not_make_the_cash_cut_buy_retry_every_day():
    b = MarketBuilder(start="2021-03-01", days=8)
    b.stock(A, close=[10.0, 10.0, 10.0, None, None, None, 10.0, 10.0])   # halted on the rebalance day and after
    b.stock(B, close=[20.0] * 8)
    r = run_backtest(b.build(), cfg(), None, targets=targets((b.day(1), A, 0.99), (b.day(3), B, 0.99)))
    o = r.orders
    cash_refusals = o[(o["side"] == "buy") & (o["reason"] == "cash")]
    # refused for cash on the rebalance day only, not on each halted day
    assert cash_refusals["date"].astype(str).tolist() == [b.day(3)]
    resumed = o[o["date"].astype(str) == b.day(6)]
    assert resumed["side"].tolist() == ["sell"] and resumed["status"].iloc[0] == "filled"
    # the sale on resumption frees the cash; the buy goes out for the next day
    after = o[o["date"].astype(str) == b.day(7)]
    assert after["side"].tolist() == ["buy"] and after["filled_qty"].iloc[0] > 0


def test_no_position_sell_is_refused():
    from tests.execution.models.harness import only, run_orders
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(A, close=[10.0] * 3)
    assert only(run_orders(b.build(), [(1, A, "sell", 100)])).reason == "no_position"


def test_a_target_that_never_traded_is_skipped():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock(A, close=[10.0] * 4)
    b.stock(B, close=[20.0, 20.0], first_day=2, list_date="2021-03-03")
    r = run_backtest(b.build(), cfg(), None, targets=targets((b.day(1), A, 0.5), (b.day(1), B, 0.5)))
    assert r.orders["symbol"].tolist() == [A]


def test_a_rebalance_on_the_first_day_of_the_window_is_sized_at_the_close_before_it():
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock(A, close=[8.0, 10.0, 10.0, 10.0, 10.0])
    r = run_backtest(b.build(), cfg(f"backtest.start={b.day(1)}"), None, targets=targets((b.day(1), A, 0.5)))
    o = r.orders.iloc[0]
    assert str(o["date"]) == b.day(1) and o["requested_qty"] == 62_500       # 0.5 x 1,000,000 / 8.0
    assert str(r.equity["date"].iloc[0]) .startswith(b.day(1)) and len(r.equity) == 4
    # On the market's very first day there is no close before it: it trades the next day.
    r = run_backtest(b.build(), cfg(), None, targets=targets((b.day(0), A, 0.5)))
    assert str(r.orders.iloc[0]["date"]) == b.day(1)


def test_holdings_are_snapshot_on_the_last_day_too():
    b = MarketBuilder(start="2021-03-01", days=6)
    b.stock(A, close=[10.0, 10.0, 10.5, 11.0, 11.5, 12.0])
    r = run_backtest(b.build(), cfg(), None, targets=targets((b.day(1), A, 0.5)))
    assert r.holdings["date"].astype(str).tolist() == [b.day(1), b.day(5)]
    last = r.holdings.iloc[-1]
    assert last["close"] == pytest.approx(12.0) and last["value"] == pytest.approx(last["qty"] * 12.0)


def test_a_halted_stock_retried_all_month_is_one_blocked_intent():
    b = MarketBuilder(start="2021-03-01", days=12)
    b.stock(A, close=[10.0] * 12)
    b.stock(B, close=[20.0] * 12)
    b.suspend(B, *range(1, 12))                                   # halted from the first rebalance on
    r = run_backtest(b.build(), cfg(), None, targets=targets((b.day(1), A, 0.4), (b.day(1), B, 0.4)))
    o = r.orders
    assert (o["symbol"] == B).sum() == 11 and o.loc[o["symbol"] == B, "attempt"].tolist() == list(range(11))
    m = r.metrics
    assert m["n_intents"] == 2 and m["retries"] == 10 and m["intents_unfilled"] == 1
    assert m["blocked_suspended"] == pytest.approx(0.5)           # one of two intents, not 11 of 12 rows
    assert m["attempts_blocked_suspended"] == pytest.approx(11 / 12)


def test_a_rebalancer_subclass_or_an_added_analyzer_still_hears_trades_and_orders():
    """The Rebalancer skips Backtrader's trade bookkeeping only when nothing listens to trades."""
    import backtrader as bt

    from ashare_sim.backtest import run as engine
    from ashare_sim.backtest.strategy import Rebalancer

    class Hearing(Rebalancer):
        def notify_trade(self, trade):
            heard.append(("strategy", trade.status))

    class Trades(bt.Analyzer):
        def notify_trade(self, trade):
            heard.append(("analyzer", trade.status))

    class Orders(bt.Analyzer):
        def notify_order(self, order):
            heard.append(("orders", order.getstatusname()))

    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock(A, close=[10.0] * 5)
    b.stock(B, close=[20.0] * 5)
    lists = targets((b.day(1), A, 0.5), (b.day(3), B, 0.5))
    plain = run_backtest(b.build(), cfg(), None, targets=lists)
    heard: list = []
    add_analyzer = engine.bt.Cerebro.addanalyzer

    def with_listeners(cerebro, *args, **kwargs):
        if not any(a[0] is Trades for a in cerebro.analyzers):
            add_analyzer(cerebro, Trades)
            add_analyzer(cerebro, Orders)
        return add_analyzer(cerebro, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "Rebalancer", Hearing)
        mp.setattr(engine.bt.Cerebro, "addanalyzer", with_listeners)
        listened = run_backtest(b.build(), cfg(), None, targets=lists)
    opened, closed = bt.Trade.Open, bt.Trade.Closed
    assert [s for who, s in heard if who == "strategy"] == [opened, closed, opened]
    assert [s for who, s in heard if who == "analyzer"] == [opened, closed, opened]
    assert [s for who, s in heard if who == "orders"] == ["Completed"] * 3
    pd.testing.assert_frame_equal(listened.orders, plain.orders)
    pd.testing.assert_frame_equal(listened.equity, plain.equity)
