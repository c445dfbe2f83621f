"""Stress tests of execution assumptions: scenario grids run as full backtests, capacity and crowding
curves, historical episodes (`run.py stress`).

  grid.py       the grid file: parse, validate every scenario's config up front
  inputs.py     what a scenario depends on: fingerprints for resuming, the shared-inputs key
  scenarios.py  the scenario function (one backtest, or its finished files reused) and the shared inputs
  runner.py     where scenarios run: a local process pool or a Dask cluster
  episodes.py   historical episodes: could the book be sold?
  outputs.py    stress.csv, episodes.csv, the printed tables, the capacity curve
"""
