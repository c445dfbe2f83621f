"""One test per pre-trade rule and reason code, through the real broker."""
import pytest

from ashare_sim.execution.context import OrderContext
from ashare_sim.execution.models.deal_price import OpenPrice
from ashare_sim.execution.models.validators import (
    Delisted,
    LotSize,
    PriceLimit,
    Suspended,
    TPlusOne,
)
from ashare_sim.rules import RulesTable
from tests.execution.models.harness import make, only, run_orders
from tests.market_builder import MarketBuilder

MAIN, STAR, GEM = "600000.SH", "688001.SH", "300001.SZ"


def market_with(day1: dict, symbol=MAIN, start="2021-03-01", **stock):
    b = MarketBuilder(start=start, days=4)
    b.stock(symbol, close=[10.0, 10.0, 10.0, 10.0], **stock)
    b.bar(symbol, 1, **day1)
    return b


# ----- price limits -------------------------------------------------------------
@pytest.mark.parametrize("rule", ["strict", "locked"])
def test_one_price_limit_up_bar_blocks_a_buy(rule):
    m = market_with(dict(open=11.0, high=11.0, low=11.0, close=11.0)).build()
    broker = run_orders(m, [(1, MAIN, "buy", 1000)], f"broker.limit_rule={rule}")
    row = only(broker)
    assert (row.status, row.reason, row.filled_qty) == ("rejected", "limit_up", 0)


def test_touched_limit_blocks_under_strict_but_not_locked():
    m = market_with(dict(open=11.0, high=11.0, low=10.5, close=10.8)).build()
    strict = only(run_orders(m, [(1, MAIN, "buy", 1000)], "broker.limit_rule=strict"))
    locked = only(run_orders(m, [(1, MAIN, "buy", 1000)], "broker.limit_rule=locked"))
    assert (strict.status, strict.reason) == ("rejected", "limit_up")
    assert (locked.status, locked.filled_qty) == ("filled", 1000)
    assert locked.price <= 11.0 + 1e-6


def test_limit_off_ignores_limits():
    m = market_with(dict(open=11.0, high=11.0, low=11.0, close=11.0)).build()
    assert only(run_orders(m, [(1, MAIN, "buy", 1000)], "broker.limit_rule='off'")).status == "filled"


def test_limit_down_blocks_a_sell():
    m = market_with(dict(open=9.0, high=9.0, low=9.0, close=9.0)).build()
    broker = run_orders(m, [(1, MAIN, "sell", 500)], "broker.limit_rule=locked")
    row = only(broker)
    # No position: the limit check comes first and names the limit.
    assert (row.status, row.reason) == ("rejected", "limit_down")


def test_limit_down_blocks_selling_a_holding():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock(MAIN, close=[10.0, 10.0, 9.0, 9.0])
    b.bar(MAIN, 2, open=9.0, high=9.0, low=9.0, close=9.0)
    broker = run_orders(b.build(), [(1, MAIN, "buy", 1000), (2, MAIN, "sell", 1000), (3, MAIN, "sell", 1000)])
    assert only(broker, side="sell", status="rejected").reason == "limit_down"
    assert only(broker, side="sell", status="filled").date.isoformat() == b.day(3)


@pytest.mark.parametrize("start,expected", [("2020-08-17", "rejected"), ("2020-08-25", "filled")])
def test_chinext_open_up_15pct_buyable_only_after_the_reform(start, expected):
    b = MarketBuilder(start=start, days=3)
    b.stock(GEM, close=[10.0, 11.4, 11.4], open=[10.0, 11.5, 11.4], high=[10.0, 11.5, 11.4])
    row = only(run_orders(b.build(), [(1, GEM, "buy", 1000)]))
    assert row.status == expected
    if expected == "rejected":
        assert row.reason == "limit_up"


def test_st_main_board_at_plus_5pct_is_blocked():
    b = market_with(dict(open=10.5, high=10.5, low=10.3, close=10.4))
    b.st(MAIN, "2021-01-04")
    row = only(run_orders(b.build(), [(1, MAIN, "buy", 1000)]))
    assert (row.status, row.reason) == ("rejected", "limit_up")
    # The same bar without ST is far from the 10% limit.
    plain = market_with(dict(open=10.5, high=10.5, low=10.3, close=10.4)).build()
    assert only(run_orders(plain, [(1, MAIN, "buy", 1000)])).status == "filled"


# ----- suspension -----------------------------------------------------------------
def test_suspended_day_blocks_both_sides():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock(MAIN, close=[10.0, 10.0, 10.0, 10.0])
    b.stock("000001.SZ", close=[20.0, 20.0, 20.0, 20.0])
    b.suspend(MAIN, 2).suspend("000001.SZ", 2)
    broker = run_orders(b.build(), [(1, MAIN, "buy", 1000), (2, MAIN, "sell", 1000), (2, "000001.SZ", "buy", 100)])
    assert only(broker, side="sell").reason == "suspended"
    assert only(broker, symbol="000001.SZ").reason == "suspended"


def test_zero_volume_is_suspended():
    m = market_with(dict(volume=0)).build()
    assert only(run_orders(m, [(1, MAIN, "buy", 100)])).reason == "suspended"


