"""Research analytics on a Market (`run.py research`): plain functions, point in time.

    result = research.build.run_research(market, cfg)     # every table below
    research.outputs.write_research(out_dir, result)     # research/*.csv + research.html, atomically

One module per figure, each reusing the strategy's own pieces (signals.universe,
signals.pipeline, signals.fundamentals, signals.returns):

  size_groups   the market cut into size groups each month; each group's annualised
                excess over the equal-weight market, by era
  smallest      the smallest-N portfolio vs the pool and the benchmark table, by year
  valuation     median and aggregate PB / PE-TTM of the pool, and their percentiles
  exposure      the top-N portfolio's style z-scores and industry weights vs the pool
  crowding      valuation, turnover share, participation, days to exit, limit-downs
  neutral       industry-neutral vs configured scoring: RankIC and backtests
  history       percentiles within a series' own history (shared by the above)
  book          the book a targets table holds, by rebalance day (exposure, crowding)
"""
