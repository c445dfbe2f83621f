"""The day-by-day price path: fair values, limits, ticks, one-price bars, volume.

Each stock carries a latent fair log price F that moves by the factor model
every listed day (also while suspended: news accumulates). The traded bar is F
seen through the day's limits from the rules table: the close is F rounded to
the tick and clipped to [low_limit, high_limit]; what the limit holds back stays
in F, so big news and IPOs give runs of limit bars, one-price (open = high =
low = close = limit) when F stays beyond the limit all day. This loop over
trading days is the only loop over time; every step is a vector op over stocks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ashare_sim.common.errors import UserError
from ashare_sim.common.logs import progress
from ashare_sim.data.derive import block_limits
from ashare_sim.data.synthetic.corporate import DividendEvents, ShareStructure
from ashare_sim.data.synthetic.listings import Listings
from ashare_sim.data.synthetic.params import GeneratorParams
from ashare_sim.data.synthetic.returns import FactorPaths, Traits, rank_score, zscore
from ashare_sim.rules import RulesTable

_BLOCK = 256
_NO_LIMIT_CENTS = 10 ** 9


@dataclass
class PathInputs:
    dates: np.ndarray
    lst: Listings
    rules: RulesTable
    params: GeneratorParams
    traits: Traits
    paths: FactorPaths
    shares: ShareStructure
    traded: np.ndarray          # (T, N) listed and not suspended
    is_st: np.ndarray           # (T, N)
    alpha: np.ndarray           # (T, N) float32 premia from fundamentals
    row_equity: np.ndarray      # (R,) book equity of each usable report
    row_at: np.ndarray          # (T, N) int32 latest usable report, -1 none
    jumps: tuple[np.ndarray, np.ndarray, np.ndarray]   # (t, sid, size) announcement reactions
    dividends: DividendEvents


@dataclass
class PathOutput:
    open: np.ndarray            # (T, N) int32 cents (0 where no bar)
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    pre_close: np.ndarray
    volume: np.ndarray          # (T, N) float64 shares
    amount: np.ndarray          # (T, N) float64 CNY
    adj_factor: np.ndarray
    total_shares: np.ndarray
    float_shares: np.ndarray
    benchmark: np.ndarray       # (T,) cap-weighted index of listed stocks
    cash_used: np.ndarray       # (E,) cash per share paid on each dividend event
    bonus_used: np.ndarray      # (E,) bonus shares per share on each dividend event
    market: np.ndarray          # (T,) the market factor's daily log return (diagnostics)
    price_delisted: list = field(default_factory=list)   # (sid, calendar index) delisted by the price rule


def _cents(x: np.ndarray) -> np.ndarray:
    return np.floor(x * 100.0 + 0.5)


def ipo_setup(inp: PathInputs, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Issue price, day-one pop (log) and IPO kind per stock, from the board's rules of the listing date."""
    lst, rules, ip = inp.lst, inp.rules, inp.params.ipo
    # Listed before the calendar: the loader applies no IPO rule to them, neither do we.
    no_limit = np.where(lst.is_ipo, rules.ipo_no_limit_days_array(lst.board, lst.list_date), 0)
    band_up, band_down = rules.ipo_first_day_band_array(lst.board, lst.list_date)
    band_up = np.where(lst.is_ipo, band_up, np.nan)
    band_down = np.where(lst.is_ipo, band_down, np.nan)
    normal = np.array([rules.limit_ratio(b, d.astype("datetime64[D]").item()) or 0.1
                       for b, d in zip(lst.board, lst.list_date)])
    free = no_limit > 0
    band = ~free & ~np.isnan(band_up)
    pop = np.log1p(ip.plain_pop[0]) + rng.standard_normal(lst.n) * ip.plain_pop[1]
    fp_med = np.array([ip.free_pop.get(b, ip.free_pop["main"])[0] for b in lst.board])
    fp_sd = np.array([ip.free_pop.get(b, ip.free_pop["main"])[1] for b in lst.board])
    pop = np.where(free, np.log1p(fp_med) + rng.standard_normal(lst.n) * fp_sd, pop)
    runs = rng.poisson(ip.band_runs_mean, size=lst.n) + rng.random(lst.n) * 0.8
    pop = np.where(band, np.log1p(np.nan_to_num(band_up)) + runs * np.log1p(normal), pop)
    pop = np.where(lst.is_ipo, pop, 0.0)
    issue = np.maximum(_cents(inp.traits.price_ref / np.exp(pop)), 100) / 100.0
    return {"no_limit": no_limit, "band_up": band_up, "band_down": band_down, "free": free, "band": band,
            "pop": pop, "issue": issue}


