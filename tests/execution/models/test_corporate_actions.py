"""Dividends, bonus shares, the adj_factor fallback and delisting settlement."""
import pytest
from loguru import logger

from tests.execution.models.harness import run_orders, trades_df
from tests.market_builder import MarketBuilder

MAIN = "600000.SH"
FREE = ("broker.commission.rate=0", "broker.commission.min=0", "broker.stamp_duty=0", "broker.transfer_fee=0",
        "broker.cash=100000")


def values(broker):
    return [v for _, v, _ in broker.equity_log]


def test_cash_dividend_and_10_for_10_bonus_keep_the_total_return_value_continuous():
    b = MarketBuilder(start="2021-06-01", days=5)
    # ex-date day 2: 0.5 cash and 1 bonus share per share -> reference price (10 - 0.5) / 2 = 4.75
    b.stock(MAIN, close=[10.0, 10.0, 4.75, 4.75, 4.75], pre_close=[10.0, 10.0, 4.75, 4.75, 4.75])
    b.dividend(MAIN, b.day(2), cash_per_share=0.5, bonus_per_share=1.0)
    broker = run_orders(b.build(), [(1, MAIN, "buy", 1000), (2, MAIN, "sell", 2000), (3, MAIN, "sell", 2000)],
                        *FREE, snap=(2,))
    v = values(broker)
    assert v[1] == pytest.approx(100_000)
    assert v[2] == pytest.approx(v[1])                  # 2,000 x 4.75 + 500 cash = 10,000 held before
    assert broker.equity_log[2][2] == pytest.approx(90_000 + 500 + 4.75 * 1000)   # cash after the day-2 sale
    # bonus shares arrive on the ex-date but are sellable only the next day
    day2, day3 = [r for r in broker.order_log if r.side == "sell"]
    assert (day2.status, day2.filled_qty, day2.reason) == ("partial", 1000, "t_plus_1")
    assert (day3.status, day3.filled_qty) == ("filled", 1000)
    assert broker.holdings_log[0][2:4] == (1000, 0)     # after day 2: 1,000 left, all bonus shares, none sellable


def test_a_holding_suspended_through_its_ex_date_is_valued_at_the_ex_right_price():
    # Bought day 1 at 10; suspended days 2-3, ex-date day 2 (0.5 cash + 1 bonus share per share); resumes
    # day 4 at the reference price. The bonus shares arrive on day 2: valued at the old close 10.0 the
    # account would jump by 10,000 for two days and fall back when trading resumed.
    b = MarketBuilder(start="2021-06-01", days=5)
    b.stock(MAIN, close=[10.0, 10.0, None, None, 4.75])
    b.dividend(MAIN, b.day(2), cash_per_share=0.5, bonus_per_share=1.0)
    broker = run_orders(b.build(), [(1, MAIN, "buy", 1000)], *FREE, snap=(2,))
    assert values(broker)[1:] == pytest.approx([100_000] * 4)
    assert broker.holdings_log[0][2] == 2000 and broker.holdings_log[0][4] == pytest.approx(4.75)


def test_dividend_tax_by_holding_period():
    b = MarketBuilder(start="2021-06-01", days=4)
    b.stock(MAIN, close=[10.0, 10.0, 9.5, 9.5])
    b.dividend(MAIN, b.day(2), cash_per_share=0.5)
    taxed = run_orders(b.build(), [(1, MAIN, "buy", 1000)], *FREE, "broker.dividend_tax=true")
    free = run_orders(b.build(), [(1, MAIN, "buy", 1000)], *FREE)
    assert free.cash - taxed.cash == pytest.approx(500 * 0.20)      # held <= 1 month: 20%


def test_without_a_dividends_table_the_adj_factor_rise_becomes_shares_and_is_logged():
    b = MarketBuilder(start="2021-06-01", days=4)
    b.stock(MAIN, close=[10.0, 10.0, 5.0, 5.0], adj_factor=[1.0, 1.0, 2.0, 2.0])
    messages = []
    sink = logger.add(lambda m: messages.append(str(m)), level="INFO")
    try:
        broker = run_orders(b.build(), [(1, MAIN, "buy", 1000)], *FREE)
    finally:
        logger.remove(sink)
    assert broker.account.positions[0].qty == 2000
    v = values(broker)
    assert v[2] == pytest.approx(v[1])
    assert any("inferred from adj_factor" in m for m in messages)


def test_a_delisted_holding_is_settled_at_the_last_close_with_the_haircut():
    b = MarketBuilder(start="2021-06-01", days=5)
    b.stock(MAIN, close=[10.0, 10.0, 8.0, None, None], delist_date="2021-06-03")
    b.stock("000001.SZ", close=[20.0] * 5)
    broker = run_orders(b.build(), [(1, MAIN, "buy", 1000)], *FREE, "broker.delist_haircut=0.25")
    trades = trades_df(broker)
    settle = trades[trades["kind"] == "delist"].iloc[0]
    assert (str(settle["date"]), settle["side"], settle["qty"]) == ("2021-06-04", "sell", 1000)
    assert settle["price"] == pytest.approx(8.0 * 0.75)
    assert 0 not in broker.account.positions
    assert broker.cash == pytest.approx(100_000 - 10_000 + 6_000)
