"""What every importer is and returns.

An importer is a small class with one job: `read(path, log)` turns one source's files into tables
shaped like the market data directory's (plus three intermediate ones the assembler merges):

    bars              Bars (columns; prices raw CNY, volume shares, amount CNY, adj_factor ours)
    instruments       symbol, name[, industry, list_date, delist_date]
    listing           symbol, list_date, delist_date     (listing dates only, e.g. qlib / CSI all.txt)
    calendar          date
    st                symbol, start_date, end_date, kind[, name]
    fundamentals      symbol, period_end, ann_date, total_equity, net_profit[, revenue]
    dividends         symbol, ex_date, cash_per_share, bonus_per_share
    benchmark         index, date, close
    shares            symbol, date, total_shares, float_shares     (change points)
    amount            symbol, date, amount
    industry_history  symbol, start_date, industry_code, industry

Everything a reader leaves out is counted in the `ImportLog` by file and cause.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Optional

import numpy as np
import pandas as pd

from ashare_sim.common.errors import UserError
from ashare_sim.common.registry import Model, Registry
from ashare_sim.common.text import did_you_mean

BAR_FIELDS = ("open", "high", "low", "close", "pre_close", "volume", "amount", "adj_factor", "total_shares",
              "float_shares")
TABLE_KINDS = ("bars", "instruments", "listing", "calendar", "st", "fundamentals", "dividends", "benchmark",
               "shares", "amount", "industry_history")


@dataclass
class Bars:
    """Bar rows as columns: `day` (datetime64[D]), `code` (int32 into `symbols`, canonical names) and
    float64 `fields` (BAR_FIELDS present in the source)."""
    day: np.ndarray
    code: np.ndarray
    symbols: np.ndarray
    fields: dict[str, np.ndarray]
    source: str = ""
    row: Optional[np.ndarray] = None       # data row in the source file (1-based), for messages

    def __len__(self) -> int:
        return len(self.day)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, source: str) -> "Bars":
        codes, uniques = pd.factorize(df["symbol"].to_numpy(dtype=object))
        fields = {c: df[c].to_numpy(dtype=np.float64) for c in BAR_FIELDS if c in df.columns}
        return cls(df["date"].to_numpy().astype("datetime64[D]"), codes.astype(np.int32),
                   np.asarray(uniques, dtype=object), fields, source)

    def take(self, rows: np.ndarray) -> "Bars":
        return Bars(self.day[rows], self.code[rows], self.symbols, {k: v[rows] for k, v in self.fields.items()},
                    self.source, None if self.row is None else self.row[rows])

    def symbol(self) -> np.ndarray:
        """The symbol of every row (object array; for small sources and tests)."""
        return self.symbols[self.code]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"date": self.day.astype("datetime64[ns]"), "symbol": self.symbol(), **self.fields})


Tables = dict          # kind -> Bars (for 'bars') or DataFrame


@dataclass
class ImportLog:
    """What was left out (rows by file and cause), derived or estimated, and missing."""
    skipped: Counter = field(default_factory=Counter)      # (file, cause) -> rows
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def skip(self, where: str, cause: str, rows: int) -> None:
        if rows:
            self.skipped[(str(where), cause)] += int(rows)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def lack(self, text: str) -> None:
        if text not in self.missing:
            self.missing.append(text)


IMPORTERS = Registry("data source", "--source")


class Importer(Model):
    """One source format, registered in IMPORTERS. Subclasses set `name`, `description` (one line: where
    the files come from), `gives` (the table kinds it can produce), `options` (name -> help), `expects`
    and implement `read`."""
    name: ClassVar[str] = ""
    gives: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[dict[str, str]] = {}
    path_options: ClassVar[tuple[str, ...]] = ()     # options whose values are paths (checked up front)
    expects: ClassVar[str] = ""          # one line: the files it reads (for --help and errors)

    def __init__(self, **options: object) -> None:
        for key in options:
            if key not in self.options:
                raise UserError(f"source '{self.name}': unknown option '{key}'{did_you_mean(key, self.options)}; "
                                f"options: {', '.join(self.options) or 'none'}")
        self.opts = dict(options)

    def read(self, path: Path, log: ImportLog) -> Tables:
        raise NotImplementedError

    def option(self, key: str, default: object = None) -> object:
        return self.opts.get(key, default)


def one_of(value: Optional[str], choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise UserError(f"{what}: got {value!r}; choose one of {', '.join(choices)}{did_you_mean(value, choices)}")
    return value
