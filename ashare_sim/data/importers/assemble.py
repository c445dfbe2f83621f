"""Merging the sources of one import into the market data directory's tables.

    bars          the main source's, then each --bars source's, inside --start..--end (and the main
                  source's calendar); where two give the same (date, symbol) the earlier one wins
    amount        bars without one take the --amount table's; the rest is estimated (and said)
    shares        bars without share counts take the --shares change points, carried forward
    instruments   one row per stock with bars: the first real name; the earliest listing date any
                  source knows; delisting dates from --listing, else from the sources
    st, fundamentals, dividends, industry    the companion's when given, else the sources'
    benchmark     only when asked (--benchmark), the indices named by its `index` setting

Every row left out is counted in the log by file and cause; what is missing is said with what
it switches off.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.common.errors import DataError, UserError
from ashare_sim.data.derive import AMOUNT_ESTIMATE, estimate_amount
from ashare_sim.data.importers.base import BAR_FIELDS, Bars, ImportLog
from ashare_sim.data.importers.common.dates import day_numbers
from ashare_sim.data.importers.common.industry import latest
from ashare_sim.data.importers.common.keys import (
    SymbolIndex,
    frame_keys,
    lookup_exact,
    make_keys,
    repeats,
    symbol_code,
)
from ashare_sim.data.importers.common.shares import carry_forward, chain
from ashare_sim.data.importers.plan import KINDS, Entry, Plan
from ashare_sim.data.importers.registry import importer_class
from ashare_sim.data.schema import ST_KINDS
from ashare_sim.rules.symbols import parse_symbol


@dataclass
class MergedBars:
    day: np.ndarray                   # datetime64[D]
    sid: np.ndarray                   # int32 into symbols
    symbols: np.ndarray
    fields: dict[str, np.ndarray]
    keys: np.ndarray                  # (symbol, day) int64

    def __len__(self) -> int:
        return len(self.day)

    def write_order(self) -> np.ndarray:
        """Rows by date, then symbol (the loader scatters them into (date x symbol) panels in that order)."""
        first = self.day.min() if len(self.day) else np.datetime64(0, "D")
        t = (self.day - first).astype(np.int64)
        return np.argsort(t * len(self.symbols) + self.sid, kind="stable")


@dataclass
class Assembled:
    bars: MergedBars
    tables: dict[str, pd.DataFrame]


class Reader:
    """Runs each importer once per (source, path, options), whatever number of kinds it serves."""

    def __init__(self, log: ImportLog):
        self.log = log
        self._cache: dict[tuple, dict] = {}

    def read(self, e: Entry) -> dict:
        key = (e.source, str(Path(e.path).resolve()), tuple(sorted((k, str(v)) for k, v in e.options.items())))
        if key not in self._cache:
            logger.info(f"reading {e.source} {e.path}")
            self._cache[key] = importer_class(e.source)(**e.options).read(Path(e.path), self.log)
        return self._cache[key]

    def release(self, e: Entry, kind: str) -> None:
        """Let go of a table once merged (the bars and the amount table are large)."""
        for got in self._cache.values():
            if got is self.read(e):
                got.pop(kind, None)

    def table(self, e: Entry) -> pd.DataFrame | Bars:
        got = self.read(e)
        for t in KINDS[e.kind].tables if e.kind in KINDS else ("bars",):
            if t in got:
                return got[t]
        raise DataError(f"{e.label}: {e.path} gave no {e.kind} table (it gave {', '.join(got) or 'nothing'}); "
                        f"check the path holds the {e.source} {e.kind} files")


def assemble(plan: Plan, log: ImportLog) -> Assembled:
    reader = Reader(log)
    main = reader.read(plan.main)
    if "bars" not in main:
        raise DataError(f"--source {plan.main.source} {plan.main.path}: gave no bars (it gave "
                        f"{', '.join(main) or 'nothing'}); the main source must hold the daily bars")
    start = np.datetime64(plan.start, "D") if plan.start else None
    end = np.datetime64(plan.end, "D") if plan.end else None
    calendar = _window_days(main.get("calendar"), start, end)
    parts = [main["bars"]] + [reader.table(e) for e in plan.entries("bars")]
    extra_tables = [reader.read(e) for e in plan.entries("bars")]
    bars = merge_bars(parts, start, end, calendar, log)
    del parts
    for e in [plan.main, *plan.entries("bars")]:
        reader.release(e, "bars")
    if not len(bars):
        raise DataError(f"{plan.main.path}: no bars left to import (after --start/--end and the checks above)")
    sources = [main] + extra_tables
    tables: dict[str, pd.DataFrame] = {}
    known = set(bars.symbols)
    fill_amount(bars, [reader.table(e) for e in plan.entries("amount")], log)
    for e in plan.entries("amount"):
        reader.release(e, "amount")
    fill_shares(bars, [reader.table(e) for e in plan.entries("shares")], log)
    fill_adj_factor(bars, log)
    industry = _one(reader, plan, "industry")
    tables["instruments"] = instruments(bars, sources, [reader.table(e) for e in plan.entries("listing")],
                                        industry, log)
    if industry is not None:
        tables["industry_history"] = _known(industry, known, "industry", log)
    if calendar is not None:
        tables["calendar"] = pd.DataFrame({"date": calendar[(calendar >= bars.day.min()) & (calendar <= bars.day.max())]
                                           .astype("datetime64[ns]")})
    st = _one(reader, plan, "st")
    st = st if st is not None else _concat([s.get("st") for s in sources])
    if st is not None:
        tables["st"] = clean_st(_known(st, known, "st", log), bars, log)
    fund = _one(reader, plan, "fundamentals")
    fund = fund if fund is not None else _concat([s.get("fundamentals") for s in sources])
    if fund is not None:
        tables["fundamentals"] = clean_fundamentals(_known(fund, known, "fundamentals", log), log)
    div = _one(reader, plan, "dividends")
    div = div if div is not None else _concat([s.get("dividends") for s in sources])
    if div is not None:
        tables["dividends"] = _known(div, known, "dividends", log).drop_duplicates(["symbol", "ex_date"])
    if plan.entries("benchmark"):
        e = plan.entries("benchmark")[0]
        tables["benchmark"] = benchmark(reader.table(e), e, start, end, log)
    elif any("benchmark" in s for s in sources):
        idx = sorted({i for s in sources if "benchmark" in s for i in s["benchmark"]["index"].unique()})
        log.note(f"indices in the bar source, not written (add --benchmark to keep some): {', '.join(idx)}")
    report_missing(bars, tables, log)
    return Assembled(bars, tables)


# ----- bars ---------------------------------------------------------------------
def merge_bars(parts: list[Bars], start, end, calendar: Optional[np.ndarray], log: ImportLog) -> MergedBars:
    index = SymbolIndex(s for p in parts for s in p.symbols)
    fields_present = [f for f in BAR_FIELDS if any(f in p.fields for p in parts)]
    days, sids, part_of, rows, sels = [], [], [], [], []
    for i, p in enumerate(parts):
        keep = np.ones(len(p), dtype=bool)
        if start is not None:
            keep &= p.day >= start
        if end is not None:
            keep &= p.day <= end
        log.skip(p.source, "outside --start..--end", int((~keep).sum()))
        if calendar is not None:
            off = keep & ~np.isin(p.day, calendar)
            log.skip(p.source, "not a trading day of the main source's calendar", int(off.sum()))
            keep &= ~off
        sel = np.flatnonzero(keep) if not keep.all() else slice(None)
        sels.append(sel)
        days.append(p.day[sel])
        sids.append(index.codes(p.symbols)[p.code[sel]])
        part_of.append(np.full(len(days[-1]), i, dtype=np.int16))
        rows.append(p.row[sel] if p.row is not None else np.zeros(len(days[-1]), dtype=np.int64))
    day, sid, part, row = (np.concatenate(x) for x in (days, sids, part_of, rows))
    del days, sids, part_of, rows
    # One field at a time, each part's column let go as soon as it is copied: the bars are never
    # held twice in full.
    merged: dict[str, np.ndarray] = {}
    for f in fields_present:
        pieces = [p.fields.pop(f)[sel] if f in p.fields else np.full(_length(sel, len(p)), np.nan)
                  for p, sel in zip(parts, sels)]
        merged[f] = np.concatenate(pieces)
        del pieces
    keys = make_keys(sid, day_numbers(day))
    keep = _first_of_each_key(keys, part, row, parts, index, day, log)
    if keep is not None:
        day, sid, keys = day[keep], sid[keep], keys[keep]
        merged = {f: v[keep] for f, v in merged.items()}
    used = np.unique(sid)
    if len(used) < len(index):                # symbols whose every bar fell outside the window
        remap = np.full(len(index), -1, dtype=np.int32)
        remap[used] = np.arange(len(used), dtype=np.int32)
        sid = remap[sid]
        symbols = index.symbols[used]
        keys = make_keys(sid, day_numbers(day))
    else:
        symbols = index.symbols
    return MergedBars(day, sid, symbols, merged, keys)


def _length(sel, n: int) -> int:
    return n if isinstance(sel, slice) else len(sel)


def _first_of_each_key(keys, part, row, parts, index, day, log) -> Optional[np.ndarray]:
    """Rows to keep: the first of each (symbol, day); the same key twice within one source is an error."""
    first, later = repeats(keys)
    if not len(first):
        return None
    same = part[first] == part[later]
    if same.any():
        a, b = int(first[same][0]), int(later[same][0])
        src = parts[int(part[a])].source
        rows = f" rows {row[a]} and {row[b]}" if row[a] else ""
        sym = index.symbols[symbol_code(keys[a])]
        raise DataError(f"{src}{rows} column 'date': ({day[a]}, {sym}) appears twice; keep one row per stock and day")
    drop = np.zeros(len(keys), dtype=bool)
    drop[later] = True
    for i in np.unique(part[later]):
        log.skip(parts[int(i)].source, "(date, symbol) already given by an earlier bar source",
                 int((part[later] == i).sum()))
    return ~drop


def fill_amount(bars: MergedBars, tables: list[pd.DataFrame], log: ImportLog) -> None:
    amount = bars.fields.get("amount")
    if amount is None:
        amount = bars.fields["amount"] = np.full(len(bars), np.nan)
    index = SymbolIndex(bars.symbols)
    table_end = None
    for t in tables:
        table_end = t["date"].max().to_datetime64().astype("datetime64[D]") if len(t) else table_end
        keys, sid = frame_keys(index, t["symbol"], t["date"])
        values, hit = lookup_exact(bars.keys, keys[sid >= 0], t["amount"].to_numpy(dtype=np.float64)[sid >= 0])
        gap = np.isnan(amount) & hit
        amount[gap] = values[gap]
        unmatched = len(t) - int(hit.sum())
        log.skip("amount table", "amount rows without a bar (suspended days, other symbols or dates)", unmatched)
        log.note(f"amount: {int(gap.sum()):,} bars took the amount table's value")
    missing = np.isnan(amount)
    if missing.any():
        f = bars.fields
        amount[missing] = estimate_amount(f["volume"][missing], f["high"][missing], f["low"][missing],
                                          f["close"][missing])
        days = bars.day[missing]
        where = f"{days.min()} .. {days.max()}"
        if table_end is not None:
            after = int((days > table_end).sum())
            where = (f"{after:,} after the amount table ends on {table_end}, {len(days) - after:,} of stocks or "
                     "days it lacks before that")
        log.note(f"amount estimated as {AMOUNT_ESTIMATE} for {int(missing.sum()):,} bars without one "
                 f"({where}): turnover-based factors (amihud) use the estimate there")


def fill_shares(bars: MergedBars, tables: list[pd.DataFrame], log: ImportLog) -> None:
    if tables:
        points = chain(tables)
        index = SymbolIndex(bars.symbols)
        for col in ("total_shares", "float_shares"):
            have = bars.fields.get(col)
            if have is None:
                have = bars.fields[col] = np.full(len(bars), np.nan)
            values = carry_forward(index, bars.keys, points, col)
            gap = np.isnan(have) & ~np.isnan(values)
            have[gap] = values[gap]
            log.note(f"{col}: {int(gap.sum()):,} bars from the share-count change points (carried forward)")
    total = bars.fields.get("total_shares")
    if total is None or np.isnan(total).all():
        bars.fields.pop("total_shares", None)
        bars.fields.pop("float_shares", None)
        log.lack("no share counts (add --shares): no market cap, so the small-cap cut is off and the factors "
                 "that need share counts drop out of the composite")
        return
    gap = np.isnan(total)
    if gap.any():
        n_sym = len(np.unique(bars.sid[gap]))
        log.lack(f"{int(gap.sum()):,} bars ({gap.mean():.1%}, {n_sym:,} stocks) have no share count: no market "
                 "cap there, those stock-days stay out of the size universe")


def fill_adj_factor(bars: MergedBars, log: ImportLog) -> None:
    adj = bars.fields.get("adj_factor")
    if adj is None:
        log.lack("no adj_factor in any bar source: returns ignore dividends and splits (the loader assumes 1)")
        return
    gap = np.isnan(adj)
    if gap.any():
        adj[gap] = 1.0
        log.note(f"adj_factor = 1 on {int(gap.sum()):,} bars of sources without one (no corporate actions there)")


# ----- instruments ---------------------------------------------------------------
def instruments(bars: MergedBars, sources: list[dict], listings: list[pd.DataFrame],
                industry: Optional[pd.DataFrame], log: ImportLog) -> pd.DataFrame:
    sym = pd.Index(bars.symbols)
    first = pd.Series(bars.day, index=bars.sid).groupby(level=0).min()
    last = pd.Series(bars.day, index=bars.sid).groupby(level=0).max()
    inst = pd.DataFrame({"symbol": bars.symbols, "name": bars.symbols, "list_date": pd.NaT, "delist_date": pd.NaT},
                        index=sym)
    given = [s["instruments"] for s in sources if s.get("instruments") is not None]
    named = pd.Series(np.nan, index=sym, dtype=object)
    delist_from_sources = pd.Series(pd.NaT, index=sym, dtype="datetime64[ns]")
    listed_somewhere = pd.Series(False, index=sym)
    for g in given:
        g = g.drop_duplicates("symbol").set_index("symbol").reindex(sym)
        real = g["name"].where(g["name"].astype(object) != g.index.to_series().astype(object))
        named = named.where(named.notna(), real)
        if "list_date" in g.columns:
            inst["list_date"] = inst["list_date"].where(inst["list_date"] <= g["list_date"], g["list_date"]) \
                .fillna(g["list_date"])
        if "delist_date" in g.columns:
            present = g["name"].notna() | g.get("list_date", pd.Series(pd.NaT, index=sym)).notna()
            listed_somewhere |= present & g["delist_date"].isna()
            delist_from_sources = np.fmax(delist_from_sources, g["delist_date"])
        if "industry" in g.columns and industry is None:
            inst["industry"] = inst.get("industry", pd.Series(None, index=sym, dtype=object)).fillna(g["industry"])
    inst["name"] = named.fillna(inst["symbol"])
    delist = delist_from_sources.where(~listed_somewhere)
    for lst in listings:
        lst = lst.drop_duplicates("symbol").set_index("symbol").reindex(sym)
        inst["list_date"] = np.fmin(inst["list_date"], lst["list_date"])
        if "delist_date" in lst.columns:
            in_listing = lst["list_date"].notna()
            delist = delist.where(~in_listing, lst["delist_date"])
    first_day = pd.Series(first.to_numpy().astype("datetime64[ns]"), index=sym)
    last_day = pd.Series(last.to_numpy().astype("datetime64[ns]"), index=sym)
    late = inst["list_date"].isna() | (inst["list_date"] > first_day)
    inst["list_date"] = inst["list_date"].where(~late, first_day)
    early = delist.notna() & (delist < last_day)
    if early.any():
        log.note(f"{int(early.sum())} stock(s) trade after the delisting date a source gives: delist_date moved to "
                 f"their last bar (e.g. {early[early].index[0]})")
    inst["delist_date"] = delist.where(~early, last_day)
    end = bars.day.max().astype("datetime64[ns]")
    gap = inst["delist_date"].notna() & (inst["delist_date"] > last_day + pd.Timedelta(days=30))
    if gap.any():
        log.note(f"{int(gap.sum())} stock(s) have no bars for more than 30 days before their delisting date "
                 "(their source ends earlier): they read as suspended until it")
    quiet = inst["delist_date"].isna() & (last_day < end - pd.Timedelta(days=30))
    if quiet.any():
        log.note(f"{int(quiet.sum())} listed stock(s) without a delisting date end more than 30 days before the "
                 f"market's last day: they read as suspended from their last bar on (e.g. {quiet[quiet].index[0]})")
    if industry is not None:
        inst["industry"] = latest(industry).reindex(sym)
        log.note(f"industry: the latest level-1 label of {int(inst['industry'].notna().sum()):,} of "
                 f"{len(inst):,} stocks")
    elif "industry" not in inst.columns:
        log.lack("no industry labels (add --industry): industry-neutral analysis is off")
    return inst.reset_index(drop=True)


# ----- companion tables ---------------------------------------------------------------
def clean_st(st: pd.DataFrame, bars: MergedBars, log: ImportLog) -> pd.DataFrame:
    st = st.copy()
    if "kind" not in st.columns:
        st["kind"] = "ST"
    st["kind"] = st["kind"].fillna("ST")
    bad = ~st["kind"].isin(ST_KINDS)
    if bad.any():
        raise DataError(f"st: kind {st['kind'][bad].iloc[0]!r} (symbol {st['symbol'][bad].iloc[0]}); "
                        f"use one of {', '.join(ST_KINDS)}")
    first, last = bars.day.min().astype("datetime64[ns]"), bars.day.max().astype("datetime64[ns]")
    ends = st["end_date"] if "end_date" in st.columns else pd.Series(pd.NaT, index=st.index)
    outside = (ends.notna() & (ends < first)) | (st["start_date"] > last)
    log.skip("st", "spells outside the bars' dates", int(outside.sum()))
    st = st[~outside]
    covered = pd.concat([st["start_date"], ends[~outside]]).max()
    if pd.notna(covered) and ends[~outside].notna().all() and covered < last - pd.Timedelta(days=30):
        log.lack(f"st spells end by {covered.date()}: ST status after that is unknown (ST rules are off after it)")
    cols = [c for c in ("symbol", "start_date", "end_date", "kind") if c in st.columns]
    return st[cols].sort_values(["symbol", "start_date"]).reset_index(drop=True)


def clean_fundamentals(f: pd.DataFrame, log: ImportLog) -> pd.DataFrame:
    """Rows usable point in time only: an ann_date on or after a quarter-end period_end."""
    for cause, test in (("no ann_date (not usable point in time)", lambda d: d["ann_date"].isna()),
                        ("ann_date before period_end (a placeholder such as 1900-01-01)",
                         lambda d: d["ann_date"] < d["period_end"]),
                        ("period_end is not a quarter end", lambda d: ~d["period_end"].dt.is_quarter_end)):
        bad = test(f)
        log.skip("fundamentals", cause, int(bad.sum()))
        f = f[~bad]
    dup = f.duplicated(["symbol", "period_end", "ann_date"])
    log.skip("fundamentals", "a second row for the same (symbol, period_end, ann_date)", int(dup.sum()))
    f = f[~dup]
    for c in ("total_equity", "net_profit", "revenue"):
        if c not in f.columns:
            f = f.assign(**{c: np.nan})
    return f[["symbol", "period_end", "ann_date", "total_equity", "net_profit", "revenue"]].sort_values(
        ["symbol", "period_end", "ann_date"]).reset_index(drop=True)


def benchmark(table: pd.DataFrame, e: Entry, start, end, log: ImportLog) -> pd.DataFrame:
    t = table if "index" in table.columns else table.assign(index="benchmark")
    wanted = e.settings.get("index")
    if wanted:
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        have = list(dict.fromkeys(t["index"]))
        picked = []
        for w in wanted:
            code = w if w in have else parse_symbol(w)
            if code not in have:
                raise UserError(f"{e.label}: index {w!r} is not in {e.path}; it has {', '.join(map(str, have))}")
            picked.append(code)
        t = pd.concat([t[t["index"] == p] for p in picked], ignore_index=True)
    days = t["date"].to_numpy().astype("datetime64[D]")
    keep = np.ones(len(t), dtype=bool)
    if start is not None:
        keep &= days >= start
    if end is not None:
        keep &= days <= end
    log.skip(str(e.path), "benchmark rows outside --start..--end", int((~keep).sum()))
    return t[keep][["index", "date", "close"]].reset_index(drop=True)


def report_missing(bars: MergedBars, tables: dict[str, pd.DataFrame], log: ImportLog) -> None:
    if "st" not in tables:
        log.lack("no st table (add --st): ST rules are off (no ST exclusion, no ST price limits)")
    if "fundamentals" not in tables:
        log.lack("no fundamentals (add --fundamentals): the factors that need them drop out of the composite")
    else:
        last_ann = tables["fundamentals"]["ann_date"].max()
        if pd.notna(last_ann) and last_ann < bars.day.max().astype("datetime64[ns]") - pd.Timedelta(days=200):
            log.lack(f"fundamentals end with reports announced by {last_ann.date()}: after that the factors use "
                     "ever older reports")
    if "dividends" not in tables:
        log.lack("no dividends (add --dividends): the factors that need them drop out of the composite; holdings get "
                 "corporate actions from adj_factor changes")
    if "benchmark" not in tables:
        log.note("no benchmark table (add --benchmark): backtest.benchmark 'table' is unavailable, 'pool' works")


# ----- helpers ---------------------------------------------------------------------------
def _one(reader: Reader, plan: Plan, kind: str) -> Optional[pd.DataFrame]:
    es = plan.entries(kind)
    return reader.table(es[0]) if es else None


def _concat(frames: list[Optional[pd.DataFrame]]) -> Optional[pd.DataFrame]:
    got = [f for f in frames if f is not None and len(f)]
    return pd.concat(got, ignore_index=True) if got else None


def _known(df: pd.DataFrame, known: set, what: str, log: ImportLog) -> pd.DataFrame:
    ok = df["symbol"].isin(known)
    log.skip(what, "symbol has no bars in this market", int((~ok).sum()))
    return df[ok].reset_index(drop=True)


def _window_days(calendar: Optional[pd.DataFrame], start, end) -> Optional[np.ndarray]:
    if calendar is None:
        return None
    d = np.unique(calendar["date"].to_numpy().astype("datetime64[D]"))
    if start is not None:
        d = d[d >= start]
    if end is not None:
        d = d[d <= end]
    return d
