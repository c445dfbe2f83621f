"""Backtrader strategies: the rebalancer that trades target lists."""
