"""Costs: commission with a once-per-order minimum, dated stamp duty and transfer fee."""
import pytest

from ashare_sim.execution.context import context_from_market
from ashare_sim.execution.models.costs import (
    Commission,
    CostModel,
    StampDuty,
    TransferFee,
)
from ashare_sim.execution.orders import Costs
from tests.execution.models.harness import config, make, run_orders, trades_df
from tests.market_builder import MarketBuilder, d

MAIN = "600000.SH"


def test_commission_minimum_is_charged_once_across_partial_fills():
    c = make(Commission, rate=0.0003, min=5.0)
    day = d("2021-06-01")
    charges = [c.fee("order-1", day, "buy", "SH", 100, 1000.0) for _ in range(3)]   # 3 x 1,000 CNY: 0.9 at the rate
    assert charges == pytest.approx([5.0, 0.0, 0.0])
    big = [c.fee("order-2", day, "buy", "SH", 1000, 10_000.0) for _ in range(3)]  # 9 CNY at the rate in total
    assert sum(big) == pytest.approx(9.0)
    assert big[0] == pytest.approx(5.0)


def test_the_core_charges_the_minimum_once_for_three_partial_fills_of_one_order():
    # One order filled in three parts on one day (as a broker adapter may report them): one minimum.
    from ashare_sim.execution.core import ExecutionCore
    from ashare_sim.execution.orders import OrderRequest

    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(MAIN, close=[10.0, 10.0, 10.0])
    m = b.build()
    core = ExecutionCore(m, config().broker)
    core.start_day(1)
    req = OrderRequest(0, MAIN, "buy", 300, key=7)
    ctx = context_from_market(m, 1, 0, "buy", 300)
    fills = [core._fill(req, ctx, 100, 10.0, 10.0) for _ in range(3)]
    assert [f.costs.commission for f in fills] == pytest.approx([5.0, 0.0, 0.0])
    assert core.account.qty(0) == 300
    core.end_day(1)
    again = core._fill(OrderRequest(0, MAIN, "buy", 100, key=7), context_from_market(m, 2, 0, "buy", 100),
                       100, 10.0, 10.0)
    assert again.costs.commission == pytest.approx(5.0)          # a new day: a new order, a new minimum


def test_a_retry_on_a_later_day_is_a_new_order_with_its_own_minimum():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock(MAIN, close=[10.0] * 4)
    broker = run_orders(b.build(), [(1, MAIN, "buy", 100), (2, MAIN, "buy", 100)])
    assert trades_df(broker)["commission"].tolist() == pytest.approx([5.0, 5.0])


def test_stamp_duty_differs_for_sells_on_2023_08_25_and_2023_08_28():
    b = MarketBuilder(dates=["2023-08-23", "2023-08-24", "2023-08-25", "2023-08-28", "2023-08-29"])
    b.stock(MAIN, close=[10.0] * 5)
    broker = run_orders(b.build(), [(1, MAIN, "buy", 2000), (2, MAIN, "sell", 1000), (3, MAIN, "sell", 1000)])
    fills = trades_df(broker)
    sells = fills[fills["side"] == "sell"]
    assert [str(x) for x in sells["date"]] == ["2023-08-25", "2023-08-28"]
    assert sells["stamp_duty"].tolist() == pytest.approx([10.0, 5.0])     # 0.1% then 0.05% of 10,000
    assert fills[fills["side"] == "buy"]["stamp_duty"].tolist() == [0.0]


def test_transfer_fee_follows_the_dated_schedule_both_sides():
    fee = make(TransferFee, transfer_fee="schedule")
    assert fee.fee("o", d("2021-06-01"), "buy", "SH", 1000, 10_000.0) == pytest.approx(0.2)    # 0.002%
    assert fee.fee("o", d("2022-06-01"), "sell", "SZ", 1000, 10_000.0) == pytest.approx(0.1)   # 0.001%
    assert fee.fee("o", d("2014-06-03"), "buy", "SH", 1000, 10_000.0) == pytest.approx(0.3)    # per share era (SH)
    assert make(TransferFee, transfer_fee=0.0).fee("o", d("2021-06-01"), "buy", "SH", 1000, 10_000.0) == 0.0


def test_stamp_duty_config_number_is_a_sell_side_rate():
    s = make(StampDuty, stamp_duty=0.002)
    assert s.fee("o", d("2021-06-01"), "sell", "SH", 100, 1000.0) == pytest.approx(2.0)
    assert s.fee("o", d("2021-06-01"), "buy", "SH", 100, 1000.0) == 0.0


def test_costs_are_separate_fields_and_charged_excludes_slippage():
    model = CostModel([make(Commission), make(StampDuty), make(TransferFee)])
    c = model.fill_costs("o", d("2021-06-01"), "sell", "SH", 1000, 9.99, 10.0)
    assert isinstance(c, Costs)
    assert c.commission == pytest.approx(5.0)
    assert c.stamp_duty == pytest.approx(9.99)
    assert c.transfer_fee == pytest.approx(0.1998)
    assert c.slippage == pytest.approx(10.0)                 # sold 0.01 below the deal price: a cost
    assert c.charged == pytest.approx(5.0 + 9.99 + 0.1998)


def test_slippage_is_signed_a_better_price_is_a_gain_not_a_cost():
    model = CostModel([make(Commission), make(StampDuty), make(TransferFee)])
    assert model.fill_costs("s", d("2021-06-01"), "sell", "SH", 1000, 10.01, 10.0).slippage == pytest.approx(-10.0)
    assert model.fill_costs("b", d("2021-06-01"), "buy", "SH", 1000, 10.02, 10.0).slippage == pytest.approx(20.0)
    assert model.fill_costs("c", d("2021-06-01"), "buy", "SH", 1000, 9.99, 10.0).slippage == pytest.approx(-10.0)


def test_trades_carry_each_cost_and_cash_moves_by_notional_plus_fees():
    b = MarketBuilder(start="2021-06-01", days=3)
    b.stock(MAIN, close=[10.0] * 3)
    broker = run_orders(b.build(), [(1, MAIN, "buy", 1000)], "broker.cash=100000")
    f = trades_df(broker).iloc[0]
    assert f["commission"] == pytest.approx(5.0)
    assert f["transfer_fee"] == pytest.approx(0.2)
    assert broker.cash == pytest.approx(100_000 - 10_000 - 5.2)
