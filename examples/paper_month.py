"""A paper month driven by a rebalance function: plan and execute each trading day of the month on the
simulator's own account, then compare with the backtest of the same function.

    python examples/paper_month.py DATA_DIR ACCOUNT.db 2020-04-07 2020-05-29

Start on a rebalance day of the schedule (here the first trading day of a week): a new paper account
trades the current list on its first day, a backtest waits for its first rebalance day.
"""
import sys

import ashare_sim as sim


def paper_month(data: str, account: str, first: str, last: str) -> tuple[float, float]:
    cfg = sim.load_config(overrides={"data.path": data, "backtest.start": first, "backtest.end": last,
                                     "strategy.function": "examples/weekly_reversal.py:reversal",
                                     "strategy.rebalance": "weekly", "output.report": False})
    market = sim.open_market(cfg)
    paper = sim.paper_account(account, cfg, market)
    days = [d for d in (market.date_at(i) for i in range(market.n_days)) if first <= d.isoformat() <= last]
    for day in days:
        paper.plan(day)
        paper.execute(day)
    backtest = sim.run_backtest(market, cfg)
    return paper.status()["value"], backtest.metrics["final_value"]


if __name__ == "__main__":
    paper_value, backtest_value = paper_month(*sys.argv[1:5])
    print(f"paper account {paper_value:,.2f} CNY, backtest {backtest_value:,.2f} CNY")
