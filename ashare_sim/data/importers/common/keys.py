"""(symbol, date) keys as int64 for joins over millions of rows without pandas merges.

key = symbol code x 2^32 + day number (days since 1970); symbol codes come from one shared
`SymbolIndex`, so keys of different tables compare.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ashare_sim.data.importers.common.dates import day_numbers

_SHIFT = np.int64(1 << 32)
_DAY0 = np.int64(1 << 31)            # day numbers are shifted to stay positive


class SymbolIndex:
    """Sorted canonical symbols and their codes."""

    def __init__(self, symbols) -> None:
        self.symbols = np.asarray(sorted(set(symbols)), dtype=object)
        self._lookup = pd.Index(self.symbols)

    def codes(self, symbols) -> np.ndarray:
        """int32 code per symbol (-1 when not in the index)."""
        return self._lookup.get_indexer(pd.Index(np.asarray(symbols, dtype=object))).astype(np.int32)

    def __len__(self) -> int:
        return len(self.symbols)


def make_keys(sid: np.ndarray, days: np.ndarray) -> np.ndarray:
    return sid.astype(np.int64) * _SHIFT + (days.astype(np.int64) + _DAY0)


def frame_keys(index: SymbolIndex, symbols, dates) -> tuple[np.ndarray, np.ndarray]:
    """(keys, sid) for symbol and date columns; sid -1 marks symbols outside the index."""
    sid = index.codes(symbols)
    return make_keys(sid, day_numbers(dates)), sid


_BLOCK = 1 << 21          # keys looked up per block: bounds the temporaries on tens of millions of bars


def _sorted(table_keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(table_keys, kind="stable")
    return table_keys[order], values[order]


def lookup_exact(keys: np.ndarray, table_keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values at the matching table key or NaN, matched mask) per key; table keys are unique."""
    sorted_keys, sorted_values = _sorted(table_keys, values)
    out = np.full(len(keys), np.nan)
    hit = np.zeros(len(keys), dtype=bool)
    if not len(sorted_keys):
        return out, hit
    for a in range(0, len(keys), _BLOCK):
        k = keys[a:a + _BLOCK]
        pos = np.minimum(np.searchsorted(sorted_keys, k), len(sorted_keys) - 1)
        h = sorted_keys[pos] == k
        hit[a:a + _BLOCK] = h
        out[a:a + _BLOCK][h] = sorted_values[pos[h]]
    return out, hit


def lookup_asof(keys: np.ndarray, table_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per key, the value of the last table key at or before it *for the same symbol* (NaN if none)."""
    sorted_keys, sorted_values = _sorted(table_keys, values)
    out = np.full(len(keys), np.nan)
    for a in range(0, len(keys), _BLOCK):
        k = keys[a:a + _BLOCK]
        pos = np.searchsorted(sorted_keys, k, side="right") - 1
        ok = pos >= 0
        ok[ok] = (sorted_keys[pos[ok]] // _SHIFT) == (k[ok] // _SHIFT)
        out[a:a + _BLOCK][ok] = sorted_values[pos[ok]]
    return out


def repeats(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(earlier, later) row positions of each pair of rows with the same key, consecutive in row order."""
    order = np.argsort(keys, kind="stable")
    s = keys[order]
    rep = np.flatnonzero(s[1:] == s[:-1])
    return order[rep], order[rep + 1]


def symbol_code(key: int) -> int:
    """The symbol code inside a key."""
    return int(key >> 32)
