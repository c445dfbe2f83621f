"""The execution core without Backtrader: one order under every rule, the cumulative volume cap, the account
as plain data, the planner's retry book as plain data."""
import datetime as dt

import pytest

from ashare_sim.config import load_config
from ashare_sim.execution.account import Account
from ashare_sim.execution.core import ExecutionCore
from ashare_sim.execution.orders import OrderRequest
from ashare_sim.execution.planner import RebalancePlanner
from tests.market_builder import MarketBuilder
from tests.presets import IDEAL_EXECUTION

A, B = "600000.SH", "000001.SZ"


def market():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock(A, close=[10.0] * 4, volume=10_000)
    b.stock(B, close=[20.0] * 4, volume=1_000_000)
    return b.build()


def sid(m, symbol):
    return m.symbol_index[symbol]


def core(m, *sets):
    return ExecutionCore(m, load_config(None, [*IDEAL_EXECUTION, "broker.cash=1000000", *sets]).broker)


def test_two_orders_in_one_stock_share_the_days_volume_cap():
    m = market()
    c = core(m, "broker.volume_cap=0.25")
    c.start_day(1)
    first = c.execute(OrderRequest(sid(m, A), A, "buy", 2_000, key=1), 1)
    second = c.execute(OrderRequest(sid(m, A), A, "buy", 2_000, key=2), 1)
    assert (first.status, first.filled_qty) == ("filled", 2_000)
    assert (second.status, second.filled_qty, second.reason) == ("partial", 500, "volume_cap")   # 2,500 in all
    third = c.execute(OrderRequest(sid(m, A), A, "buy", 100, key=3), 1)
    assert (third.status, third.reason) == ("rejected", "volume_cap")
    c.end_day(1)
    c.start_day(2)
    assert c.execute(OrderRequest(sid(m, A), A, "buy", 2_000, key=4), 2).status == "filled"           # a new day


def test_t_plus_1_and_cash_without_backtrader():
    m = market()
    c = core(m)
    c.start_day(1)
    assert c.execute(OrderRequest(sid(m, B), B, "buy", 1_000, key=1), 1).status == "filled"
    sell = c.execute(OrderRequest(sid(m, B), B, "sell", 1_000, key=2), 1)
    assert (sell.status, sell.reason) == ("rejected", "t_plus_1")
    c.end_day(1)
    c.start_day(2)
    assert c.execute(OrderRequest(sid(m, B), B, "sell", 1_000, key=3), 2).status == "filled"
    big = c.execute(OrderRequest(sid(m, B), B, "buy", 100_000, key=4), 2)
    assert big.status == "partial" and big.reason == "cash" and c.account.cash >= 0


def test_account_and_retry_book_round_trip_as_plain_data():
    m = market()
    c = core(m, "broker.volume_cap=0.25")
    planner = RebalancePlanner(m)
    c.start_day(0)
    c.end_day(0)
    reqs = planner.rebalance(0, [(sid(m, A), 0.5)], c.account, c.value(0))
    c.start_day(1)
    for i, r in enumerate(reqs):
        r.key = i
        out = c.execute(r, 1)
        planner.record(r, out.filled_qty, out.status == "filled", out.reason, 1)
    c.end_day(1)
    acct = Account.from_dict(c.account.to_dict(), m.symbol_index)
    assert acct.to_dict() == c.account.to_dict() and acct.positions[sid(m, A)].locked == 2_500
    again = RebalancePlanner.from_dict(planner.to_dict(), m)
    assert again.to_dict() == planner.to_dict()
    (rem,) = again.remaining.values()
    assert (rem.side, rem.qty, rem.reason, rem.rebalance) == ("buy", 47_500, "volume_cap", dt.date(2021, 3, 2))
    assert [r.attempt for r in again.retries(1, acct)] == [1]
    with pytest.raises(Exception, match="does not list"):
        Account.from_dict({"cash": 1.0, "positions": [{"symbol": "999999.SZ", "qty": 1, "cost": 1.0,
                                                       "opened": "2021-03-01"}]}, m.symbol_index)


def test_the_deal_price_is_computed_once_per_order_though_price_limits_and_the_fill_both_read_it():
    m = market()
    c = core(m, "broker.limit_rule=strict")
    asked = []
    model = c.deal.model
    original = model.price
    model.price = lambda ctx: asked.append(ctx) or original(ctx)        # counts the model's own work
    c.start_day(1)
    out = c.execute(OrderRequest(sid(m, B), B, "buy", 1_000, key=1), 1)
    assert out.status == "filled" and len(asked) == 1
    c.execute(OrderRequest(sid(m, B), B, "buy", 1_000, key=2), 1)
    assert len(asked) == 2 and asked[0] is not asked[1]                 # a new order is priced afresh


def test_a_panel_price_is_put_on_the_tick_as_before():
    from ashare_sim.execution.context import context_from_market
    from ashare_sim.rules.table import round_to_tick

    m = market()
    i = sid(m, B)
    m.panels["open"][1, i] = 20.004999                                  # float32 noise around a tick
    m.panels["high"][1, i] = float("nan")
    first = context_from_market(m, 1, i, "buy", 100)
    again = context_from_market(m, 1, i, "sell", 100)                    # from the lookup this time
    assert first.open == again.open == round_to_tick(float(m.panels["open"][1, i]), m.rules.tick) == 20.0
    assert first.high != first.high and again.high != again.high        # NaN stays NaN
    assert first.is_buy and not again.is_buy


def test_the_core_pickles_and_copies_as_a_backtrader_optimisation_sends_it_to_its_processes():
    import copy
    import pickle

    m = market()
    c = core(m)
    c.start_day(1)
    c.execute(OrderRequest(sid(m, B), B, "buy", 1_000, key=1), 1)
    for twin in (pickle.loads(pickle.dumps(c)), copy.deepcopy(c), copy.copy(c)):
        assert twin.account.qty(sid(m, B)) == 1_000
        assert twin.deal.price is not None and twin.deal.model.__class__ is c.deal.model.__class__
