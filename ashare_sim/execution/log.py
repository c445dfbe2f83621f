"""`RowLog`: the execution core's order and trade logs. Rows come one at a time (an order judged alone, a
delisting settled) or a day's at once as columns (`ExecutionCore.execute_day`); the log keeps them as they
came, reads back as rows in that order, and becomes a table without turning each row into columns again
(a busy stress scenario logs hundreds of thousands of rows).

    log = RowLog(OrderRow)
    log.append(OrderRow(...))                  # one row
    log.extend({"date": [...], ...})           # a day's rows, a list (or an array) per field
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

    def extend(self, columns: dict[str, list | np.ndarray]) -> None:
        """Rows given as a list per field (or an int64 / float64 array), every field of the row type, all of one
        length."""
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
                yield from map(make, zip(*(_values(part[f]) for f in self.fields)))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return list(self)[i]
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("log index out of range")
        for part in self._parts:                 # the part holding row i, then the row
            n = len(part) if isinstance(part, list) else len(part[self.fields[0]])
            if i < n:
                if isinstance(part, list):
                    return part[i]
                return self.row_type._make(_values(part[f][i:i + 1])[0] for f in self.fields)
            i -= n

    def column(self, name: str) -> list:
        """Every row's value of field `name`, in order."""
        return list(chain.from_iterable(map(_values, self._pieces(name))))

    def _pieces(self, name: str) -> list:
        at = operator.itemgetter(self.fields.index(name))
        return [list(map(at, part)) if isinstance(part, list) else part[name] for part in self._parts]

    def frame(self, columns: list[str]) -> pd.DataFrame:
        """The rows as a table of `columns`, each column with the dtype pandas infers from the rows' values."""
        if not self._len:
            return pd.DataFrame([], columns=columns)          # object columns, as an empty log always gave
        return pd.DataFrame({c: _typed(self._pieces(c)) for c in columns}, columns=columns)


def _values(piece) -> list:
    """A column piece as Python values (a day's columns may come as NumPy arrays)."""
    return piece.tolist() if isinstance(piece, np.ndarray) else piece


_KINDS = {"i": int, "f": float}


def _typed(pieces: list):
    """The pieces of a column (lists of Python values, or int64 / float64 arrays) as the array pandas would infer
    from their values, built directly when they are all ints or all floats (pandas' inference walks them in
    Python); anything else is left to pandas, as Python values."""
    kinds = set()
    for piece in pieces:
        if isinstance(piece, np.ndarray):
            kinds.add(_KINDS.get(piece.dtype.kind) if piece.dtype.itemsize == 8 else None)
        else:
            kinds.update(map(type, piece))
    if kinds == {float} or kinds == {int}:
        dtype = np.float64 if kinds == {float} else np.int64
        try:
            return np.concatenate([np.asarray(piece, dtype=dtype) for piece in pieces])
        except OverflowError:           # an int beyond int64: pandas decides
            pass
    return list(chain.from_iterable(map(_values, pieces)))
