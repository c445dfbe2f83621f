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
