"""Wiring a run: Cerebro, the clock feed, the rebalancer, the A-share broker, analyzers, outputs."""
