"""`RowLog`: the execution core's order and trade logs. Rows come one at a time (an order judged alone, a
delisting settled) or a day's at once as columns (`ExecutionCore.execute_day`); the log keeps them as they
came, reads back as rows in that order, and becomes a table without turning each row into columns again
(a busy stress scenario logs hundreds of thousands of rows).

    log = RowLog(OrderRow)
    log.append(OrderRow(...))                  # one row
    log.extend({"date": [...], ...})           # a day's rows, a list per field
    for row in log: ...                        # OrderRow rows, in order
    log.frame(["date", "symbol", ...])         # the table, with the dtypes pandas gives the rows
"""
from __future__ import annotations

import operator
from itertools import chain
from typing import Iterator, NamedTuple

import numpy as np
import pandas as pd


class RowLog:
    def __init__(self, row_type: type[NamedTuple]):
        self.row_type = row_type
        self.fields: tuple[str, ...] = row_type._fields
        self._parts: list[list | dict[str, list]] = []     # rows, or columns: a list per field
        self._rows: list | None = None                      # the last part when it holds rows
        self._len = 0

    def append(self, row) -> None:
        if self._rows is None:
            self._rows = []
            self._parts.append(self._rows)
        self._rows.append(row)
        self._len += 1

    def extend(self, columns: dict[str, list]) -> None:
        """Rows given as a list per field, every field of the row type, lists of equal length."""
        n = len(columns[self.fields[0]])
        if not n:
            return
        self._parts.append(columns)
        self._rows = None
        self._len += n

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator:
        make = self.row_type._make
        for part in self._parts:
            if isinstance(part, list):
                yield from part
            else:
                yield from map(make, zip(*(part[f] for f in self.fields)))

    def __getitem__(self, i):
        return list(self)[i]

    def column(self, name: str) -> list:
        """Every row's value of field `name`, in order."""
        at = operator.itemgetter(self.fields.index(name))
        pieces = [list(map(at, part)) if isinstance(part, list) else part[name] for part in self._parts]
        return pieces[0] if len(pieces) == 1 else list(chain.from_iterable(pieces))

    def frame(self, columns: list[str]) -> pd.DataFrame:
        """The rows as a table of `columns`, each column with the dtype pandas infers from the rows' values."""
        if not self._len:
            return pd.DataFrame([], columns=columns)          # object columns, as an empty log always gave
        return pd.DataFrame({c: _typed(self.column(c)) for c in columns}, columns=columns)


def _typed(values: list):
    """`values` as the array pandas would infer, built directly when they are all Python ints or all floats
    (pandas' inference walks them in Python); anything else is left to pandas."""
    kinds = set(map(type, values))
    if kinds == {float}:
        return np.array(values, dtype=np.float64)
    if kinds == {int}:
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError:           # beyond int64: pandas decides
            return values
    return values
