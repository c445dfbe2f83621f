"""A daily 5/20-day moving-average crossover, written as an ordinary Backtrader strategy, on the A-share
broker: buy a third of the book when the fast average crosses above the slow one, sell when it crosses
below. Indicators attach to the per-stock feeds as to any Backtrader feed.

    python examples/ma_crossover.py [DATA_DIR] [OUT]
"""
import sys

import backtrader as bt

import ashare_sim as sim


class MovingAverageCross(bt.Strategy):
    params = (("fast", 5), ("slow", 20), ("weight", 0.3))

    def __init__(self):
        self.cross = {d: bt.ind.CrossOver(bt.ind.SMA(d.close, period=self.p.fast),
                                          bt.ind.SMA(d.close, period=self.p.slow)) for d in self.datas}

    def next(self):
        for data, cross in self.cross.items():
            if data.suspended[0]:               # no trading today: its price is yesterday's
                continue
            if cross[0] > 0:
                self.order_target_percent(data, self.p.weight)
            elif cross[0] < 0 and self.getposition(data).size:
                self.close(data)


def run(data_dir: str = "data/synthetic", out: str | None = None, symbols=None,
        start: str = "2021-01-01", end: str = "2022-12-30"):
    cfg = sim.load_config(overrides={"data.path": data_dir, "backtest.start": start, "backtest.end": end})
    market = sim.open_market(cfg)
    cerebro = sim.make_cerebro(market, cfg, symbols=symbols or ["600000.SH", "000001.SZ", "600036.SH"])
    cerebro.addstrategy(MovingAverageCross)
    return cerebro.run_ashare(out=out)


if __name__ == "__main__":
    sim.enable_logging("INFO")
    result = run(*sys.argv[1:3])
    m = result.metrics
    print(f"{m['start']} .. {m['end']}  final value {m['final_value']:,.0f} CNY, {m['annual_return']:+.1%} a year, "
          f"{len(result.trades)} fills, refused or cut: {m['refused'] or 'none'}")
