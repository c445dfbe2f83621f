"""Vectorized derivations over (dates x symbols) panels: fills, flags, limits.

Pure functions on numpy arrays; `data.market` wires them together.
"""
from __future__ import annotations

import numpy as np

from ashare_sim.rules import RulesTable
from ashare_sim.rules.table import at_down_limit, at_up_limit, round_to_tick

# Rows per block when building limit panels: bounds the float64 temporaries.
_BLOCK = 128


def ffill_index(valid: np.ndarray) -> np.ndarray:
    """Per cell, the row index of the last valid cell at or above it (-1 if none)."""
    rows = np.arange(valid.shape[0], dtype=np.int32)[:, None]
    idx = np.where(valid, rows, np.int32(-1))
    np.maximum.accumulate(idx, axis=0, out=idx)
    return idx


def ffill(panel: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Forward-fill NaNs (or cells where `valid` is False) down each column."""
    if valid is None:
        valid = ~np.isnan(panel)
    idx = ffill_index(valid)
    cols = np.arange(panel.shape[1])[None, :]
    out = panel[np.maximum(idx, 0), cols]
    out[idx < 0] = np.nan
    return out


def previous_valid(panel: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Value of the last valid cell strictly above each cell (NaN if none)."""
    idx = ffill_index(valid)
    prev = np.full_like(idx, -1)
    prev[1:] = idx[:-1]
    cols = np.arange(panel.shape[1])[None, :]
    out = panel[np.maximum(prev, 0), cols]
    out = out.astype(panel.dtype, copy=False)
    out[prev < 0] = np.nan
    return out


def derive_pre_close(close: np.ndarray, adj_factor: np.ndarray, has_bar: np.ndarray,
                     tick: float = 0.01, block: int = 1024, gaps_of: np.ndarray | None = None) -> np.ndarray:
    """pre_close = previous traded close x adj[prev] / adj[t], rounded to the tick (float32).

    Worked in blocks of symbols so the float64 temporaries stay small. With `gaps_of` (a given
    pre_close panel) only its empty cells on bar days are filled, in place, and it is returned.
    """
    out = np.full(close.shape, np.nan, dtype=np.float32) if gaps_of is None else gaps_of
    for a in range(0, close.shape[1], block):
        b = min(a + block, close.shape[1])
        valid = has_bar[:, a:b]
        prev_close = previous_valid(close[:, a:b], valid).astype(np.float64)
        prev_adj = previous_valid(adj_factor[:, a:b], valid).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = prev_close * prev_adj / adj_factor[:, a:b].astype(np.float64)
        derived = round_to_tick(raw, tick)
        if gaps_of is None:
            out[:, a:b] = derived
        else:
            gap = valid & np.isnan(out[:, a:b])
            out[:, a:b][gap] = derived[gap]
    return out


def ex_right_close(last_close: np.ndarray, traded: np.ndarray,
                   events: list[tuple[int, int, float, float]]) -> np.ndarray:
    """`last_close` with every ex-date a stock did not trade applied as the exchange's ex-right reference price,
    (price - cash) / (1 + bonus), from that day until it trades again (events: t, sid, cash, bonus)."""
    out = last_close
    for t, sid, cash, bonus in sorted(events):
        if traded[t, sid] or not np.isfinite(last_close[t, sid]):
            continue                                  # it traded: the day's close is already ex-right
        if out is last_close:
            out = last_close.copy()
        later = np.flatnonzero(traded[t:, sid])
        end = t + int(later[0]) if len(later) else len(out)
        out[t:end, sid] = (out[t:end, sid] - np.float32(cash)) / np.float32(1.0 + bonus)
    return out


AMOUNT_ESTIMATE = "volume x (high+low+close)/3"


def estimate_amount(volume: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Traded amount where the data has none: volume x the typical price (in the inputs' dtype)."""
    return volume * ((high + low + close) / 3)


def listing_spells(dates: np.ndarray, list_dates: np.ndarray, delist_dates: np.ndarray,
                   first_bar: np.ndarray, last_bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(list_index, delist_index) per symbol on the calendar.

    list_index: first trading day on or after list_date (first bar when absent;
    a large negative number when listed before the calendar starts).
    delist_index: last trading day on or before delist_date (last day of the
    calendar when still listed). -1 / T when the spell lies outside the calendar.
    """
    n_days = len(dates)
    li = np.searchsorted(dates, list_dates, side="left").astype(np.int32)
    # Listed before the calendar starts: far in the past, so no IPO-day rules fire.
    li = np.where(list_dates < dates[0], np.int32(-100_000), li) if n_days else li
    li = np.where(np.isnat(list_dates), first_bar, li).astype(np.int32)
    di = (np.searchsorted(dates, delist_dates, side="right") - 1).astype(np.int32)
    di = np.where(np.isnat(delist_dates), n_days - 1, di).astype(np.int32)
    no_bars = first_bar < 0
    li = np.where(no_bars & np.isnat(list_dates), n_days, li)
    del last_bar
    return li, di


def listed_mask(n_days: int, list_index: np.ndarray, delist_index: np.ndarray) -> np.ndarray:
    rows = np.arange(n_days, dtype=np.int32)[:, None]
    return (rows >= list_index[None, :]) & (rows <= delist_index[None, :])


def days_listed(n_days: int, list_index: np.ndarray) -> np.ndarray:
    """Trading days since listing (0 on the listing day, negative before)."""
    rows = np.arange(n_days, dtype=np.int32)[:, None]
    out = rows - list_index[None, :]
    return np.clip(out, -1, np.iinfo(np.int16).max).astype(np.int16)


def spell_mask(n_days: int, n_syms: int, sym_idx: np.ndarray, start_idx: np.ndarray, end_idx: np.ndarray) -> np.ndarray:
    """Boolean (T,N) mask true on [start, end] of each spell of a symbol."""
    # int16 (overlapping spells of one stock are few) keeps the running count at a quarter of the
    # default int64 cumsum on a full-market panel.
    delta = np.zeros((n_days + 1, n_syms), dtype=np.int16)
    keep = (start_idx <= end_idx) & (sym_idx >= 0)
    np.add.at(delta, (start_idx[keep], sym_idx[keep]), 1)
    np.add.at(delta, (end_idx[keep] + 1, sym_idx[keep]), -1)
    return np.cumsum(delta[:-1], axis=0, dtype=np.int16) > 0


def ipo_limit_terms(rules: RulesTable, boards: np.ndarray, list_dates: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per symbol: no-limit trading days after listing, and the day-one band (up, down; NaN if none)."""
    band_up, band_down = rules.ipo_first_day_band_array(boards, list_dates)
    return rules.ipo_no_limit_days_array(boards, list_dates), band_up, band_down


def block_limits(rules: RulesTable, ratio: np.ndarray, pre_close: np.ndarray, day_listed: np.ndarray,
                 no_limit_days: np.ndarray, band_up: np.ndarray, band_down: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(high, low) float64 for a block of days x symbols; NaN = no limit.

    The one place the IPO rules meet the daily ratio: none on a registration IPO's
    free days; the approval-era band vs the issue price (day-one pre_close) on day one.
    The loader and the generator both call it, so their limits cannot drift apart.
    """
    ratio = np.where((day_listed >= 0) & (day_listed < no_limit_days[None, :]), np.nan, ratio)
    hi, lo = rules.limit_panels(pre_close, ratio)
    first = (day_listed == 0) & ~np.isnan(band_up)[None, :]
    if first.any():
        band_hi, band_lo = rules.limit_panels(pre_close, np.broadcast_to(band_up[None, :], pre_close.shape),
                                              np.broadcast_to(band_down[None, :], pre_close.shape))
        hi = np.where(first, band_hi, hi)
        lo = np.where(first, band_lo, lo)
    return hi, lo


def limit_panels(rules: RulesTable, dates: np.ndarray, boards: np.ndarray, is_st: np.ndarray,
                 pre_close: np.ndarray, day_listed: np.ndarray, list_dates: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(high_limit, low_limit) float32 panels from the rules; NaN = no limit that day."""
    n_days, n_syms = pre_close.shape
    no_limit, band_up, band_down = ipo_limit_terms(rules, boards, list_dates)
    high = np.full((n_days, n_syms), np.nan, dtype=np.float32)
    low = np.full((n_days, n_syms), np.nan, dtype=np.float32)
    for a in range(0, n_days, _BLOCK):
        b = min(a + _BLOCK, n_days)
        ratio = rules.limit_ratio_panel(dates[a:b], boards, is_st[a:b])
        high[a:b], low[a:b] = block_limits(rules, ratio, pre_close[a:b], day_listed[a:b], no_limit, band_up,
                                           band_down)
    return high, low


def limit_closes(close: np.ndarray, high_limit: np.ndarray, low_limit: np.ndarray, traded: np.ndarray,
                 tick: float) -> tuple[np.ndarray, np.ndarray]:
    """(closed at limit-up, closed at limit-down) boolean panels: a traded bar whose close is within
    half a tick of its limit (float32 prices hold cents only to that tolerance); no limit, no hit."""
    with np.errstate(invalid="ignore"):
        up = traded & at_up_limit(close, high_limit, tick)
        down = traded & at_down_limit(close, low_limit, tick)
    return up, down