# ----- T+1 ---------------------------------------------------------------------------
def test_t_plus_1_shares_bought_today_are_not_sellable_today():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock(MAIN, close=[10.0, 10.0, 10.0, 10.0])
    broker = run_orders(b.build(), [(1, MAIN, "buy", 1000), (1, MAIN, "sell", 1000), (2, MAIN, "sell", 1000)],
                        snap=(1,))
    rows = [r for r in broker.order_log if r.side == "sell"]
    assert (rows[0].status, rows[0].reason) == ("rejected", "t_plus_1")
    assert (rows[1].status, rows[1].filled_qty) == ("filled", 1000)
    # holdings snapshot at the close of day 1: 1000 held, none sellable
    assert broker.holdings_log[0][2:4] == (1000, 0)


def test_t_plus_1_off_allows_a_same_day_round_trip():
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(MAIN, close=[10.0, 10.0, 10.0])
    broker = run_orders(b.build(), [(1, MAIN, "buy", 1000), (1, MAIN, "sell", 1000)], "broker.t_plus_1=false")
    assert [r.status for r in broker.order_log] == ["filled", "filled"]


# ----- lots ---------------------------------------------------------------------------
def test_star_buy_of_250_is_valid_and_150_is_not():
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(STAR, close=[50.0, 50.0, 50.0], list_date="2020-01-02")
    broker = run_orders(b.build(), [(1, STAR, "buy", 250), (2, STAR, "buy", 150)])
    first, second = broker.order_log
    assert (first.status, first.filled_qty) == ("filled", 250)
    assert (second.status, second.reason) == ("rejected", "lot_size")


def test_main_board_buy_must_be_whole_lots():
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(MAIN, close=[10.0, 10.0, 10.0])
    broker = run_orders(b.build(), [(1, MAIN, "buy", 150)])
    assert only(broker).reason == "lot_size"


def test_odd_lot_sell_only_when_closing_the_whole_position():
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock(MAIN, close=[10.0, 10.0, 10.0, 5.0, 5.0])
    b.dividend(MAIN, b.day(3), bonus_per_share=0.5)          # 1000 -> 1500 shares
    broker = run_orders(b.build(), [(1, MAIN, "buy", 1000), (4, MAIN, "sell", 50), (4, MAIN, "sell", 1500)])
    odd, whole = [r for r in broker.order_log if r.side == "sell"]
    assert (odd.status, odd.reason) == ("rejected", "lot_size")
    assert (whole.status, whole.filled_qty) == ("filled", 1500)


# ----- volume cap, cash ------------------------------------------------------------------
def test_volume_cap_fills_a_share_of_the_days_volume():
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(MAIN, close=[10.0, 10.0, 10.0], volume=10_000)
    row = only(run_orders(b.build(), [(1, MAIN, "buy", 5000)], "broker.volume_cap=0.25"))
    assert (row.status, row.filled_qty, row.reason) == ("partial", 2500, "volume_cap")


def test_buy_is_cut_to_the_affordable_lots():
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(MAIN, close=[10.0, 10.0, 10.0])
    row = only(run_orders(b.build(), [(1, MAIN, "buy", 2000)], "broker.cash=10000"))
    assert (row.status, row.filled_qty, row.reason) == ("partial", 900, "cash")
    none = only(run_orders(b.build(), [(1, MAIN, "buy", 2000)], "broker.cash=500"))
    assert (none.status, none.reason) == ("rejected", "cash")


# ----- delisting ---------------------------------------------------------------------------
def test_orders_after_the_last_listed_day_are_refused_delisted():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock(MAIN, close=[10.0, 10.0, None, None], delist_date="2021-03-02")
    b.stock("000001.SZ", close=[20.0] * 4)
    row = only(run_orders(b.build(), [(3, MAIN, "buy", 100)]))
    assert (row.status, row.reason) == ("rejected", "delisted")


# ----- the validator classes alone ----------------------------------------------------------
def ctx(**kw):
    base = dict(day=None, t=1, sid=0, symbol=MAIN, board="main", exchange="SH", side="buy", qty=100,
                open=10.0, high=10.0, low=10.0, close=10.0, volume=1e6, amount=1e7, high_limit=11.0,
                low_limit=9.0, has_bar=True, listed=True, delisted=False, position=0, sellable=0)
    base.update(kw)
    return OrderContext(**base)


def test_validator_classes_return_a_reason_or_none():
    rules = RulesTable.load()
    assert make(Delisted).check(ctx(delisted=True)) == "delisted"
    assert make(Delisted).check(ctx()) is None
    assert make(Suspended).check(ctx(has_bar=False)) == "suspended"
    assert make(Suspended).check(ctx(volume=0)) == "suspended"
    assert make(PriceLimit, limit_rule="strict", deal=make(OpenPrice)).check(ctx(open=11.0)) == "limit_up"
    assert make(PriceLimit, limit_rule="strict", deal=make(OpenPrice)).check(ctx(open=10.99)) is None
    assert make(PriceLimit, limit_rule="strict", deal=make(OpenPrice)).check(ctx(side="sell", open=9.0)) == "limit_down"
    assert make(PriceLimit, limit_rule="strict", deal=make(OpenPrice)).check(ctx(open=20.0, high_limit=float("nan"))) is None
    assert make(LotSize, rules=rules).check(ctx(qty=150)) == "lot_size"
    assert make(LotSize, rules=rules).check(ctx(side="sell", qty=37, position=37)) is None
    assert make(TPlusOne).check(ctx(side="sell", position=100, sellable=0)) == "t_plus_1"
