"""A weekly short-term reversal on the small-cap pool: buy the 30 names of the pool that fell most over
the last five trading days, skipping ST names and those that closed at their down limit (they may not be
sellable tomorrow), equal weight.

    python run.py backtest --set strategy.function=examples/weekly_reversal.py:reversal \\
        --set strategy.rebalance=weekly
"""


def reversal(view):
    close = view.bars("adj_close", days=6)                 # six closes: five daily returns
    week = (close.iloc[-1] / close.iloc[0] - 1).dropna()
    low_limit = view.bars("low_limit", days=1).iloc[-1]
    at_floor = view.close <= low_limit + 1e-9
    st = view.st()
    keep = week.index.isin(view.pool()) & ~st.reindex(week.index, fill_value=True) \
        & ~at_floor.reindex(week.index, fill_value=True)
    losers = week[keep].nsmallest(30)
    return {symbol: 1 / 30 for symbol in losers.index}
