"""Paper trading: the monthly list run forward day by day on a SQLite account, with the backtest's rules."""
