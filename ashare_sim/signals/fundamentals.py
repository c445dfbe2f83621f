"""Point-in-time fundamentals at signal dates.

Step: PointInTime.advance(day) then .snapshot()
  requires: market.fundamentals (symbol, period_end, ann_date, total_equity,
            net_profit = cumulative year to date, sid)
  sets:     per symbol, from the rows announced strictly before `day` (a row is usable
            from the trading day after its ann_date, so at the close of signal day s
            only rows with ann_date < dates[s] count; a later restatement of a period
            replaces the earlier version from its own ann_date on):
            - latest_q: the latest fiscal quarter known
            - equity: total_equity of that quarter
            - ttm_profit: sum of the last four single-quarter net profits
            - avg_equity: mean of equity now and four quarters earlier (equity now when
              the year-earlier figure is unknown)
            - sue: (SQ(q) - SQ(q-4)) / std_{k=0..7}(SQ(q-k) - SQ(q-k-4)), sample std
              (ddof=1) over the last 8 quarterly differences, at least MIN_SUE_DIFFS of them
            - growth: TTM net profit year on year, (TTM(q) - TTM(q-4)) / |TTM(q-4)|
            - last_ann: the latest ann_date among usable rows (for the announcement gap)

Single-quarter profit SQ is derived from the year-to-date figures: SQ(Q1) = YTD(Q1),
SQ(Qk) = YTD(Qk) - YTD(Qk-1) for k = 2..4 (NaN when the previous YTD is unknown).
Quarters are numbered year x 4 + (month - 1) // 3 of period_end. A row without an
ann_date is given its period's statutory deadline from the rules table (`fill_ann_dates`).

State is a dense (symbols x quarters) array updated incrementally in ann_date order,
so the pipeline walks the signal dates forward once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_SUE_DIFFS = 4       # quarterly differences needed for a SUE standard deviation
SUE_QUARTERS = 8
_PAD = 12               # empty quarters before the first one, so q - 11 is always an index


@dataclass
class Snapshot:
    latest_q: np.ndarray     # (N,) int, -1 when nothing is known
    equity: np.ndarray       # (N,) float64
    avg_equity: np.ndarray
    ttm_profit: np.ndarray
    sue: np.ndarray
    growth: np.ndarray
    last_ann: np.ndarray     # (N,) datetime64[D], NaT when nothing is known


def quarter_number(period_end: np.ndarray) -> np.ndarray:
    p = pd.DatetimeIndex(pd.to_datetime(period_end))
    return (p.year.to_numpy() * 4 + (p.month.to_numpy() - 1) // 3).astype(np.int64)


def fill_ann_dates(fundamentals: pd.DataFrame, rules) -> pd.DataFrame:
    """Rows without an ann_date get the statutory deadline of their period
    (`rules.report_deadline(period_end)`, the rules table's report_deadlines), as
    docs/rules.md says; rows whose period_end is not a quarter end are dropped.
    One warning says how many rows were filled / dropped."""
    missing = fundamentals["ann_date"].isna()
    if not missing.any():
        return fundamentals
    from ashare_sim.common.errors import UserError

    out = fundamentals.copy()
    deadlines = {}
    for pe in pd.to_datetime(out.loc[missing, "period_end"]).dropna().unique():
        try:
            deadlines[pe] = pd.Timestamp(rules.report_deadline(pd.Timestamp(pe).date()))
        except UserError:
            deadlines[pe] = pd.NaT
    filled = pd.to_datetime(out.loc[missing, "period_end"]).map(deadlines)
    out.loc[missing, "ann_date"] = filled.to_numpy()
    dropped = int(filled.isna().sum())
    from loguru import logger
    logger.warning(f"fundamentals: {int(missing.sum()) - dropped} row(s) without ann_date use the statutory report "
                   f"deadline of their period (rules table report_deadlines)"
                   + (f"; {dropped} row(s) whose period_end is not a quarter end are ignored" if dropped else ""))
    return out[out["ann_date"].notna()].reset_index(drop=True)


def _last_of(keys: np.ndarray) -> np.ndarray:
    """Positions of the last occurrence of each distinct key."""
    _, first_in_reversed = np.unique(keys[::-1], return_index=True)
    return len(keys) - 1 - first_in_reversed


class PointInTime:
    def __init__(self, fundamentals: pd.DataFrame, n_symbols: int):
        f = fundamentals[fundamentals["sid"] >= 0]
        ann = f["ann_date"].to_numpy().astype("datetime64[D]")
        ok = ~np.isnat(ann) & f["period_end"].notna().to_numpy()
        f, ann = f[ok], ann[ok]
        qn = quarter_number(f["period_end"].to_numpy())
        q0 = int(qn.min()) if len(qn) else 0
        self.q0 = q0 - _PAD
        order = np.lexsort((qn, ann))                     # by ann_date, then quarter
        self.ann = ann[order]
        self.sid = f["sid"].to_numpy()[order].astype(np.int64)
        self.col = (qn[order] - self.q0).astype(np.int64)
        self.eq_rows = f["total_equity"].to_numpy(dtype=np.float64)[order]
        self.np_rows = f["net_profit"].to_numpy(dtype=np.float64)[order]
        n_q = (int(qn.max()) - self.q0 + 1) if len(qn) else _PAD + 1
        self.n = n_symbols
        self.eq = np.full((n_symbols, n_q), np.nan)
        self.ytd = np.full((n_symbols, n_q), np.nan)
        self.latest = np.full(n_symbols, -1, dtype=np.int64)
        self.last_ann = np.full(n_symbols, np.datetime64("NaT"), dtype="datetime64[D]")
        # quarter of year of each column: 0 = Q1
        self.qoy = (np.arange(n_q) + self.q0) % 4
        self.applied = 0
        self.day = None

    def advance(self, day) -> None:
        """Apply every row announced strictly before `day` (days must not go backwards)."""
        day = np.datetime64(day, "D")
        if self.day is not None and day < self.day:
            raise ValueError(f"PointInTime.advance: {day} is before {self.day}")
        self.day = day
        stop = int(np.searchsorted(self.ann, day, side="left"))
        if stop <= self.applied:
            return
        rows = np.arange(self.applied, stop)
        sid, col = self.sid[rows], self.col[rows]
        # rows are in ann_date order: keep the last row per (symbol, quarter) and per symbol
        last_cell = _last_of(sid * self.eq.shape[1] + col)
        self.eq[sid[last_cell], col[last_cell]] = self.eq_rows[rows[last_cell]]
        self.ytd[sid[last_cell], col[last_cell]] = self.np_rows[rows[last_cell]]
        np.maximum.at(self.latest, sid, col)
        last_sym = _last_of(sid)
        self.last_ann[sid[last_sym]] = self.ann[rows[last_sym]]
        self.applied = stop

    def latest_equity(self) -> np.ndarray:
        """(N,) total_equity of the latest known quarter (NaN when nothing is known)."""
        has = self.latest >= 0
        return np.where(has, self.eq[np.arange(self.n), np.maximum(self.latest, 0)], np.nan)

    def single_quarter(self) -> np.ndarray:
        """(N, Q) single-quarter net profit from the YTD figures."""
        prev = np.empty_like(self.ytd)
        prev[:, 0] = np.nan
        prev[:, 1:] = self.ytd[:, :-1]
        sq = self.ytd - prev
        q1 = self.qoy == 0
        sq[:, q1] = self.ytd[:, q1]
        return sq

    def snapshot(self) -> Snapshot:
        n = self.n
        has = self.latest >= 0
        q = np.where(has, self.latest, _PAD)                       # any valid column for the gather
        rows = np.arange(n)[:, None]
        lags = np.arange(SUE_QUARTERS + 4)                          # 0..11
        cols = q[:, None] - lags[None, :]
        sq = self.single_quarter()[rows, cols]                      # (N, 12): SQ(q - k)
        eq_now = self.eq[np.arange(n), q]
        eq_ago = self.eq[np.arange(n), q - 4]
        avg_eq = np.where(np.isfinite(eq_ago), (eq_now + eq_ago) / 2.0, eq_now)
        ttm = sq[:, 0:4].sum(axis=1)                                # NaN if any quarter is missing
        ttm_ago = sq[:, 4:8].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            growth = (ttm - ttm_ago) / np.abs(ttm_ago)
            diffs = sq[:, 0:SUE_QUARTERS] - sq[:, 4:SUE_QUARTERS + 4]   # (N, 8)
            cnt = np.isfinite(diffs).sum(axis=1)
            mean = np.nanmean(np.where(cnt[:, None] > 0, diffs, 0.0), axis=1)
            dev = np.where(np.isfinite(diffs), diffs - mean[:, None], 0.0)
            std = np.sqrt((dev ** 2).sum(axis=1) / np.maximum(cnt - 1, 1))
            sue = diffs[:, 0] / std
        sue = np.where((cnt >= MIN_SUE_DIFFS) & (std > 0) & np.isfinite(diffs[:, 0]), sue, np.nan)
        growth = np.where(np.isfinite(ttm_ago) & (ttm_ago != 0), growth, np.nan)
        nan = np.full(n, np.nan)
        return Snapshot(
            latest_q=np.where(has, self.latest + self.q0, -1),
            equity=np.where(has, eq_now, nan),
            avg_equity=np.where(has, avg_eq, nan),
            ttm_profit=np.where(has, ttm, nan),
            sue=np.where(has, sue, nan),
            growth=np.where(has, growth, nan),
            last_ann=self.last_ann.copy(),
        )
