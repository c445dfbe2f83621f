"""Trading a model's daily scores with qlib's TopkDropout. A stand-in model writes qlib's pred.pkl (a
DataFrame indexed by datetime, instrument with a score column: a 20-day reversal, as qlib's Alpha158
would feed a model), then the backtest trades it: scores of each date on the next trading day, 30 names
held, at most 3 swapped a day.

    python examples/qlib_scores.py [DATA_DIR] [OUT]

With your own qlib model, `pred = model.predict(dataset)` is that same DataFrame: `pred.to_pickle(
"pred.pkl")` and `python run.py backtest --set strategy.scores.file=pred.pkl`.
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import ashare_sim as sim


def write_pred(market, path: Path, start: str) -> Path:
    """qlib's layout: index (datetime, instrument as SH600000), column score."""
    close = pd.DataFrame(market.close.astype(np.float64) * np.nan_to_num(market.adj_factor, nan=1.0),
                         index=pd.DatetimeIndex(market.dates.astype("datetime64[ns]"), name="datetime"),
                         columns=[s[-2:] + s[:6] for s in market.symbols.astype(str)])
    score = -(close / close.shift(20) - 1)                     # the losers of the last 20 days score highest
    pred = score[score.index >= start].stack().rename("score").to_frame()
    pred.index.names = ["datetime", "instrument"]
    pred.to_pickle(path)
    return path


def run(data_dir: str = "data/synthetic", out: str | None = None, start: str = "2021-01-04",
        end: str = "2022-12-30", work: str = "."):
    base = {"data.path": data_dir, "backtest.end": end}
    market = sim.open_market(sim.load_config(overrides=base))
    pred = write_pred(market, Path(work) / "pred.pkl", start)
    cfg = sim.load_config(overrides={**base, "strategy.scores.file": str(pred), "strategy.top_n": 30,
                                     "strategy.scores.n_drop": 3, "strategy.scores.pool": True})
    return sim.run_backtest(market, cfg, out=out)


if __name__ == "__main__":
    result = run(*sys.argv[1:3])
    m = result.metrics
    print(f"{m['start']} .. {m['end']}  {m['annual_return']:+.1%} a year vs {m['benchmark_annual_return']:+.1%} for "
          f"the pool, turnover {m['annual_turnover']:.1f}x, costs {m['costs_annual_pct']:.2%} a year")
