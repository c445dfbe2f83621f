"""The execution core's own day loop: target lists run over the calendar without Backtrader, the way
`paper` runs a day, with the same outputs as the Backtrader run to the byte (a test holds them equal).

Each trading day t, in Backtrader's order: the broker's part (the day's corporate actions and
delistings, then yesterday's requests filled in the order they were sent, then the close's equity row)
and the strategy's part at the close (holdings recorded on rebalance days, then tomorrow's requests
from `execution.driver.ListDriver`). The scenarios of a stress grid run here: they differ only in
execution, and a pass over the days costs a fraction of a Cerebro run.
"""
from __future__ import annotations

from ashare_sim.execution.core import ExecutionCore
from ashare_sim.execution.driver import ListDriver
from ashare_sim.execution.orders import OrderRequest


def run_days(market, cfg_broker, first: int, last: int, driver: ListDriver, progress=None) -> ExecutionCore:
    """The core after trading calendar days [first, last]; its logs hold the run's orders, fills, equity
    and holdings. `progress(n)` is told of each day done."""
    core = ExecutionCore(market, cfg_broker)
    planner = driver.planner
    pending: list[OrderRequest] = []
    key = 0
    for t in range(first, last + 1):
        core.start_day(t)
        if pending:
            done = core.trade_day(pending, t)
            for req, filled, completed, reason in zip(pending, *done):     # the planner's book only: none
                planner.record(req, filled, completed, reason, t)            # changes a fill
        core.end_day(t)
        if driver.snapshot_due(t):
            core.snapshot_holdings(t)
        pending = driver.requests(t, core.account, lambda: core.value(t))
        for req in pending:             # the planner's requests are its own and made afresh each day
            key += 1                    # an order's identity, as Backtrader's order ref is (commission minimum)
            req.key = key
        if progress is not None:
            progress(1)
    return core
