"""Statistics of a market (any market data directory, docs/data.md, loaded as `data.market.Market`).

Used by the tests (each figure in a band), by `bench/bench_generate.py` and for
the table of docs/synthetic.md; works on real data loaded the same way, which is how the
synthetic figures were compared with the real market.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ashare_sim.data import derive
from ashare_sim.data.market import Market

_HALF_TICK = 0.005


def _returns(m: Market) -> np.ndarray:
    """Daily log total returns (close vs pre_close, ex-rights adjusted); NaN without a bar."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(m.close.astype(np.float64) / m.pre_close.astype(np.float64))


def limit_stats(m: Market) -> dict[str, float]:
    hb = m.has_bar & (np.nan_to_num(m.volume) > 0)
    up, down = derive.limit_closes(m.close, m.high_limit, m.low_limit, hb, 2 * _HALF_TICK)
    one = (m.open == m.high) & (m.low == m.high) & (m.close == m.high)
    bars = max(int(hb.sum()), 1)
    return {"limit_up_share": up.sum() / bars, "limit_up_locked_share": (up & one).sum() / bars,
            "limit_down_share": down.sum() / bars, "limit_down_locked_share": (down & one).sum() / bars}


def price_sanity(m: Market) -> dict[str, float]:
    """Counts that must be zero: OHLC order, ticks, bars outside the loader's limits."""
    hb = m.has_bar
    o, h, lo, c = (m.panels[k][hb].astype(np.float64) for k in ("open", "high", "low", "close"))
    cents = np.concatenate([o, h, lo, c]) * 100
    lim = hb & ~np.isnan(m.high_limit)
    outside = 0
    for k in ("open", "high", "low", "close"):
        v = m.panels[k]
        outside += int((v[lim] > m.high_limit[lim] + _HALF_TICK).sum() + (v[lim] < m.low_limit[lim] - _HALF_TICK).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = m.amount[hb].astype(np.float64) / m.volume[hb].astype(np.float64)
    return {"ohlc_disorder": int(((lo > o) | (lo > c) | (h < o) | (h < c) | (lo > h)).sum()),
            # float32 panels hold cents exactly only to ~1,000 CNY; allow their resolution above.
            "off_tick": int((np.abs(cents - np.round(cents)) > 0.02 + np.abs(cents) * 2e-7).sum()),
            "outside_limits": outside,
            "vwap_outside_range": int(((vwap < lo - 1e-3) | (vwap > h + 1e-3)).sum()),
            "nonpositive_volume": int((m.volume[hb] <= 0).sum())}


def listing_stats(m: Market) -> dict[str, float]:
    inst = m.instruments
    delisted = inst["delist_date"].notna() if "delist_date" in inst.columns else pd.Series(False, index=inst.index)
    first = m.dates[0]
    ipo = inst["list_date"].to_numpy().astype("datetime64[D]") >= first
    return {"listed_first_day": int(m.is_listed[0].sum()), "listed_last_day": int(m.is_listed[-1].sum()),
            "ipos": int(ipo.sum()), "delisted": int(delisted.sum()),
            "suspended_share": float(m.is_suspended.sum() / max(m.is_listed.sum(), 1)),
            "longest_suspension_days": int(_longest_run(m.is_suspended)),
            "st_share": float(np.mean((m.is_st & m.is_listed).sum(axis=1) / np.maximum(m.is_listed.sum(axis=1), 1)))}


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    rows = np.arange(mask.shape[0], dtype=np.int32)[:, None]
    last_off = np.maximum.accumulate(np.where(mask, np.int32(-1), rows), axis=0)
    return int((rows - last_off)[mask].max())


def cap_stats(m: Market) -> dict[str, float]:
    cap = m.market_cap[-1].astype(np.float64)
    cap = cap[m.is_listed[-1] & np.isfinite(cap)]
    tv = (m.volume.astype(np.float64) / m.float_shares.astype(np.float64))
    caps = m.market_cap.astype(np.float64)
    small, large = [], []
    for t in range(0, m.n_days, 21):
        ok = m.has_bar[t] & np.isfinite(caps[t]) & np.isfinite(tv[t])
        if ok.sum() < 9:
            continue
        lo, hi = np.quantile(caps[t][ok], [1 / 3, 2 / 3])
        small.append(np.median(tv[t][ok & (caps[t] <= lo)]))
        large.append(np.median(tv[t][ok & (caps[t] >= hi)]))
    return {"cap_median_bn": float(np.median(cap) / 1e9), "cap_bottom_third_max_bn": float(np.quantile(cap, 1 / 3) / 1e9),
            "cap_share_1_5bn": float(np.mean((cap >= 1e9) & (cap <= 5e9))), "cap_over_100bn": int((cap > 1e11).sum()),
            "turnover_small": float(np.mean(small)), "turnover_large": float(np.mean(large))}


def return_stats(m: Market) -> dict[str, float]:
    r = _returns(m)
    ok = m.has_bar & (m.days_listed >= 5) & np.isfinite(r)
    v = r[ok]
    z = (v - v.mean()) / v.std()
    b = np.diff(np.log(m.benchmark.to_numpy(dtype=np.float64))) if m.benchmark is not None else np.zeros(2)
    a = np.abs(b - b.mean())
    acf = [np.corrcoef(a[:-k], a[k:])[0, 1] for k in range(1, 6)] if len(a) > 20 else [np.nan]
    return {"daily_sd": float(v.std()), "excess_kurtosis": float(np.mean(z ** 4) - 3),
            "abs_benchmark_return_acf_1_5": float(np.mean(acf)),
            "benchmark_annual_vol": float(b.std() * np.sqrt(244))}


def month_ends(m: Market) -> np.ndarray:
    months = m.dates.astype("datetime64[M]")
    return np.flatnonzero(np.r_[months[1:] != months[:-1], True])


def size_spread_by_year(m: Market) -> dict[int, float]:
    """Mean monthly return of the bottom third by cap minus the top third, by year of the month."""
    price = (derive.ffill(m.close) * derive.ffill(m.adj_factor)).astype(np.float64)
    caps = m.market_cap.astype(np.float64)
    ends = month_ends(m)
    out: dict[int, list[float]] = {}
    for a, b in zip(ends[:-1], ends[1:]):
        ok = m.has_bar[a] & m.is_listed[b] & (m.days_listed[a] >= 60) & np.isfinite(caps[a]) & np.isfinite(price[b])
        if ok.sum() < 9:
            continue
        ret = price[b][ok] / price[a][ok] - 1
        lo, hi = np.quantile(caps[a][ok], [1 / 3, 2 / 3])
        spread = ret[caps[a][ok] <= lo].mean() - ret[caps[a][ok] >= hi].mean()
        out.setdefault(int(str(m.dates[b])[:4]), []).append(float(spread))
    return {y: float(np.mean(v)) for y, v in out.items()}


def dividend_stats(m: Market) -> dict[str, float]:
    d = m.dividends
    if d is None or not len(d):
        return {"dividends": 0}
    months = pd.to_datetime(d["ex_date"]).dt.month
    f = m.fundamentals
    annual = f[pd.to_datetime(f["period_end"]).dt.strftime("%m-%d") == "12-31"]
    prof = annual[annual["net_profit"] > 0].assign(year=pd.to_datetime(annual["period_end"]).dt.year + 1)
    prof = prof[(prof["year"] >= int(str(m.dates[0])[:4])) & (prof["year"] < int(str(m.dates[-1])[:4]))]
    paid = set(zip(d["symbol"], pd.to_datetime(d["ex_date"]).dt.year))
    payers = np.mean([(s, y) in paid for s, y in zip(prof["symbol"], prof["year"])]) if len(prof) else np.nan
    return {"dividends": int(len(d)), "ex_may_jul_share": float(months.between(5, 7).mean()),
            "bonus_events": int((d["bonus_per_share"] > 0).sum()), "profitable_payer_share": float(payers)}


def fundamentals_stats(m: Market) -> dict[str, float]:
    f = m.fundamentals
    deadlines = np.array([np.datetime64(m.rules.report_deadline(p.date())) for p in pd.to_datetime(f["period_end"])])
    ann = f["ann_date"].to_numpy().astype("datetime64[D]")
    pe = f["period_end"].to_numpy().astype("datetime64[D]")
    annual = pd.to_datetime(f["period_end"]).dt.strftime("%m-%d").to_numpy() == "12-31"
    return {"fundamental_rows": int(len(f)), "ann_after_deadline": int((ann > deadlines).sum()),
            "ann_not_after_period": int((ann <= pe).sum()),
            "annual_loss_share": float((f.loc[annual, "net_profit"] < 0).mean())}


# ----- factor RankIC ------------------------------------------------------------
def _fundamental_panels(m: Market, lookahead: bool = False) -> dict[str, np.ndarray]:
    """Point-in-time (T, N) panels of book, TTM profit, growth and SUE, usable from the day after ann_date.

    lookahead=True uses each report from the day after its period end instead
    (the classic look-ahead bug), so tests can show that it is visible.
    """
    f = m.fundamentals.sort_values(["sid", "period_end"]).reset_index(drop=True)
    pe = pd.to_datetime(f["period_end"])
    year = pe.dt.year.to_numpy()
    same = np.r_[False, (f["sid"].to_numpy()[1:] == f["sid"].to_numpy()[:-1]) & (year[1:] == year[:-1])]
    ytd = f["net_profit"].to_numpy(dtype=np.float64)
    q = ytd - np.where(same, np.r_[np.nan, ytd[:-1]], 0.0)
    f["q"] = q
    g = f.groupby("sid")["q"]
    f["ttm"] = g.transform(lambda s: s.rolling(4).sum())
    f["ttm_lag"] = f.groupby("sid")["ttm"].shift(4)
    f["d4"] = f["q"] - g.shift(4)
    f["sd8"] = f.groupby("sid")["d4"].transform(lambda s: s.rolling(8, min_periods=4).std())
    eq = f["total_equity"].to_numpy(dtype=np.float64)
    values = {"book": eq, "roe": f["ttm"].to_numpy() / eq, "growth": (f["ttm"] - f["ttm_lag"]).to_numpy() / eq,
              "sue": (f["d4"] / f["sd8"]).to_numpy()}
    ann = f["ann_date"].to_numpy().astype("datetime64[D]")
    known = f["period_end"].to_numpy().astype("datetime64[D]") if lookahead else ann
    t_use = np.searchsorted(m.dates, known, side="right")
    keep = t_use < m.n_days
    order = np.lexsort((pe.to_numpy()[keep], t_use[keep]))
    sid = f["sid"].to_numpy()[keep][order]
    tt = t_use[keep][order]
    out = {}
    for k, v in values.items():
        panel = np.full((m.n_days, m.n_symbols), np.nan)
        panel[tt, sid] = v[keep][order]
        valid = np.zeros(panel.shape, dtype=bool)
        valid[tt, sid] = True
        out[k] = derive.ffill(panel, valid)
    return out


def factor_rank_ic(m: Market, lookahead: bool = False, min_listed_days: int = 120) -> dict[str, float]:
    """Mean monthly RankIC of simple point-in-time factors (sign: expected positive premium)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return {k: float(np.mean(v)) if v else float("nan") for k, v in monthly_rank_ic(m, lookahead, min_listed_days).items()}


def monthly_rank_ic(m: Market, lookahead: bool = False, min_listed_days: int = 120) -> dict[str, list[float]]:
    """Monthly RankIC series per factor (see `factor_rank_ic`)."""
    price = (derive.ffill(m.close) * derive.ffill(m.adj_factor)).astype(np.float64)
    cap = m.market_cap.astype(np.float64)
    fund = _fundamental_panels(m, lookahead)
    r = _returns(m)
    amihud_daily = np.abs(r) / (m.amount.astype(np.float64) / 1e8)
    bench = np.r_[np.nan, np.diff(np.log(m.benchmark.to_numpy(dtype=np.float64)))] if m.benchmark is not None \
        else np.nanmean(r, axis=1)
    resid = r - bench[:, None]
    ends = month_ends(m)
    ics: dict[str, list[float]] = {k: [] for k in ("value", "roe", "growth", "sue", "liquidity", "low_vol", "size")}
    for a, b in zip(ends[:-1], ends[1:]):
        if a < 60:
            continue
        ok = (m.has_bar[a] & m.is_listed[b] & (m.days_listed[a] >= min_listed_days) & ~m.is_st[a]
              & np.isfinite(cap[a]) & np.isfinite(price[b]))
        if ok.sum() < 30:
            continue
        fwd = price[b] / price[a] - 1
        factors = {
            "value": fund["book"][a] / cap[a], "roe": fund["roe"][a], "growth": fund["growth"][a], "sue": fund["sue"][a],
            "liquidity": np.nanmean(amihud_daily[a - 19:a + 1], axis=0),
            "low_vol": -np.nanstd(resid[a - 59:a + 1], axis=0), "size": -np.log(cap[a]),
        }
        for k, x in factors.items():
            sel = ok & np.isfinite(x)
            if sel.sum() < 30:
                continue
            ics[k].append(float(pd.Series(x[sel]).rank().corr(pd.Series(fwd[sel]).rank())))
    return ics


def all_stats(m: Market) -> dict[str, float]:
    out: dict[str, float] = {}
    for fn in (listing_stats, limit_stats, price_sanity, cap_stats, return_stats, dividend_stats, fundamentals_stats):
        out.update(fn(m))
    return out
