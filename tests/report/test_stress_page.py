"""stress.html's axis charts match axis values by value: a grid written with integers for a decimal
setting (`broker.slippage.bps: [0, 30]`, stress.csv holds 0.0 and 30.0) once drew empty charts."""
from types import SimpleNamespace

import pandas as pd

from ashare_sim.report.stress import _slices
from ashare_sim.report.stress_charts import AXIS_METRICS


def test_integer_axis_values_match_the_decimals_of_the_table():
    grid = SimpleNamespace(axes={"broker.slippage.bps": [0, 30]}, varied=["broker.slippage.bps"])
    table = pd.DataFrame({"scenario": ["bps=0", "bps=30"], "broker.slippage.bps": [0.0, 30.0],
                          **{m: [0.25, 0.22] for m, _, _ in AXIS_METRICS}})
    xs, series = _slices(grid, table, "broker.slippage.bps")
    assert xs == ["0", "30"]
    assert series[0].values["annual_return"] == [0.25, 0.22]              # both points drawn, none empty
