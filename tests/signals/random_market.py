"""A random (but well-formed) market for pipeline smoke tests and the runtime bench.

Not a model of anything: geometric random walks, quarterly fundamentals announced
30-100 days after each quarter end, one cash dividend a year for half the stocks, a few
ST spells and late listings. `planted=True` adds a small premium for small caps and for
a high book-to-price so that the composite has something to find.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ashare_sim.data.market import Market


def random_frames(n_stocks: int = 60, n_days: int = 400, start: str = "2018-01-01", seed: int = 7,
                  fundamentals: bool = True, dividends: bool = True, planted: bool = True) -> dict:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=n_days)
    syms = np.array([f"{600000 + i:06d}.SH" for i in range(n_stocks)])
    # late listings for ~10% of stocks
    first = np.where(rng.random(n_stocks) < 0.1, rng.integers(0, n_days // 2, n_stocks), 0)
    list_date = np.where(first > 0, dates[first].strftime("%Y-%m-%d"), "2005-01-04")
    shares = np.exp(rng.normal(np.log(3e8), 0.8, n_stocks)).round(-4)
    equity0 = shares * np.exp(rng.normal(np.log(4.0), 0.5, n_stocks))
    p0 = np.exp(rng.normal(np.log(10.0), 0.4, n_stocks))
    bp = equity0 / (shares * p0)
    drift = np.zeros(n_stocks)
    if planted:
        drift += 0.0006 * (-(np.log(shares * p0) - np.log(shares * p0).mean()))
        drift += 0.0006 * (np.log(bp) - np.log(bp).mean())
    rets = rng.normal(0.0, 0.02, (n_days, n_stocks)) + drift[None, :] + rng.normal(0, 0.01, (n_days, 1))
    close = p0[None, :] * np.exp(np.cumsum(rets, axis=0))
    close = np.round(close, 2).clip(0.5)
    gap = rng.normal(0, 0.005, (n_days, n_stocks))
    opens = np.round(np.r_[close[:1], close[:-1]] * (1 + gap), 2).clip(0.5)
    vol = np.exp(rng.normal(np.log(2e6), 0.5, (n_days, n_stocks))).round(-2)
    present = np.arange(n_days)[:, None] >= first[None, :]
    susp = rng.random((n_days, n_stocks)) < 0.01
    present &= ~susp
    t_idx, n_idx = np.nonzero(present)
    o, c = opens[t_idx, n_idx], close[t_idx, n_idx]
    bars = pd.DataFrame({
        "date": dates[t_idx], "symbol": syms[n_idx], "open": o, "high": np.maximum(o, c) * 1.005,
        "low": np.minimum(o, c) * 0.995, "close": c, "volume": vol[t_idx, n_idx],
        "amount": vol[t_idx, n_idx] * (o + c) / 2, "adj_factor": 1.0, "total_shares": shares[n_idx],
        "float_shares": shares[n_idx]})
    inst = pd.DataFrame({"symbol": syms, "name": syms, "industry": "ind0", "board": "main", "list_date": list_date,
                         "delist_date": None})
    st = pd.DataFrame({"symbol": syms[:2], "start_date": [str(dates[n_days // 3].date())] * 2,
                       "end_date": [None, str(dates[2 * n_days // 3].date())], "kind": ["ST", "*ST"]})
    out = {"instruments": inst, "bars": bars, "st": st, "fundamentals": None, "dividends": None,
           "calendar": pd.DataFrame({"date": dates})}
    if fundamentals:
        qends = pd.date_range(dates[0] - pd.DateOffset(years=3), dates[-1], freq="QE")
        rows = []
        for i in range(n_stocks):
            ytd = 0.0
            eq = equity0[i] * 0.8
            base = equity0[i] * 0.02
            for q in qends:
                if q.month == 3:
                    ytd = 0.0
                sq = base * (1 + rng.normal(0.02, 0.3))
                base *= 1.01
                ytd += sq
                eq += sq
                ann = q + pd.Timedelta(days=int(rng.integers(30, 100)))
                rows.append({"symbol": syms[i], "period_end": q, "ann_date": ann, "total_equity": eq,
                             "net_profit": ytd})
        out["fundamentals"] = pd.DataFrame(rows)
    if dividends:
        rows = []
        for i in range(0, n_stocks, 2):
            for y in sorted(set(dates.year)):
                rows.append({"symbol": syms[i], "ex_date": pd.Timestamp(f"{y}-06-20"),
                             "cash_per_share": round(float(rng.uniform(0.05, 0.5)), 2), "bonus_per_share": 0.0})
        out["dividends"] = pd.DataFrame(rows)
    return out


def random_market(**kw) -> Market:
    f = random_frames(**kw)
    return Market.from_frames(f["instruments"], f["bars"], st=f["st"], fundamentals=f["fundamentals"],
                              dividends=f["dividends"], calendar=f["calendar"])
