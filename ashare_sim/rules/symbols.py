"""Stock codes in every spelling the data sources use, normalised to `600000.SH`.

Accepted spellings (case-insensitive, surrounding spaces ignored):

    600000.SH  600000.sh  SH600000  sh600000  SH.600000  600000.XSHG  600000.SS  600000
    000001.SZ  SZ000001   000001.XSHE  sz.000001 (BaoStock)
    830799.BJ  BJ830799   830799.BSE

A bare 6-digit code takes its exchange from the board prefixes of the rules
table (`6xx` SH, `0xx`/`3xx` SZ, `4x`/`8x`/`92x` BJ). An explicit exchange is
kept as given, so index codes (`SH000300`, `SZ399303`) stay distinguishable
from stocks with the same digits (`000300.SZ`).

    normalize_symbol("sz000001")                 -> "000001.SZ"
    normalize_symbols(pd.Series([...]))          -> Series (vectorised over distinct values)
    suggest("000002.SZ", market.symbols)         -> " (did you mean '000001.SZ'?)" or ""
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Optional

import numpy as np
import pandas as pd

from ashare_sim.common.errors import UserError
from ashare_sim.common.text import did_you_mean

# Exchange aliases seen in the sources: ours, qlib / JoinQuant / Yahoo / Wind / BaoStock spellings.
_EXCHANGE = {"SH": "SH", "SS": "SH", "XSHG": "SH", "SSE": "SH",
             "SZ": "SZ", "XSHE": "SZ", "SZSE": "SZ",
             "BJ": "BJ", "BSE": "BJ", "BJSE": "BJ", "XBSE": "BJ"}
_SUFFIX = re.compile(r"^([0-9]{6})\.([A-Z]{2,4})$")          # 600000.SH, 600000.XSHG
_PREFIX = re.compile(r"^([A-Z]{2})\.?([0-9]{6})$")          # SH600000, sh.600000
_BARE = re.compile(r"^([0-9]{1,6})$")                       # 600000 (or 1 from a spreadsheet that ate the zeros)


def _prefix_map(rules) -> list[tuple[str, str]]:
    if rules is None:
        from ashare_sim.rules.table import RulesTable

        rules = RulesTable.load()
    return [(p, ex) for p, _board, ex in rules._prefix_map]


def exchange_of_code(code: str, rules=None) -> Optional[str]:
    """SH / SZ / BJ for a bare 6-digit stock code from the rules table's board prefixes; None if none fits."""
    return _exchange(code, _prefix_map(rules))


def _exchange(code: str, prefixes: list[tuple[str, str]]) -> Optional[str]:
    for prefix, exchange in prefixes:
        if code.startswith(prefix):
            return exchange
    return None


def parse_symbol(text: object, rules=None) -> Optional[str]:
    """The canonical symbol, or None when `text` is not a stock code in any known spelling."""
    return _parse(text, _prefix_map(rules))


def _parse(text: object, prefixes: list[tuple[str, str]]) -> Optional[str]:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    # Full-width characters (６００００１, ＳＨ) as Chinese sources write them become ASCII; any other
    # non-ASCII digit is no stock code.
    s = unicodedata.normalize("NFKC", str(text)).strip().upper()
    m = _SUFFIX.match(s)
    if m:
        ex = _EXCHANGE.get(m.group(2))
        return f"{m.group(1)}.{ex}" if ex else None
    m = _PREFIX.match(s)
    if m:
        ex = _EXCHANGE.get(m.group(1))
        return f"{m.group(2)}.{ex}" if ex else None
    m = _BARE.match(s)
    if m:
        code = m.group(1).zfill(6)
        ex = _exchange(code, prefixes)
        return f"{code}.{ex}" if ex else None
    return None


def normalize_symbol(text: object, rules=None, where: str = "symbol") -> str:
    """Canonical `CODE.EX`; UserError naming `where` when the text is no stock code."""
    out = parse_symbol(text, rules)
    if out is None:
        raise UserError(f"{where}: '{text}' is not a stock code; write it as 600000.SH, SH600000, "
                        "600000.XSHG or 600000")
    return out


def normalize_symbols(values: pd.Series | Iterable, rules=None) -> pd.Series:
    """Vectorised `parse_symbol` (None where unparseable), computed once per distinct value."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    prefixes = _prefix_map(rules)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.array([_parse(u, prefixes) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=series.index, dtype=object)


def suggest(symbol: str, known: Iterable[str]) -> str:
    """' (did you mean 'X'?)' for the closest known symbol, else ''."""
    return did_you_mean(symbol, known)
