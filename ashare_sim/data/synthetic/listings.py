"""Who is listed when: IPO waves, boards and codes, industries, delistings.

Listing intensity follows `ListingParams.ipo_share_by_year`; stocks listed
before the first trading day make up the rest of `stocks`. Boards come from
the code through the rules table; a board lists nothing before its
`board_open` date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ashare_sim.common.errors import UserError
from ashare_sim.data.synthetic.calendar import weekdays
from ashare_sim.data.synthetic.params import GeneratorParams, ListingParams
from ashare_sim.rules import RulesTable

GROUPS = ("sh_main", "sz_main", "chinext", "star", "bse")
NEVER = np.iinfo(np.int32).max


@dataclass
class Listings:
    symbols: np.ndarray        # (N,) str, sorted
    names: np.ndarray          # (N,) str
    group: np.ndarray          # (N,) int index into GROUPS
    board: np.ndarray          # (N,) main | chinext | star | bse (from the rules table)
    industry: np.ndarray       # (N,) int index into params.industries
    list_date: np.ndarray      # (N,) datetime64[D]
    list_idx: np.ndarray       # (N,) calendar index of the first bar; negative (approx.) before the calendar
    delist_idx: np.ndarray     # (N,) calendar index of the last bar; NEVER when still listed
    is_ipo: np.ndarray         # (N,) listed inside the calendar

    @property
    def n(self) -> int:
        return len(self.symbols)


def _year_weights(days: np.ndarray, by_year: dict[int, float], default: float,
                  freezes: tuple[tuple[str, str], ...] = ()) -> np.ndarray:
    """Per-day intensity: the year's share spread evenly over its open weekdays."""
    years = days.astype("datetime64[Y]").astype(int) + 1970
    open_day = np.ones(len(days), dtype=bool)
    for a, b in freezes:
        open_day &= ~((days >= np.datetime64(a)) & (days <= np.datetime64(b)))
    out = np.zeros(len(days))
    for y in np.unique(years):
        all_days = weekdays(dt.date(int(y), 1, 1), dt.date(int(y) + 1, 1, 1))
        n_open = len(all_days)
        for a, b in freezes:
            n_open -= int(((all_days >= np.datetime64(a)) & (all_days <= np.datetime64(b))).sum())
        share = by_year.get(int(y), default)
        sel = (years == y) & open_day
        if n_open > 0:
            out[sel] = share / n_open
    return out


def _round_half_up(total: float) -> int:
    return int(np.floor(total + 0.5))


def _board_of_group(rules: RulesTable, lp: ListingParams) -> dict[str, str]:
    out = {}
    for g in GROUPS:
        prefix = lp.code_blocks[g][0]
        out[g] = rules.board_and_exchange(prefix + "0" * (6 - len(prefix)) + "." + lp.exchange[g])[0]
    return out


def _choose_groups(days: np.ndarray, rng: np.random.Generator, lp: ListingParams,
                   group_board: dict[str, str], rules: RulesTable) -> np.ndarray:
    starts = np.array([np.datetime64(d) for d, _ in lp.board_mix])
    era = np.clip(np.searchsorted(starts, days, side="right") - 1, 0, len(starts) - 1)
    weights = np.array([[mix.get(g, 0.0) for g in GROUPS] for _, mix in lp.board_mix])[era]
    opens = np.array([np.datetime64(rules.board_open[group_board[g]]) for g in GROUPS])
    weights = weights * (days[:, None] >= opens[None, :])
    weights[weights.sum(axis=1) == 0, 0] = 1.0     # before any mix: Shanghai main board
    cdf = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(days))[:, None]
    return np.minimum((u > cdf).sum(axis=1), len(GROUPS) - 1)


