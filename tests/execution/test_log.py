"""The core's logs (`RowLog`): rows one at a time and a day's as columns read back as the rows, in order, and
become the table pandas makes of those rows, dtypes and values."""
import datetime as dt
import math

import pandas as pd

from ashare_sim.execution.log import RowLog
from ashare_sim.execution.orders import OrderRow, Side, Status, TradeRow

D = dt.date(2024, 3, 1)


def _rows():
    return [OrderRow(D, "600000.SH", Side.BUY, 100, 100, 10.5, Status.FILLED, "", D, 0, 1),
            OrderRow(D, "600001.SH", Side.SELL, 300, 0, math.nan, Status.REJECTED, "suspended", None, 2, 2),
            OrderRow(D + dt.timedelta(days=1), "000001.SZ", "sell", 200, 100, 9.99, "partial", "volume_cap", D, 1, 3),
            OrderRow(D + dt.timedelta(days=3), "300001.SZ", Side.BUY, 2**40, 0, math.nan, Status.REJECTED, "cash")]


def _log(rows, split):
    """`rows` in a log: one at a time, then as columns from `split` on, then one more at a time."""
    log = RowLog(OrderRow)
    for r in rows[:split]:
        log.append(r)
    middle = rows[split:-1]
    log.extend({f: [getattr(r, f) for r in middle] for f in OrderRow._fields})
    log.append(rows[-1])
    return log


def test_rows_and_columns_read_back_as_the_rows_in_order():
    rows = _rows()
    for split in range(len(rows)):
        log = _log(rows, split)
        assert len(log) == len(rows)
        got = list(log)
        assert [tuple(map(repr, g)) for g in got] == [tuple(map(repr, r)) for r in rows]
        assert all(type(g) is OrderRow for g in got) and log[2] == rows[2] and log[-1] == rows[-1]
        assert [tuple(map(repr, log[i])) for i in range(-len(rows), len(rows))] == [tuple(map(repr, r))
                                                                                  for r in rows + rows]
        assert log[1:3] == rows[1:3]


def test_the_table_is_the_one_pandas_makes_of_the_rows():
    rows = _rows()
    for split in range(len(rows)):
        want = pd.DataFrame([r._asdict() for r in rows])
        pd.testing.assert_frame_equal(_log(rows, split).frame(list(OrderRow._fields)), want, check_exact=True)
    # a column pandas infers as something else than int or float: ints with a float, ints with a missing value
    mixed = [TradeRow(D, "a", "buy", 100, 1.0, 5, 0.0, 0.0, 0.0), TradeRow(D, "b", "buy", 100, 2.0, 5.5, 0.0, 0.0,
                                                                           0.0, ref=None)]
    log = RowLog(TradeRow)
    log.extend({f: [getattr(r, f) for r in mixed] for f in TradeRow._fields})
    pd.testing.assert_frame_equal(log.frame(list(TradeRow._fields)), pd.DataFrame([r._asdict() for r in mixed]),
                                  check_exact=True)


def test_an_empty_log_is_an_empty_table_of_the_columns():
    log = RowLog(OrderRow)
    log.extend({f: [] for f in OrderRow._fields})
    assert len(log) == 0 and list(log) == []
    frame = log.frame(["date", "symbol"])
    assert list(frame.columns) == ["date", "symbol"] and len(frame) == 0


def test_a_days_numbers_given_as_arrays_read_back_as_python_numbers():
    import numpy as np
    rows = [r for r in _rows() if r.requested_qty < 2**40][:3]
    log = RowLog(OrderRow)
    log.append(rows[0])
    columns = {f: [getattr(r, f) for r in rows[1:]] for f in OrderRow._fields}
    for f in ("requested_qty", "filled_qty", "attempt", "ref"):
        columns[f] = np.array(columns[f], dtype=np.int64)
    columns["price"] = np.array(columns["price"], dtype=np.float64)
    log.extend(columns)
    got = list(log)
    assert [tuple(map(repr, g)) for g in got] == [tuple(map(repr, r)) for r in rows]
    assert all(type(getattr(g, f)) is type(getattr(r, f)) for g, r in zip(got, rows) for f in OrderRow._fields)
    assert log.column("filled_qty") == [r.filled_qty for r in rows]
    pd.testing.assert_frame_equal(log.frame(list(OrderRow._fields)), pd.DataFrame([r._asdict() for r in rows]),
                                  check_exact=True)
