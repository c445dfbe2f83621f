"""The study's monthly small-cap strategy written as a user would: the small-cap pool, nine factors
z-scored inside it, an equal-weight composite, the top names in equal weight.

    python run.py backtest --set strategy.function=examples/monthly_composite.py:composite_top

The built-in strategy weights the factors by their trailing RankIC instead; `view.scores()` gives its
composite, so `return view.scores().to_frame()` trades exactly its lists.
"""
import pandas as pd


def composite_top(view):
    pool = view.factors()                                  # pool symbols x raw factors, higher is better
    clipped = pool.clip(pool.quantile(0.01), pool.quantile(0.99), axis=1)
    z = (clipped - clipped.mean()) / clipped.std()         # z-scores inside the pool
    score = z.mean(axis=1, skipna=True).dropna()           # equal weights; a missing factor is skipped
    return pd.DataFrame({"score": score})                  # the top strategy.top_n are held, equal weight
