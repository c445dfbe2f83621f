"""The rebalance planner's resize rule (strategy.resize): always, hold, drift; without Backtrader."""
import pytest

from ashare_sim.execution.account import Account
from ashare_sim.execution.planner import RebalancePlanner, ResizeRule
from tests.market_builder import MarketBuilder

A, B, C = "600000.SH", "000001.SZ", "600036.SH"


def setup():
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock(A, close=[10.0, 12.0, 12.0])            # A rose 20% since it was bought at 10
    b.stock(B, close=[20.0] * 3)
    b.stock(C, close=[5.0] * 3)
    m = b.build()
    acct = Account.from_dict({"cash": 500_000.0, "positions": [
        {"symbol": A, "qty": 25_000, "cost": 250_000.0, "opened": "2021-03-01", "locked": 0, "seq": 0},
        {"symbol": B, "qty": 12_500, "cost": 250_000.0, "opened": "2021-03-01", "locked": 0, "seq": 1},
    ]}, m.symbol_index)
    value = 500_000 + 25_000 * 12.0 + 12_500 * 20.0          # 1,050,000: A is 28.6% of it, B 23.8%
    return m, acct, value


def orders(rule: ResizeRule, plan):
    m, acct, value = setup()
    p = RebalancePlanner(m, lot_size=True, resize=rule)
    reqs = p.rebalance(1, [(m.symbol_index[s], w) for s, w in plan], acct, value)
    return {(r.symbol, r.side): r.qty for r in reqs}, p.skipped.counts


PLAN = [(A, 0.25), (B, 0.25), (C, 0.25)]


def test_always_trades_every_name_back_to_its_weight():
    got, _ = orders(ResizeRule("always"), PLAN)
    assert got == {(A, "sell"): 3_200, (B, "buy"): 600, (C, "buy"): 52_500}       # A to 21,800 = 0.25 x V / 12


def test_hold_trades_only_the_names_joining_or_leaving():
    got, skipped = orders(ResizeRule("hold"), PLAN)
    assert got == {(C, "buy"): 52_500} and skipped["within_drift"] == 2
    got, _ = orders(ResizeRule("hold"), [(A, 0.5)])               # B leaves: sold whole, A kept as it is
    assert got == {(B, "sell"): 12_500}


@pytest.mark.parametrize("drift, expected", [
    (0.01, {(A, "sell"): 3_200, (B, "buy"): 600, (C, "buy"): 52_500}),   # A 3.6 points off, B 1.2: both re-sized
    (0.02, {(A, "sell"): 3_200, (C, "buy"): 52_500}),            # B within 2 points: left
    (0.05, {(C, "buy"): 52_500}),                                # both within 5 points
])
def test_drift_re_sizes_a_name_only_past_the_threshold(drift, expected):
    got, _ = orders(ResizeRule("drift", drift), PLAN)
    assert got == expected