def _day_limits(rules: RulesTable, ratio_row: np.ndarray, pre_close: np.ndarray, days_listed: np.ndarray,
                ipo: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high) limits in cents and the no-limit mask: the loader's own `derive.block_limits` on one day."""
    band_up = np.where(ipo["band"], ipo["band_up"], np.nan)
    hi, lo = block_limits(rules, ratio_row[None, :], pre_close[None, :], days_listed[None, :], ipo["no_limit"],
                          band_up, ipo["band_down"])
    hi, lo = hi[0], lo[0]
    no_lim = np.isnan(hi)
    hi_c = np.where(no_lim, _NO_LIMIT_CENTS, np.rint(np.nan_to_num(hi) * 100))
    lo_c = np.where(no_lim, 1, np.rint(np.nan_to_num(lo) * 100))
    return lo_c, hi_c, no_lim


def _bar(fair_open: np.ndarray, fair: np.ndarray, sig: np.ndarray, z: np.ndarray, lo_c: np.ndarray,
         hi_c: np.ndarray, no_lim: np.ndarray, range_scale: float) -> tuple[np.ndarray, ...]:
    """(open, high, low, close, locked) in cents: fair values seen through the day's limits.

    A bar is one-price (open = high = low = close = limit) when the fair value stays
    beyond the limit at the open and the close by more than the day's intraday dip.
    """
    close = np.clip(_cents(np.exp(fair)), lo_c, hi_c)
    opn = np.clip(_cents(np.exp(fair_open)), lo_c, hi_c)
    top = np.maximum(opn, close)
    bot = np.minimum(opn, close)
    high = np.maximum(np.minimum(np.floor(top * np.exp(range_scale * sig * np.abs(z[0])) + 0.5), hi_c), top)
    low = np.minimum(np.maximum(np.floor(bot / np.exp(range_scale * sig * np.abs(z[1])) + 0.5), lo_c), bot)
    dip = range_scale * sig * np.abs(z[2])
    log_hi = np.log(hi_c / 100.0)
    log_lo = np.log(lo_c / 100.0)
    lock_up = ~no_lim & (fair_open - log_hi > dip) & (fair - log_hi > dip)
    lock_dn = ~no_lim & (log_lo - fair_open > dip) & (log_lo - fair > dip)
    for lock, level in ((lock_up, hi_c), (lock_dn, lo_c)):
        opn = np.where(lock, level, opn)
        high = np.where(lock, level, high)
        low = np.where(lock, level, low)
        close = np.where(lock, level, close)
    return opn, high, low, close, lock_up | lock_dn


def _bonus_by_price(prev: np.ndarray, planned: np.ndarray, schedule: tuple, rng: np.random.Generator) -> np.ndarray:
    """Bonus shares per share on ex-dates: the planned ones, or a draw from the price schedule (the larger)."""
    lows = np.array([row[0] for row in schedule])
    k = np.searchsorted(lows, prev, side="right") - 1
    u, pick = rng.random(len(prev)), rng.random(len(prev))
    drawn = np.zeros(len(prev))
    for i, (_, prob, sizes) in enumerate(schedule):
        sel = (k == i) & (u < prob)
        drawn[sel] = np.asarray(sizes)[np.minimum((pick[sel] * len(sizes)).astype(int), len(sizes) - 1)]
    return np.maximum(planned, drawn)


