"""The execution core: an account, order requests and outcomes, the A-share order steps, the rebalance planner.

No Backtrader here: the backtest broker and the paper account both drive it."""
