"""The market in memory: columnar (dates x symbols) panels plus the small tables.

`load_market(dir)` reads a data directory (docs/data.md); `Market.from_frames(...)`
builds the same object from DataFrames (tests, importers, the generator).
Prices stay raw; `adj_factor` is only used for returns and pre_close.

Layout: every bar field is a float32 array of shape (T, N) with NaN where the
stock had no bar. float32 keeps the full market (5,000 x 3,150) near 1 GB; the
prices are cent values, which float32 holds to well under half a cent, and
every comparison against a limit uses a half-tick tolerance.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
from loguru import logger

from ashare_sim.common.errors import DataError
from ashare_sim.data import derive
from ashare_sim.data.checks import bar_faults
from ashare_sim.data.schema import BAR_PANEL_FIELDS, SCHEMAS
from ashare_sim.data.tables import BarColumns, coerce, read_table, table_path
from ashare_sim.rules import RulesTable


def kept(market, key: str, compute: Callable[[], Any]) -> Any:
    """`market.memo(key, compute)`: a value kept with the market, or computed afresh for a stand-in market
    that has no memo (tests build such markets by hand)."""
    memo = getattr(market, "memo", None)
    return compute() if memo is None else memo(key, compute)


@dataclass(eq=False)
class Market:
    dates: np.ndarray                 # (T,) datetime64[D] trading calendar
    symbols: np.ndarray               # (N,) object str, sorted
    instruments: pd.DataFrame         # N rows in symbol order (+ board, exchange)
    rules: RulesTable
    panels: dict[str, np.ndarray]     # BAR_PANEL_FIELDS -> (T, N) float32
    has_bar: np.ndarray               # (T, N) a bar row exists
    is_listed: np.ndarray             # (T, N) inside the listing spell
    is_suspended: np.ndarray          # (T, N) listed, but no bar or volume 0
    is_st: np.ndarray                 # (T, N) in an ST / *ST spell
    days_listed: np.ndarray           # (T, N) int16 trading days since listing
    list_index: np.ndarray            # (N,) calendar index of the first trading day
    delist_index: np.ndarray          # (N,) calendar index of the last listed day
    board: np.ndarray                 # (N,) main | chinext | star | bse
    exchange: np.ndarray              # (N,) SH | SZ | BJ
    st: Optional[pd.DataFrame] = None
    fundamentals: Optional[pd.DataFrame] = None
    dividends: Optional[pd.DataFrame] = None
    benchmark: Optional[pd.Series] = None      # close aligned to dates (NaN before it starts)
    benchmarks: Optional[pd.DataFrame] = None  # every index of the table (dates x index); benchmark = first
    source: str = "<memory>"
    notes: list[str] = field(default_factory=list)   # derivations the user should know about
    bar_columns: frozenset = frozenset()             # the columns the bars table gave (before derivations)
    derived: dict = field(default_factory=dict, repr=False, compare=False)   # memo(): values computed from it

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value the layers above derive from this market (total-return prices, listing dates, industry
        codes), computed on first use and kept with the market, which never changes after loading."""
        value = self.derived.get(key)
        if value is None:
            value = self.derived[key] = compute()
        return value

    # ----- shape and lookups ------------------------------------------------
    @property
    def n_days(self) -> int:
        return len(self.dates)

    @property
    def n_symbols(self) -> int:
        return len(self.symbols)

    def __getattr__(self, name: str) -> np.ndarray:
        # Bar panels read as attributes: market.close, market.high_limit, ...
        panels = self.__dict__.get("panels")
        if panels is not None and name in panels:
            return panels[name]
        raise AttributeError(name)

    @cached_property
    def symbol_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.symbols)}

    def index_of(self, day: dt.date | str | np.datetime64, side: str = "left") -> int:
        """Calendar index of `day` (the next trading day when it is not one)."""
        return int(np.searchsorted(self.dates, np.datetime64(day, "D"), side=side))

    def date_at(self, i: int) -> dt.date:
        return self.days[i]

    @cached_property
    def days(self) -> list[dt.date]:
        """The calendar as dates (every order of every scenario asks for its day)."""
        return self.dates.astype("datetime64[D]").astype(dt.date).tolist()

    @cached_property
    def last_close(self) -> np.ndarray:
        """Close forward-filled over suspensions (the value of a held position)."""
        return derive.ffill(self.panels["close"], self.has_bar & ~np.isnan(self.panels["close"]))

    @cached_property
    def value_close(self) -> np.ndarray:
        """The price a held share is worth: the last close, moved to the ex-right reference price
        ((close - cash) / (1 + bonus shares)) on each ex-date the stock did not trade, until it trades again.
        A holding suspended through a bonus issue gets its new shares on the ex-date; valued at the old close
        they would overstate the account until trading resumed."""
        return derive.ex_right_close(self.last_close, self.has_bar & (np.nan_to_num(self.panels["volume"]) > 0),
                                     self._dividend_events())

    def _dividend_events(self) -> list[tuple[int, int, float, float]]:
        """(calendar index, sid, cash per share, bonus shares per share) of the dividends table."""
        div = self.dividends
        if div is None or not len(div):
            return []
        t = np.searchsorted(self.dates, div["ex_date"].to_numpy().astype("datetime64[D]"), side="left")
        return [(int(a), int(b), float(c), float(d)) for a, b, c, d in
                zip(t, div["sid"].to_numpy(), div["cash_per_share"].to_numpy(dtype=float),
                    div["bonus_per_share"].to_numpy(dtype=float)) if a < len(self.dates) and (c > 0 or d > 0)]

    @cached_property
    def market_cap(self) -> np.ndarray:
        """Total market cap in CNY at the last close (NaN where unknown)."""
        shares = derive.ffill(self.panels["total_shares"])
        # float32 x float32 is the correctly rounded product, the same bits as rounding the exact float64
        # product, without two (T, N) float64 temporaries (~250 MB on the full market).
        return np.multiply(self.last_close, shares, out=shares)

    @cached_property
    def float_cap(self) -> np.ndarray:
        """Free-float market cap in CNY at the last close (NaN where unknown)."""
        shares = derive.ffill(self.panels["float_shares"])
        return (self.last_close.astype(np.float64) * shares).astype(np.float32)

    def cap_for_universe(self, measure: str) -> np.ndarray:
        """The cap the small-cap cut ranks by: `total` (market_cap) or `float` (float_cap)."""
        return self.float_cap if measure == "float" else self.market_cap

    def nbytes(self) -> int:
        arrays = list(self.panels.values()) + [self.has_bar, self.is_listed, self.is_suspended, self.is_st,
                                               self.days_listed]
        return int(sum(a.nbytes for a in arrays))

    # ----- construction -----------------------------------------------------
    @classmethod
    def from_frames(cls, instruments: pd.DataFrame, bars: pd.DataFrame, *, st: pd.DataFrame | None = None,
                    fundamentals: pd.DataFrame | None = None, dividends: pd.DataFrame | None = None,
                    benchmark: pd.DataFrame | None = None, calendar: pd.DataFrame | None = None,
                    rules: RulesTable | None = None) -> "Market":
        """Build from DataFrames shaped like the data directory's tables (docs/data.md)."""
        here = Path("<memory>")
        frames = {"instruments": instruments, "st": st, "fundamentals": fundamentals, "dividends": dividends,
                  "benchmark": benchmark, "calendar": calendar}
        typed = {k: (coerce(v, SCHEMAS[k], here / k) if v is not None else None) for k, v in frames.items()}
        return _build(BarColumns(bars.reset_index(drop=True)), typed, rules or RulesTable.load(), "<memory>")