def simulate(inp: PathInputs, rng: np.random.Generator) -> PathOutput:
    dates, lst, rules, params = inp.dates, inp.lst, inp.rules, inp.params
    rp, pp = params.returns, params.premia
    n_days, n = inp.traded.shape
    tr_all = inp.traded
    ipo = ipo_setup(inp, rng)
    z_old_adj = np.where(lst.is_ipo, 0.0, rng.uniform(0.0, 1.2, size=n))

    out = PathOutput(*(np.zeros((n_days, n), dtype=np.int32) for _ in range(5)),
                     *(np.zeros((n_days, n), dtype=np.float64) for _ in range(5)),
                     benchmark=np.zeros(n_days), cash_used=inp.dividends.cash.copy(),
                     bonus_used=inp.dividends.bonus.copy(), market=np.zeros(n_days))

    # State.
    first_price = np.where(lst.is_ipo, ipo["issue"], _cents(inp.traits.price_ref) / 100.0)
    last_close = first_price.copy()                         # CNY, exact cents
    fair = np.log(first_price)
    adj = np.exp(z_old_adj)
    total = inp.shares.shares0.copy()
    planned = total.copy()                                  # share count the planned dividends assumed
    vol_dev, turn_dev = inp.traits.vol_dev.copy(), inp.traits.turn_dev.copy()
    h = inp.traits.log_vol + vol_dev
    t_scale = np.sqrt((rp.t_df - 2) / rp.t_df)
    jump_mean = rp.jump_prob * (2 * rp.jump_up_share - 1) * np.sqrt(2 / np.pi) * rp.jump_sd
    index = params.benchmark_base
    div_bounds = inp.dividends.day_slices(n_days)
    j_t, j_sid, j_size = inp.jumps
    jump_bounds = np.searchsorted(j_t, np.arange(n_days + 1))
    distress_start = np.where(lst.delist_idx < n_days, lst.delist_idx - rp.distress_days, n_days + 1)
    phi_dev = rp.trait_persistence
    dev_step = np.sqrt(1 - phi_dev ** 2)
    log_floor = np.log(rp.price_floor)
    log_pivot = np.log(rp.price_vol_pivot)
    beta, industry = inp.traits.beta, lst.industry
    if abs(rules.tick - 0.01) > 1e-12:
        raise UserError(f"{rules.source}: tick {rules.tick}: the generator works in cents (tick 0.01)")
    ratio_block = None
    # The price delisting rule by day: (price in cents, consecutive days); days 0 = not in force.
    rules_by_day = [rules.face_value_rule(d.astype("datetime64[D]").item()) for d in dates]
    fv_cents = np.array([r[0] * 100.0 if r else 0.0 for r in rules_by_day])
    fv_days = np.array([r[1] if r else 0 for r in rules_by_day], dtype=np.int64)
    below = np.zeros(n, dtype=np.int64)                     # consecutive closes under the rule's price

    for t in progress(range(n_days), desc="price path", total=n_days):
        if t % _BLOCK == 0:
            b = min(t + _BLOCK, n_days)
            ratio_block = rules.limit_ratio_panel(dates[t:b], lst.board, inp.is_st[t:b])
        act = (lst.list_idx <= t) & (lst.delist_idx >= t)
        new = lst.list_idx == t
        old = act & ~new
        tr = tr_all[t]

        # Factor draws.
        zn = rng.standard_normal((9, n))
        shock = rng.standard_t(rp.t_df, size=n) * t_scale
        u = rng.random((6, n))
        vol_level = inp.paths.vol_level[t]
        m = inp.paths.market[t]
        ind = inp.paths.industry[t]
        fs = inp.paths.size[t]
        # Slowly wandering idio-vol and turnover levels (net of size): what the
        # low-vol and liquidity premia act on, so no stock keeps a premium for ever.
        vol_dev = phi_dev * vol_dev + dev_step * rp.idio_vol_dispersion * zn[7]
        turn_dev = phi_dev * turn_dev + dev_step * rp.turnover_dispersion * zn[8]
        level = inp.traits.log_vol + vol_dev
        h = rp.idio_vol_persistence * h + (1 - rp.idio_vol_persistence) * level + rp.idio_volvol * zn[0]
        h[new] = level[new] + rp.ipo_vol_boost
        static_alpha = -pp.liquidity * zscore(turn_dev, act) - pp.low_vol * zscore(vol_dev, act)
        sig = np.exp(h) * np.clip(np.exp(rp.price_vol_elasticity * (fair - log_pivot)), *rp.price_vol_clip)
        jump = np.where(u[0] < rp.jump_prob, np.where(u[1] < rp.jump_up_share, 1.0, -1.0) * np.abs(zn[1]) * rp.jump_sd,
                        0.0)

        # Exposures from yesterday's caps and the reports known today.
        cap_prev = last_close * total
        log_cap = np.log(np.where(old, cap_prev, np.nan))
        x_size = -rank_score(log_cap, old)
        rows = inp.row_at[t]
        equity = np.where(rows >= 0, inp.row_equity[np.maximum(rows, 0)], np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            log_bp = np.log(np.where(equity > 0, equity, np.nan)) - log_cap
        delta = (beta * m + ind[industry] + fs * x_size + pp.value * zscore(log_bp, old) + inp.alpha[t]
                 + static_alpha + sig * shock - 0.5 * sig * sig * rp.convexity + jump - jump_mean
                 + np.where(t >= distress_start, rp.distress_drift, 0.0)
                 + rp.floor_pull * np.maximum(log_floor - fair, 0.0))
        a, b = jump_bounds[t], jump_bounds[t + 1]
        if b > a:
            np.add.at(delta, j_sid[a:b], j_size[a:b])

        # Ex-dates: cash and bonus shares, pre_close and adj_factor from them.
        pre_close = last_close.copy()
        a, b = div_bounds[t], div_bounds[t + 1]
        if b > a:
            s = inp.dividends.sid[a:b]
            prev = last_close[s]
            cash = inp.dividends.cash[a:b].copy()
            bonus = _bonus_by_price(prev, inp.dividends.bonus[a:b], params.fundamentals.bonus_by_price, rng)
            # Cash per share was set on the planned share count; pay the same total on the actual one.
            cash = cash * planned[s] / total[s]
            planned[s] = np.round(planned[s] * (1.0 + inp.dividends.bonus[a:b]))
            cash = np.minimum(np.floor(cash * 1e4) / 1e4, np.floor(prev * 0.15 * 1e4) / 1e4)
            out.bonus_used[a:b] = bonus
            pc_ex = np.maximum(_cents((prev - cash) / (1.0 + bonus)), 1) / 100.0
            ratio_ex = prev / pc_ex
            adj[s] = adj[s] * ratio_ex
            fair[s] -= np.log(ratio_ex)
            total[s] = np.round(total[s] * (1.0 + bonus))
            pre_close[s] = pc_ex
            out.cash_used[a:b] = cash

        fair_open = fair + rp.overnight_share * delta + 0.3 * sig * zn[2]
        fair = np.where(old, fair + delta, fair)
        if new.any():
            base = np.log(ipo["issue"][new]) + ipo["pop"][new]
            fair[new] = base + sig[new] * shock[new]
            fair_open[new] = base + 0.3 * sig[new] * zn[2][new]
            band_new = new & ipo["band"]
            fair_open[band_new] = np.log(ipo["issue"][band_new] * (1 + params.ipo.band_open_share
                                                                    * ipo["band_up"][band_new]))
            pre_close[new] = ipo["issue"][new]
            adj[new] = 1.0
            last_close[new] = ipo["issue"][new]

        days_listed = t - lst.list_idx
        lo_c, hi_c, no_lim = _day_limits(rules, ratio_block[t % _BLOCK], pre_close, days_listed, ipo)

        opn, high, low, close, lock = _bar(fair_open, fair, sig, zn[3:6], lo_c, hi_c, no_lim, rp.range_scale)

        # Volume and amount (VWAP inside [low, high]).
        pc_c = _cents(pre_close)
        ret = close / pc_c - 1.0
        turn = (np.exp(inp.traits.log_turnover + turn_dev + rp.turnover_noise * zn[6])
                * (1 + rp.turnover_abs_return * np.abs(ret)) * np.sqrt(vol_level))
        fresh = lst.is_ipo & (days_listed >= 1) & (days_listed < 10 * rp.ipo_turnover_decay_days)
        turn = np.where(fresh, turn * (1 + rp.ipo_turnover_boost
                                       * np.exp(-np.maximum(days_listed, 0) / rp.ipo_turnover_decay_days)), turn)
        turn = np.where(lock, rp.locked_turnover * np.exp(u[3] - 0.5), turn)
        turn = np.where(new & ipo["free"], rp.ipo_turnover * np.exp(0.3 * (u[3] - 0.5)), turn)
        turn = np.minimum(turn, 0.9)
        frac = inp.shares.float_fraction(days_listed)
        flt = np.round(total * frac / 100.0) * 100.0
        volume = np.maximum(np.round(flt * turn / 100.0), 1.0) * 100.0
        w = u[4:6]
        vwap = (w[0] * opn + (1 - w[0]) * close) * 0.5 + (w[1] * high + (1 - w[1]) * low) * 0.5
        amount = np.round(volume * vwap / 100.0, 2)

        # Benchmark: cap-weighted over stocks trading today that traded before.
        in_index = tr & old
        weight = pc_c * total
        if in_index.any():
            index *= 1.0 + float(np.sum(weight[in_index] * ret[in_index]) / np.sum(weight[in_index]))
        out.benchmark[t] = index
        out.market[t] = m

        out.open[t] = np.where(tr, opn, 0)
        out.high[t] = np.where(tr, high, 0)
        out.low[t] = np.where(tr, low, 0)
        out.close[t] = np.where(tr, close, 0)
        out.pre_close[t] = np.where(tr, pc_c, 0)
        out.volume[t] = np.where(tr, volume, 0)
        out.amount[t] = np.where(tr, amount, 0)
        out.adj_factor[t] = np.where(tr, adj, 0)
        out.total_shares[t] = np.where(tr, total, 0)
        out.float_shares[t] = np.where(tr, flt, 0)
        last_close = np.where(tr, close / 100.0, last_close)
        if fv_days[t]:
            # Price delisting: the 20th straight close under 1 CNY is the stock's last trading day.
            below = np.where(tr, np.where(close < fv_cents[t], below + 1, 0), below)
            hit = np.flatnonzero(tr & (below >= fv_days[t]))
            if hit.size:
                lst.delist_idx[hit] = t
                tr_all[t + 1:, hit] = False
                below[hit] = 0
                out.price_delisted.extend((int(sid), t) for sid in hit)
    return out
