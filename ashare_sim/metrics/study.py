"""The published figures of the study the seed strategy follows, kept in one place.

Guosen Securities' small-cap multi-factor study (data 2010-01..2022-03): small-cap pool = listed at
least a year, not ST, bottom third by market cap; nine-factor composite weighted by trailing RankIC;
top 50 equal weight, monthly, ~0.3% round trip. Shown beside a run of the same strategy as context:
different data, costs and period make them a reference, not a target.
"""
from __future__ import annotations

SOURCE = "Guosen small-cap study, 2010-2022Q1"
PERIOD = ("2010-01-01", "2022-03-31")

FIGURES = {
    "annual_return": 0.3916,
    "benchmark_annual_return": 0.1972,          # the equal-weight small-cap pool
    "excess_annual_return": 0.1943,
    "excess_max_drawdown": -0.0716,
    "information_ratio": 2.41,
    "tracking_error": 0.0619,
    "monthly_win_rate": 0.6871,
    "composite_ic_ir": 4.81,
    "smallest100_annual_return": 0.3044,
}
