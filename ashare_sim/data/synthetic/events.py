"""Suspension spells and ST / *ST risk-warning spells, as (T, N) masks and tables.

Suspensions: spell starts per listed stock-day (higher before 2017, as in
A-shares), lengths from a mixture of one day to most of a year; never on a
listing day or a delisting day. *ST: two consecutive annual losses, from the
trading day after the annual report until a profitable annual report (plus a
review delay). ST: rare spells for other risks.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ashare_sim.data import derive
from ashare_sim.data.synthetic.fundamentals import Fundamentals
from ashare_sim.data.synthetic.listings import Listings
from ashare_sim.data.synthetic.params import GeneratorParams


def listed_mask(n_days: int, lst: Listings) -> np.ndarray:
    rows = np.arange(n_days)[:, None]
    return (rows >= lst.list_idx[None, :]) & (rows <= lst.delist_idx[None, :])


def era_multiplier(dates: np.ndarray, table: tuple[tuple[int, float], ...]) -> np.ndarray:
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    starts = np.array([y for y, _ in table])
    vals = np.array([v for _, v in table])
    return vals[np.clip(np.searchsorted(starts, years, side="right") - 1, 0, len(vals) - 1)]


def suspensions(dates: np.ndarray, lst: Listings, listed: np.ndarray, params: GeneratorParams,
                rng: np.random.Generator) -> np.ndarray:
    ep = params.events
    n_days = len(dates)
    mult = era_multiplier(dates, ep.suspension_rate_by_era)
    top = float(mult.max())
    first = np.clip(lst.list_idx, 0, n_days)
    last = np.minimum(lst.delist_idx, n_days - 1)
    span = np.maximum(last - first + 1, 0)
    counts = rng.poisson(ep.suspension_rate * top * span)
    sid = np.repeat(np.arange(lst.n), counts)
    # Start days uniform over the listed days, thinned by the era multiplier.
    start = first[sid] + np.floor(rng.random(len(sid)) * span[sid]).astype(np.int64)
    keep = rng.random(len(sid)) < mult[np.minimum(start, n_days - 1)] / top
    sid, start = sid[keep], start[keep]
    shares = np.array([s for s, _, _ in ep.suspension_lengths])
    kind = rng.choice(len(shares), size=len(sid), p=shares / shares.sum())
    lo = np.array([a for _, a, _ in ep.suspension_lengths])[kind]
    hi = np.array([b for _, _, b in ep.suspension_lengths])[kind]
    length = lo + np.floor(rng.random(len(sid)) * (hi - lo + 1)).astype(np.int64)
    # Waves: a share of the listed stocks halts on one of the wave's days.
    for first_day, last_day, share, lo_days, hi_days in ep.suspension_waves:
        days = np.flatnonzero((dates >= np.datetime64(first_day)) & (dates <= np.datetime64(last_day)))
        if not len(days):
            continue
        who = np.flatnonzero(listed[days[0]] & (rng.random(lst.n) < share))
        sid = np.concatenate([sid, who])
        start = np.concatenate([start, rng.choice(days, size=len(who))])
        length = np.concatenate([length, rng.integers(lo_days, hi_days + 1, size=len(who))])
    end = np.minimum(start + length - 1, n_days - 1)
    mask = derive.spell_mask(n_days, lst.n, sid, start, end)
    mask &= listed
    cols = np.arange(lst.n)
    for idx in (lst.list_idx, lst.delist_idx):
        inside = (idx >= 0) & (idx < n_days)
        mask[idx[inside], cols[inside]] = False
    return mask


def st_spells(dates: np.ndarray, lst: Listings, f: Fundamentals, listed: np.ndarray, params: GeneratorParams,
              rng: np.random.Generator) -> pd.DataFrame:
    """Rows (sid, start, end, kind) with calendar indices; end inclusive, -1 = ongoing."""
    ep = params.events
    n_days = len(dates)
    q4 = np.flatnonzero((f.periods.astype("datetime64[M]").astype(int) % 12) == 11)
    loss = (f.np_ytd[:, q4] < 0)
    ann = f.ann[:, q4]
    known = f.published[:, q4]
    # The report's verdict applies from the first trading day after its announcement.
    t_ann = np.searchsorted(dates, ann, side="right")
    spells = []
    on = np.zeros(lst.n, dtype=bool)
    start = np.zeros(lst.n, dtype=np.int64)
    delay = rng.integers(ep.st_removal_delay_days[0], ep.st_removal_delay_days[1] + 1, size=ann.shape)
    t_clear = np.searchsorted(dates, ann + delay.astype("timedelta64[D]"), side="right")
    for y in range(1, len(q4)):        # loop over annual reports (years), vectorized over firms
        verdict = known[:, y] & (t_ann[:, y] < n_days)
        bad = loss[:, y] & loss[:, y - 1] & known[:, y - 1]
        begin = verdict & bad & ~on
        start[begin] = t_ann[begin, y]
        on |= begin
        clear = verdict & on & ~loss[:, y]
        for s in np.flatnonzero(clear):
            spells.append((s, start[s], min(t_clear[s, y], n_days) - 1, "*ST"))
        on &= ~clear
    for s in np.flatnonzero(on):
        spells.append((s, start[s], -1, "*ST"))
    df = pd.DataFrame(spells, columns=["sid", "start", "end", "kind"])

    # Other risk warnings, not overlapping a *ST spell.
    years = np.maximum(np.minimum(lst.delist_idx, n_days - 1) - np.maximum(lst.list_idx, 0) + 1, 0) / 244.0
    counts = rng.poisson(ep.other_st_rate * years)
    mask = spell_mask_of(df, n_days, lst.n)
    extra = []
    first = np.maximum(lst.list_idx, 0)
    last = np.minimum(lst.delist_idx, n_days - 1)
    for s in np.repeat(np.arange(lst.n), counts):
        if last[s] - first[s] < 2:
            continue
        a = int(rng.integers(first[s] + 1, last[s] + 1))
        b = a + int(rng.integers(ep.other_st_days[0], ep.other_st_days[1] + 1)) - 1
        b_clip = min(b, n_days - 1)
        if mask[a:b_clip + 1, s].any():
            continue
        mask[a:b_clip + 1, s] = True
        extra.append((s, a, b if b < n_days - 1 else -1, "ST"))
    df = pd.concat([df, pd.DataFrame(extra, columns=df.columns)], ignore_index=True)
    df = df.astype({"sid": np.int64, "start": np.int64, "end": np.int64})
    # Clip to the listing spell.
    li = lst.list_idx[df["sid"].to_numpy()]
    last = np.minimum(lst.delist_idx[df["sid"].to_numpy()], n_days - 1)
    df["start"] = np.maximum(df["start"].to_numpy(), np.where(li >= 0, li + 1, 0))
    ends = df["end"].to_numpy()
    delisted_end = (ends < 0) & (last < n_days - 1)
    df["end"] = np.where(delisted_end, last, np.where(ends >= 0, np.minimum(ends, last), -1))
    df = df[(df["start"] <= np.where(df["end"] < 0, n_days - 1, df["end"])) & (df["start"] < n_days)]
    return df.sort_values(["sid", "start"], kind="stable").reset_index(drop=True)


def spell_mask_of(df: pd.DataFrame, n_days: int, n: int) -> np.ndarray:
    if not len(df):
        return np.zeros((n_days, n), dtype=bool)
    ends = df["end"].to_numpy()
    return derive.spell_mask(n_days, n, df["sid"].to_numpy(), df["start"].to_numpy(),
                             np.where(ends < 0, n_days - 1, ends))


def clip_to_st_regime(df: pd.DataFrame, dates: np.ndarray, lst: Listings, rules) -> pd.DataFrame:
    """ST spells only where the board had a risk-warning regime: ChiNext none before its registration reform
    (rules table `st_regime`). A spell running across the regime's start begins on that day."""
    if not len(df):
        return df
    starts = {b: rules.st_regime_start(b) for b in set(lst.board)}
    first = np.array([np.searchsorted(dates, np.datetime64(starts[b], "D")) if starts[b] else len(dates)
                      for b in lst.board], dtype=np.int64)
    begin = first[df["sid"].to_numpy()]
    out = df.assign(start=np.maximum(df["start"].to_numpy(), begin))
    ends = out["end"].to_numpy()
    keep = (out["start"].to_numpy() < len(dates)) & ((ends < 0) | (out["start"].to_numpy() <= ends))
    return out[keep].reset_index(drop=True)


def clip_to_listing(df: pd.DataFrame, lst: Listings, n_days: int) -> pd.DataFrame:
    """Spells ended on (or dropped after) a last trading day that moved after they were drawn
    (the price delisting rule acts inside the price path)."""
    if not len(df):
        return df
    last = lst.delist_idx[df["sid"].to_numpy()]
    ends = df["end"].to_numpy()
    moved = last < n_days - 1
    new_end = np.where(moved & ((ends < 0) | (ends > last)), last, ends)
    out = df.assign(end=new_end)
    return out[out["start"].to_numpy() <= np.where(out["end"] < 0, n_days - 1, out["end"])].reset_index(drop=True)