def _codes(group: np.ndarray, order: np.ndarray, lp: ListingParams) -> np.ndarray:
    """Sequential codes per board group in listing order."""
    codes = np.empty(len(group), dtype=object)
    for gi, g in enumerate(GROUPS):
        members = order[group[order] == gi]
        blocks = lp.code_blocks[g]
        size = 10 ** (6 - len(blocks[0]))
        j = np.arange(len(members)) + lp.first_code[g]
        if len(members) and j[-1] // size >= len(blocks):
            raise UserError(f"--stocks: too many {g} listings ({len(members)}) for its code blocks "
                            f"{', '.join(blocks)}; use fewer stocks")
        for k, idx in zip(j, members):
            prefix = blocks[k // size]
            codes[idx] = f"{prefix}{k % size:0{6 - len(prefix)}d}.{lp.exchange[g]}"
    return codes


def make_listings(dates: np.ndarray, stocks: int, rules: RulesTable, params: GeneratorParams,
                  rng: np.random.Generator) -> Listings:
    lp = params.listing
    start = dates[0].astype(dt.date)
    pre_days = weekdays(min(rules.board_open.values()), start)
    w_in = _year_weights(dates, lp.ipo_share_by_year, lp.ipo_share_default, lp.ipo_freezes)
    n_ipo = min(_round_half_up(stocks * w_in.sum()), int(stocks * 0.85))
    n_init = stocks - n_ipo
    w_pre = _year_weights(pre_days, lp.ipo_share_by_year, lp.ipo_share_default, lp.ipo_freezes)
    if n_init and w_pre.sum() <= 0:
        w_pre = np.ones(len(pre_days))
    init_days = np.sort(rng.choice(pre_days, size=n_init, p=w_pre / w_pre.sum())) if n_init else \
        np.array([], dtype="datetime64[D]")
    ipo_t = np.sort(rng.choice(len(dates), size=n_ipo, p=w_in / w_in.sum())) if n_ipo else np.array([], int)
    list_date = np.concatenate([init_days, dates[ipo_t]]).astype("datetime64[D]")
    # list_idx: calendar index; before the calendar, minus the weekdays to the first day.
    pre_idx = -np.busday_count(init_days, dates[0]).astype(np.int64)
    list_idx = np.concatenate([pre_idx, ipo_t]).astype(np.int64)
    is_ipo = np.concatenate([np.zeros(n_init, bool), np.ones(n_ipo, bool)])

    group_board = _board_of_group(rules, lp)
    group = _choose_groups(list_date, rng, lp, group_board, rules)
    order = np.lexsort((rng.random(stocks), list_date))
    codes = _codes(group, order, lp)
    industry = rng.choice(len(params.industries), size=stocks, p=rng.dirichlet(np.full(len(params.industries), 4.0)))

    # Delistings: days by yearly intensity, firms among those listed long enough.
    w_del = _year_weights(dates, lp.delist_share_by_year, lp.delist_share_default)
    n_del = _round_half_up(stocks * w_del.sum())
    delist_idx = np.full(stocks, NEVER, dtype=np.int64)
    if n_del:
        del_t = np.sort(rng.choice(np.arange(1, len(dates)), size=n_del, p=w_del[1:] / w_del[1:].sum()))
        min_age = np.timedelta64(int(lp.delist_min_years_listed * 365.25), "D")
        eligible_group = np.isin(group, [GROUPS.index("sh_main"), GROUPS.index("sz_main"), GROUPS.index("chinext")])
        for t in del_t:
            ok = eligible_group & (delist_idx == NEVER) & (list_date <= dates[t] - min_age)
            cand = np.flatnonzero(ok)
            if len(cand):
                delist_idx[rng.choice(cand)] = t

    board = np.array([group_board[GROUPS[g]] for g in group], dtype=object)
    perm = np.argsort(codes.astype(str), kind="stable")
    symbols = codes[perm].astype(str)
    names = np.array([f"SYN {s[:6]}" for s in symbols], dtype=object)
    return Listings(symbols=symbols.astype(object), names=names, group=group[perm], board=board[perm],
                    industry=industry[perm], list_date=list_date[perm], list_idx=list_idx[perm],
                    delist_idx=delist_idx[perm], is_ipo=is_ipo[perm])
