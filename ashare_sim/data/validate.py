"""`data validate`: check a market data directory against docs/data.md.

Errors (exit 2) are defects no simulation should run on: schema, types,
duplicates, impossible prices, bars outside listing spells, unknown symbols,
fundamentals without ann_date. Bars outside the rules' price limits are a
warning only: the data can be right where the rules table is not.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ashare_sim.common.csvfile import read_csv
from ashare_sim.common.errors import UserError
from ashare_sim.data.checks import bar_faults
from ashare_sim.data.coverage import missing_pieces_of, stale_text
from ashare_sim.data.schema import PRICE_FIELDS, SCHEMAS, ST_KINDS, TableSchema
from ashare_sim.data.tables import coerce_column, table_path
from ashare_sim.rules import RulesTable

SHOW_FIRST = 20
_HALF_TICK = 0.005


@dataclass
class Problem:
    check: str
    file: str
    row: Optional[int]          # 1-based data row (CSV line = row + 1)
    column: str
    value: str
    message: str

    def render(self) -> str:
        where = self.file + (f" row {self.row}" if self.row is not None else "")
        col = f" column '{self.column}'" if self.column else ""
        val = f" value {self.value}" if self.value != "" else ""
        head = f"{where}{col}{val}"
        return f"[{self.check}] {head}: {self.message}" if head else f"[{self.check}] {self.message}"


@dataclass
class Report:
    directory: Path
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)
    warning_counts: dict[str, int] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error_counts

    def error(self, check: str, file: str, message: str, rows: np.ndarray | list | None = None,
              column: str = "", values: pd.Series | list | None = None) -> None:
        self._add(self.errors, self.error_counts, check, file, message, rows, column, values)

    def warn(self, check: str, file: str, message: str, rows: np.ndarray | list | None = None,
             column: str = "", values: pd.Series | list | None = None) -> None:
        self._add(self.warnings, self.warning_counts, check, file, message, rows, column, values)

    def flag(self, check: str, file: str, message: str, mask: pd.Series, column: str = "",
             values: pd.Series | None = None) -> None:
        """Report the rows where `mask` holds, showing `values` of those rows (dates as dates)."""
        if not mask.any():
            return
        rows = np.flatnonzero(mask.to_numpy())
        shown = [""] * len(rows)
        if values is not None:
            picked = values.iloc[rows]
            shown = picked.dt.date if pd.api.types.is_datetime64_any_dtype(picked) else picked
        self.error(check, file, message, rows, column, shown)

    @staticmethod
    def _add(bucket: list, counts: dict, check: str, file: str, message: str, rows, column: str, values) -> None:
        if rows is None:
            counts[check] = counts.get(check, 0) + 1
            bucket.append(Problem(check, file, None, column, "", message))
            return
        rows = list(rows)
        vals = list(values) if values is not None else [""] * len(rows)
        counts[check] = counts.get(check, 0) + len(rows)
        for r, v in list(zip(rows, vals))[:3]:
            bucket.append(Problem(check, file, int(r) + 1, column, _show(v), message))

    def render(self) -> str:
        lines = []
        if self.ok:
            lines.append(f"{self.directory}: OK")
            width = max((len(k) for k in self.summary), default=0)
            lines += [f"  {k:<{width}}  {v}" for k, v in self.summary.items()]
        else:
            total = sum(self.error_counts.values())
            lines.append(f"{self.directory}: {total} problem(s) in {len(self.error_counts)} check(s)")
            shown = self.errors[:SHOW_FIRST]
            lines += ["  " + p.render() for p in shown]
            rest = total - len(shown)
            if rest > 0:
                lines.append(f"  ... and {rest} more: " +
                             ", ".join(f"{k} {v}" for k, v in sorted(self.error_counts.items())))
        if self.warning_counts:
            lines.append("warnings (missing pieces switch rules or factors off; outside_limits and "
                         "price_delisting: the data may be right where the rules table is not):")
            lines += ["  " + p.render() for p in self.warnings[:SHOW_FIRST]]
            lines.append("  counts: " + ", ".join(f"{k} {v}" for k, v in sorted(self.warning_counts.items())))
        return "\n".join(lines)


def validate_directory(directory: Path, rules: RulesTable | None = None) -> Report:
    """Run every check on `directory` and return the report (never raises for bad data)."""
    rules = rules or RulesTable.load()
    report = Report(directory)
    if not directory.is_dir():
        raise UserError(f"{directory}: no such data directory")
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    for name, schema in SCHEMAS.items():
        try:
            path = table_path(directory, name)
        except UserError as exc:
            report.error("schema", name, str(exc))
            continue
        if path is None:
            if schema.required_table:
                report.error("schema", f"{name}.parquet|csv", f"required table '{name}' is missing")
            continue
        files[name] = path.name
        df = _read_raw(path, report)
        if df is None:
            continue
        typed = _check_schema(df, schema, path.name, report)
        if typed is not None:
            tables[name] = typed

    inst, bars = tables.get("instruments"), tables.get("bars")
    known = set(inst["symbol"].dropna()) if inst is not None else set()
    if inst is not None:
        _check_instruments(inst, files["instruments"], rules, report)
    if bars is not None:
        _check_bars(bars, inst, known, files["bars"], report)
    for name in ("st", "fundamentals", "dividends", "industry_history"):
        if name in tables and inst is not None:
            _check_known_symbols(tables[name], known, files[name], report)
    if "st" in tables:
        _check_spells(tables["st"], files["st"], report)
    if "fundamentals" in tables:
        _check_fundamentals(tables["fundamentals"], files["fundamentals"], report)
    if "dividends" in tables:
        _check_dividends(tables["dividends"], files["dividends"], report)
    if "benchmark" in tables:
        _check_benchmark(tables["benchmark"], files["benchmark"], report)
    if bars is not None:
        for text in missing_pieces_of(set(tables), set(bars.columns)):
            report.warn("missing", "", text)
        _summarize(tables, report)
        # The limit check loads the columnar market; free the row-wise copy first (peak memory).
        del tables["bars"], bars
        if report.ok:
            market = _check_limits(directory, rules, files["bars"], report)
            if market is not None:
                _check_price_delisting(market, files["bars"], report)
                stale = stale_text(market)
                if stale:
                    report.warn("stale", files["bars"], stale)
    return report


# ----- reading and schema ------------------------------------------------------
def _read_raw(path: Path, report: Report) -> Optional[pd.DataFrame]:
    try:
        if path.suffix == ".parquet":
            return pq.read_table(path).to_pandas(date_as_object=False)
        return read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except UserError as exc:  # neither UTF-8 nor GBK
        report.error("schema", path.name, str(exc).split(": ", 1)[-1])
        return None
    except Exception as exc:  # unreadable file: any parser error is the user's data
        report.error("schema", path.name, f"cannot read: {exc}")
        return None


def _check_schema(df: pd.DataFrame, schema: TableSchema, file: str, report: Report) -> Optional[pd.DataFrame]:
    missing = [c for c in schema.required if c not in df.columns]
    if missing:
        report.error("schema", file, f"missing column(s) {', '.join(missing)}; required: {', '.join(schema.required)}")
        return None
    extra = [c for c in df.columns if c not in schema.columns]
    if extra:
        report.warn("schema", file, f"extra column(s) {', '.join(extra)} are ignored")
    out = df[[c for c in df.columns if c in schema.columns]]     # copy-on-write: columns replaced below only
    for col, kind in schema.columns.items():
        if col not in out.columns:
            continue
        raw = out[col]
        if kind == "float" and pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            out[col] = raw.astype("float64")        # typed by the file (Parquet): nothing to parse
            continue
        if kind == "float":
            num = pd.to_numeric(raw, errors="coerce")
            bad = num.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
            if bad.any():
                rows = np.flatnonzero(bad.to_numpy())
                report.error("type", file, "not a number", rows, col, raw.iloc[rows])
            out[col] = num.astype("float64")
        elif kind == "date":
            if pd.api.types.is_datetime64_any_dtype(raw):
                out[col] = raw.astype("datetime64[ns]")
                continue
            text = raw.astype("string")
            parsed = pd.to_datetime(text, errors="coerce", format="mixed")
            bad = parsed.isna() & raw.notna() & (text.str.strip() != "")
            if bad.any():
                rows = np.flatnonzero(bad.to_numpy())
                report.error("type", file, "not a date (use YYYY-MM-DD)", rows, col, raw.iloc[rows])
            out[col] = parsed.astype("datetime64[ns]")
        elif not (pd.api.types.is_string_dtype(raw) or pd.api.types.is_object_dtype(raw)):
            out[col] = coerce_column(raw, "str", f"{file}: {col}")
        # Required text and date values may not be empty; numeric gaps are judged per table.
        if col in schema.required and kind != "float":
            empty = out[col].isna()
            if empty.any():
                rows = np.flatnonzero(empty.to_numpy())
                is_ann = (schema.name, col) == ("fundamentals", "ann_date")
                report.error("ann_date" if is_ann else "missing", file,
                             "fundamentals row without ann_date (not usable point in time)" if is_ann
                             else "required value is empty", rows, col, [""] * len(rows))
    key = list(schema.key_in(out.columns))
    if key:
        dup = out.duplicated(key, keep="first")
        if dup.any():
            rows = np.flatnonzero(dup.to_numpy())
            keys = out.loc[dup, key].astype(str).agg(" ".join, axis=1)
            report.error("duplicate", file, f"duplicate ({', '.join(key)})", rows, "", keys)
    return out


# ----- table checks ---------------------------------------------------------------
def _check_instruments(inst: pd.DataFrame, file: str, rules: RulesTable, report: Report) -> None:
    board, _ = rules.boards_of(inst["symbol"].fillna(""))
    given = inst["board"] if "board" in inst.columns else pd.Series([None] * len(inst), index=inst.index)
    unknown = pd.Series([b is None for b in board], index=inst.index) & given.isna()
    report.flag("symbol", file, "no board for this code (the rules table's boards) and no 'board' column value",
                unknown, "symbol", inst["symbol"])
    if "board" in inst.columns:
        report.flag("board", file, "board must be main, chinext, star or bse",
                    inst["board"].notna() & ~inst["board"].isin(["main", "chinext", "star", "bse"]),
                    "board", inst["board"])
    if "delist_date" in inst.columns:
        report.flag("listing", file, "delist_date before list_date",
                    inst["delist_date"].notna() & (inst["delist_date"] < inst["list_date"]),
                    "delist_date", inst["delist_date"])


def _check_bars(bars: pd.DataFrame, inst: Optional[pd.DataFrame], known: set, file: str, report: Report) -> None:
    if inst is not None:
        _check_known_symbols(bars, known, file, report)
    traded = bars["volume"].fillna(0) > 0
    for col in (*PRICE_FIELDS, "volume"):
        report.flag("nan", file, "empty value on a traded day", bars[col].isna() & (traded | (col == "volume")), col)
    for col in ("amount", "adj_factor"):
        if col in bars.columns:
            report.flag("nan", file, "empty value on a traded day", bars[col].isna() & traded, col)
    # Gaps the loader handles: pre_close is derived from the previous close and adj_factor; a stock-day
    # without a share count has no market cap and stays out of the size universe.
    for col, consequence in (("pre_close", "derived by the loader from the previous close and adj_factor"),
                             ("total_shares", "no market cap there: outside the size universe, no size/BP factor"),
                             ("float_shares", "no float there: no turnover-based figures")):
        if col in bars.columns:
            gap = bars[col].isna() & traded
            if gap.any():
                report.warn("gap", file, f"{int(gap.sum())} traded bar(s) without {col}: {consequence}",
                            column=col)
    for fault in bar_faults({c: bars[c] for c in bars.columns if c not in ("date", "symbol")}):
        report.flag(fault.check, file, fault.message, pd.Series(fault.mask, index=bars.index), fault.column,
                    bars[fault.column])
    if inst is not None:
        spells = inst.set_index("symbol")
        spells = spells[~spells.index.duplicated()]
        lst = bars["symbol"].map(spells["list_date"])
        dl = (bars["symbol"].map(spells["delist_date"]) if "delist_date" in spells.columns
              else pd.Series(pd.NaT, index=bars.index))
        report.flag("listing_spell", file, "bar outside the listing spell (list_date..delist_date)",
                    (bars["date"] < lst) | (dl.notna() & (bars["date"] > dl)), "date", bars["date"])


def _check_known_symbols(df: pd.DataFrame, known: set, file: str, report: Report) -> None:
    report.flag("unknown_symbol", file, "symbol not in instruments", ~df["symbol"].isin(known), "symbol", df["symbol"])


def _check_spells(st: pd.DataFrame, file: str, report: Report) -> None:
    if "end_date" in st.columns:
        report.flag("spell", file, "end_date before start_date",
                    st["end_date"].notna() & (st["end_date"] < st["start_date"]), "end_date", st["end_date"])
    if "kind" in st.columns:
        report.flag("spell", file, f"kind must be one of {', '.join(ST_KINDS)}",
                    st["kind"].notna() & ~st["kind"].isin(list(ST_KINDS)), "kind", st["kind"])


def _check_fundamentals(f: pd.DataFrame, file: str, report: Report) -> None:
    report.flag("ann_date", file, "ann_date before period_end (look-ahead)",
                f["ann_date"].notna() & (f["ann_date"] < f["period_end"]), "ann_date", f["ann_date"])
    report.flag("period_end", file, "period_end is not a quarter end",
                f["period_end"].notna() & ~f["period_end"].dt.is_quarter_end, "period_end", f["period_end"])


def _check_dividends(dv: pd.DataFrame, file: str, report: Report) -> None:
    for col in ("cash_per_share", "bonus_per_share"):
        if col in dv.columns:
            report.flag("negative", file, "must be >= 0", dv[col] < 0, col, dv[col])


def _check_benchmark(b: pd.DataFrame, file: str, report: Report) -> None:
    report.flag("non_positive", file, "close must be > 0", b["close"] <= 0, "close", b["close"])


def _check_limits(directory: Path, rules: RulesTable, file: str, report: Report):
    """Warn (counts per board, examples) about traded bars outside the computed limits; the loaded market."""
    from ashare_sim.data.market import load_market

    try:
        m = load_market(directory, rules)
    except UserError as exc:
        report.error("load", file, str(exc))
        return None
    traded = m.has_bar & ~m.is_suspended
    hi, lo = m.high_limit, m.low_limit
    with np.errstate(invalid="ignore"):
        over = traded & ~np.isnan(hi) & ((m.high > hi + _HALF_TICK) | (m.close > hi + _HALF_TICK))
        under = traded & ~np.isnan(lo) & ((m.low < lo - _HALF_TICK) | (m.close < lo - _HALF_TICK))
    for mask, word in ((over, "above high_limit"), (under, "below low_limit")):
        if not mask.any():
            continue
        per_board = pd.Series(m.board[np.nonzero(mask)[1]]).value_counts()
        t, n = np.nonzero(mask)
        examples = [f"{m.symbols[j]} {m.dates[i]} (pre_close {m.pre_close[i, j]:.2f}, limit "
                    f"{(hi if word.startswith('above') else lo)[i, j]:.2f}, high {m.high[i, j]:.2f}, low {m.low[i, j]:.2f})"
                    for i, j in list(zip(t, n))[:3]]
        report.warn("outside_limits", file,
                    f"{int(mask.sum())} traded bar(s) {word} (by board: "
                    f"{', '.join(f'{b} {c}' for b, c in per_board.items())}); e.g. {'; '.join(examples)}")
    return m


def _check_price_delisting(m, file: str, report: Report) -> None:
    """Warn about stocks that kept trading after the price delisting rule (rules table
    `face_value_delisting`: 20 straight closes under 1 CNY) should have ended their listing."""
    rule_days = [m.rules.face_value_rule(m.date_at(t)) for t in range(m.n_days)]
    active = np.array([r is not None for r in rule_days])
    if not active.any():
        return
    price = np.array([r[0] if r else np.nan for r in rule_days])
    need = np.array([r[1] if r else 0 for r in rule_days])
    traded = m.has_bar & ~m.is_suspended & active[:, None]
    below = traded & (m.close < price[:, None] - _HALF_TICK)
    run = np.zeros(m.n_symbols, dtype=np.int64)
    tripped = np.full(m.n_symbols, -1, dtype=np.int64)
    for t in np.flatnonzero(active):             # one pass over the rule's days, vectorized over stocks
        run = np.where(traded[t], np.where(below[t], run + 1, 0), run)
        tripped = np.where((tripped < 0) & (run >= need[t]), t, tripped)
    hits = np.flatnonzero(tripped >= 0)
    later = [j for j in hits if m.has_bar[tripped[j] + 1:, j].any()]
    if later:
        examples = [f"{m.symbols[j]} (20th close under {price[tripped[j]]:g} CNY on {m.dates[tripped[j]]}, "
                    f"{int(m.has_bar[tripped[j] + 1:, j].sum())} bars after)" for j in later[:3]]
        report.warn("price_delisting", file,
                    f"{len(later)} stock(s) kept trading after the price delisting rule ended their listing "
                    f"(rules table face_value_delisting); e.g. {'; '.join(examples)}")


def _summarize(tables: dict[str, pd.DataFrame], report: Report) -> None:
    bars = tables["bars"]
    report.summary["tables"] = ", ".join(sorted(tables))
    report.summary["bars"] = f"{len(bars):,} rows, {bars['symbol'].nunique():,} symbols"
    if len(bars):
        report.summary["dates"] = (f"{bars['date'].min().date()} .. {bars['date'].max().date()}, "
                                   f"{bars['date'].nunique():,} trading days")
        zero = (bars["volume"].fillna(0) <= 0).mean()
        report.summary["zero-volume rows"] = f"{zero:.2%}"
    if "instruments" in tables:
        inst = tables["instruments"]
        delisted = int(inst["delist_date"].notna().sum()) if "delist_date" in inst.columns else 0
        report.summary["instruments"] = f"{len(inst):,} ({delisted:,} delisted)"
    for name in ("st", "fundamentals", "dividends", "benchmark", "industry_history"):
        if name in tables:
            report.summary[name] = f"{len(tables[name]):,} rows"
    bench = tables.get("benchmark")
    if bench is not None and "index" in bench.columns:
        report.summary["benchmark"] += f" ({', '.join(map(str, bench['index'].dropna().unique()))})"


def _show(v) -> str:
    if isinstance(v, float) and np.isnan(v):
        return "NaN"
    return repr(v) if isinstance(v, str) else str(v)