def load_market(path: str | Path, rules: RulesTable | None = None, bad_bars: str = "refuse") -> Market:
    """Read a market data directory into a `Market`. A bar the data cannot have (data.checks: a non-positive
    price, high below the open or close, a negative volume, ...) is refused with the first one named, or
    with `bad_bars="drop"` left out (the day counts as one without a bar) and counted in the notes."""
    directory = Path(path)
    if not directory.is_dir():
        raise DataError(f"{directory}: market data directory not found (config key data.path)")
    bars_path = table_path(directory, "bars")
    if bars_path is None:
        raise DataError(f"{directory}: missing required table 'bars' (bars.parquet or bars.csv)")
    tables = {name: read_table(directory, name) for name in ("instruments", "st", "fundamentals", "dividends",
                                                              "benchmark", "calendar")}
    return _build(BarColumns(bars_path), tables, rules or RulesTable.load(), str(directory), bad_bars)


# Days per block when checking bars (bounds the float64 temporaries on a full market).
_CHECK_BLOCK = 256


def _bad_bars(panels: dict, has_bar: np.ndarray, dates: np.ndarray, symbols: np.ndarray, label: str, source: str,
              mode: str, notes: list[str]) -> None:
    """Refuse the bars data.checks calls faults (the first named), or leave them out and say how many."""
    bad = np.zeros(has_bar.shape, dtype=bool)
    first: dict[str, tuple] = {}
    counts: dict[str, int] = {}
    for a in range(0, has_bar.shape[0], _CHECK_BLOCK):
        b = min(a + _CHECK_BLOCK, has_bar.shape[0])
        block = {name: panel[a:b] for name, panel in panels.items()}
        for fault in bar_faults(block):
            mask = fault.mask & has_bar[a:b]
            if not mask.any():
                continue
            what = f"{fault.column}: {fault.message}"
            counts[what] = counts.get(what, 0) + int(mask.sum())
            if what not in first:
                t, n = np.argwhere(mask)[0]
                first[what] = (symbols[n], str(dates[a + t]), float(panels[fault.column][a + t, n]))
            bad[a:b] |= mask
    if not counts:
        return
    n_bad = int(bad.sum())
    (what, (symbol, day, value)), = list(first.items())[:1]
    example = f"e.g. {symbol} on {day}: {what} (value {value:g})"
    kinds = "; ".join(f"{k} {v:,}" for k, v in counts.items())
    if mode != "drop":
        raise DataError(f"{label}: {n_bad:,} bar(s) the data cannot have ({kinds}), {example}; fix the source "
                        f"(`data validate {source}` lists them), or set data.bad_bars: drop to leave them out")
    has_bar &= ~bad
    for panel in panels.values():
        panel[bad] = np.nan
    notes.append(f"{n_bad:,} bad bar(s) left out as days without a bar (data.bad_bars: drop; {kinds}; {example})")


