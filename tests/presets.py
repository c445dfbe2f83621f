"""Execution settings the engine tests were written under, pinned so they do not move with config.yaml's
defaults: open fills, no slippage, a 25% volume cap, dividends paid gross. Tests of the realistic
defaults (VWAP, square-root impact, 10% cap, dividend tax) say so explicitly."""

IDEAL_EXECUTION = ["broker.deal_price=open", "broker.slippage.model=fixed_bps", "broker.slippage.bps=0",
                   "broker.volume_cap=0.25", "broker.dividend_tax=false"]