def _build(bars: BarColumns, tables: dict[str, Optional[pd.DataFrame]], rules: RulesTable, source: str,
           bad_bars: str = "refuse") -> Market:
    notes: list[str] = []
    instruments = tables["instruments"]
    if instruments is None:
        raise DataError(f"{source}: missing required table 'instruments'")
    if instruments["symbol"].duplicated().any():
        dup = instruments.loc[instruments["symbol"].duplicated(), "symbol"].iloc[0]
        raise DataError(f"{source}/instruments: symbol {dup} appears more than once")
    instruments = instruments.sort_values("symbol").reset_index(drop=True)
    symbols = instruments["symbol"].to_numpy(dtype=object)
    sym_index = {s: i for i, s in enumerate(symbols)}

    # Rows -> (t, n) cells.
    row_dates = bars.dates()
    codes, distinct = bars.symbol_codes()
    lookup = np.array([sym_index.get(s, -1) for s in distinct], dtype=np.int32)
    unknown = [s for s, i in zip(distinct, lookup) if i < 0]
    if unknown:
        raise DataError(f"{bars.label}: {len(unknown)} symbol(s) not in instruments, e.g. {unknown[0]}; "
                        "add them to instruments")
    row_n = lookup[codes]
    del codes
    if tables["calendar"] is not None:
        dates = np.unique(tables["calendar"]["date"].to_numpy().astype("datetime64[D]"))
        outside = ~np.isin(row_dates, dates)
        if outside.any():
            raise DataError(f"{bars.label}: {int(outside.sum())} bar(s) on days missing from the calendar table, "
                            f"e.g. {row_dates[outside][0]}")
    else:
        dates = np.unique(row_dates)
    row_t = np.searchsorted(dates, row_dates).astype(np.int32)
    del row_dates
    n_days, n_syms = len(dates), len(symbols)
    # One flat cell index for every scatter below (2-D fancy indexing would recompute it per field).
    cell = row_t.astype(np.int64) * n_syms + row_n
    del row_t, row_n
    has_bar = np.zeros((n_days, n_syms), dtype=bool)
    has_bar.ravel()[cell] = True
    if int(has_bar.sum()) != len(cell):
        raise DataError(f"{bars.label}: {len(cell) - int(has_bar.sum())} duplicate (date, symbol) row(s); "
                        "run `python run.py data validate` for the list")

    panels: dict[str, np.ndarray] = {}
    for name in BAR_PANEL_FIELDS:
        values = bars.floats(name)
        if values is None:
            continue
        panel = np.full((n_days, n_syms), np.nan, dtype=np.float32)
        panel.ravel()[cell] = values
        panels[name] = panel
        del values
        # Arrow keeps freed buffers in its pool; hand each column's back before the next.
        pa.default_memory_pool().release_unused()
    del cell
    _bad_bars(panels, has_bar, dates, symbols, bars.label, source, bad_bars, notes)

    nan_panel = lambda: np.full((n_days, n_syms), np.nan, dtype=np.float32)  # noqa: E731
    if "adj_factor" not in panels:
        panels["adj_factor"] = np.where(has_bar, np.float32(1.0), np.float32(np.nan)).astype(np.float32)
        notes.append("bars has no adj_factor: assumed 1 (no corporate actions in returns)")
    if "amount" not in panels:
        panels["amount"] = derive.estimate_amount(panels["volume"], panels["high"], panels["low"], panels["close"])
        notes.append(f"bars has no amount: estimated as {derive.AMOUNT_ESTIMATE}")
    for name in ("total_shares", "float_shares"):
        if name not in panels:
            panels[name] = nan_panel()
            notes.append(f"bars has no {name}: market cap and turnover factors are unavailable")
    if "pre_close" not in panels:
        derived = derive.derive_pre_close(panels["close"], panels["adj_factor"], has_bar, rules.tick)
        derived[~has_bar] = np.nan
        panels["pre_close"] = derived
        notes.append("bars has no pre_close: derived from the previous close and the adj_factor ratio")
    else:
        derive.derive_pre_close(panels["close"], panels["adj_factor"], has_bar, rules.tick,
                                gaps_of=panels["pre_close"])

    # Instruments: board, exchange, listing spells.
    board_code, exch_code = rules.boards_of(symbols)
    if "board" in instruments.columns:
        given = instruments["board"].to_numpy(dtype=object)
        board = np.where(pd.isna(given), board_code, given)
    else:
        board = board_code
    if any(b is None for b in board):
        bad = symbols[[b is None for b in board]][0]
        raise DataError(f"{source}/instruments: symbol {bad}: cannot tell its board from the code; "
                        "add a 'board' column (main, chinext, star, bse)")
    exchange = np.array([e if e is not None else str(s).rpartition(".")[2] for s, e in zip(symbols, exch_code)],
                        dtype=object)
    instruments = instruments.assign(board=board, exchange=exchange)
    any_bar = has_bar.any(axis=0)
    first_bar = np.where(any_bar, has_bar.argmax(axis=0), -1).astype(np.int32)
    last_bar = np.where(any_bar, n_days - 1 - has_bar[::-1].argmax(axis=0), -1).astype(np.int32)
    list_dates = instruments["list_date"].to_numpy().astype("datetime64[D]")
    delist_dates = (instruments["delist_date"].to_numpy().astype("datetime64[D]")
                    if "delist_date" in instruments.columns else np.full(n_syms, np.datetime64("NaT"), "datetime64[D]"))
    list_index, delist_index = derive.listing_spells(dates, list_dates, delist_dates, first_bar, last_bar)
    is_listed = derive.listed_mask(n_days, list_index, delist_index)
    day_listed = derive.days_listed(n_days, list_index)

    # ST spells. A delisting period is not investable (is_st) but keeps the ordinary limit ratio.
    st = tables["st"]
    limit_st = None
    if st is not None and len(st):
        st = st.copy()
        st["sid"] = st["symbol"].map(sym_index).fillna(-1).astype(np.int32)
        start_idx = np.searchsorted(dates, st["start_date"].to_numpy().astype("datetime64[D]")).astype(np.int32)
        ends = st["end_date"].to_numpy().astype("datetime64[D]") if "end_date" in st.columns else \
            np.full(len(st), np.datetime64("NaT"), "datetime64[D]")
        end_idx = np.where(np.isnat(ends), n_days - 1, np.searchsorted(dates, ends, side="right") - 1).astype(np.int32)
        sid = st["sid"].to_numpy()
        is_st = derive.spell_mask(n_days, n_syms, sid, start_idx, end_idx)
        delisting = (st["kind"] == "delisting").to_numpy(dtype=bool) if "kind" in st.columns else None
        if delisting is not None and delisting.any():
            limit_st = derive.spell_mask(n_days, n_syms, np.where(delisting, -1, sid), start_idx, end_idx)
    else:
        is_st = np.zeros((n_days, n_syms), dtype=bool)

    volume = panels["volume"]
    is_suspended = is_listed & (~has_bar | (np.nan_to_num(volume) <= 0))

    # Limits: computed from the rules where the data does not give them.
    high, low = derive.limit_panels(rules, dates, board, is_st if limit_st is None else limit_st,
                                    panels["pre_close"], day_listed, list_dates)
    del limit_st
    for name, computed in (("high_limit", high), ("low_limit", low)):
        if name in panels:
            given = panels[name]
            use = np.isnan(given) & has_bar
            given[use] = computed[use]
        else:
            computed[~has_bar] = np.nan
            panels[name] = computed
    del high, low

    fundamentals = _with_sid(tables["fundamentals"], sym_index)
    dividends = _with_sid(tables["dividends"], sym_index)
    if dividends is not None:
        for col in ("cash_per_share", "bonus_per_share"):
            if col not in dividends.columns:
                dividends[col] = 0.0
            dividends[col] = dividends[col].fillna(0.0)
    benchmarks = _benchmarks(tables["benchmark"], dates)
    benchmark = benchmarks.iloc[:, 0].rename("close") if benchmarks is not None else None

    for note in notes:
        logger.info(f"{source}: {note}")
    return Market(dates=dates, symbols=symbols, instruments=instruments, rules=rules, panels=panels,
                  has_bar=has_bar, is_listed=is_listed, is_suspended=is_suspended, is_st=is_st,
                  days_listed=day_listed, list_index=list_index, delist_index=delist_index,
                  board=np.asarray(board, dtype=object), exchange=exchange, st=st, fundamentals=fundamentals,
                  dividends=dividends, benchmark=benchmark, benchmarks=benchmarks, source=source, notes=notes,
                  bar_columns=frozenset(bars.names))


def _benchmarks(table: Optional[pd.DataFrame], dates: np.ndarray) -> Optional[pd.DataFrame]:
    """(dates x index) closes, forward-filled; one column per `index` value in file order."""
    if table is None or not len(table):
        return None
    if "index" not in table.columns or table["index"].isna().all():
        table = table.assign(index="benchmark")
    table = table.assign(index=table["index"].fillna("benchmark"))
    order = list(dict.fromkeys(table["index"]))
    wide = (table.drop_duplicates(["index", "date"]).pivot(index="date", columns="index", values="close")
            .sort_index()[order])
    wide.index = wide.index.to_numpy().astype("datetime64[D]")
    out = wide.reindex(dates).ffill()
    out.index = pd.DatetimeIndex(dates.astype("datetime64[ns]"))
    out.columns.name = None
    return out


def _with_sid(df: Optional[pd.DataFrame], sym_index: dict[str, int]) -> Optional[pd.DataFrame]:
    if df is None:
        return None
    out = df.copy()
    out["sid"] = out["symbol"].map(sym_index).fillna(-1).astype(np.int32)
    return out[out["sid"] >= 0].reset_index(drop=True)
