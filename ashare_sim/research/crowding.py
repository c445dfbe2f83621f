"""Crowding monitor: is the small-cap trade crowded, and could the book get out?

Step: crowding
  requires: the backtest window, the schedule, the pool at each signal close
            (signals.universe), the pipeline's targets (the book held from each rebalance
            day to the next), broker.cash, the pool valuation table, amount / close /
            low_limit panels, research.adv_days / exit_volume_share
  sets:     one row per trading day of the window (a month's figures use only the pool
            and book formed at the signal close before it, and amounts up to that day):
            - pool_pe_percentile: the pool's median PE-TTM percentile (valuation), from
              the latest signal date
            - smallcap_turnover_share: the pool's amount (CNY) / every stock's amount
            - participation (the book of the latest rebalance with targets, kept until the
              next one): mean over the book's names of position value (broker.cash x
              weight) / the name's average daily amount over the last adv_days days
              (suspended days count as 0): the share of a day's trading one day's full
              rebalance of that name would be
            - days_to_exit: the largest over the names of position value /
              (exit_volume_share x average daily amount): days to sell the whole book
              selling every name in parallel at that share of its volume
              (names without any trade in the window are left out of both)
            - limit_down_names: stocks that traded and closed at their low limit (within
              half a tick) that day
            - <indicator>_percentile: each indicator's percentile within its own history
              (history.expanding_percentile); pool_pe_percentile is one already
            - extremes: how many of the five are at or above research.extreme_percentile

Step: flag
  sets:     the plain-words crowding flag of a day: raised when at least
            research.flag_min_extremes indicators are at historic extremes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ashare_sim.data.derive import limit_closes
from ashare_sim.research.book import books
from ashare_sim.research.history import expanding_percentile
from ashare_sim.signals.calendar import schedule, window_indices
from ashare_sim.signals.returns import traded
from ashare_sim.signals.universe import universe_mask

INDICATORS = ("pool_pe_percentile", "smallcap_turnover_share", "participation", "days_to_exit",
              "limit_down_names")
WORDS = {"pool_pe_percentile": "pool valuation (median PE-TTM percentile)", "smallcap_turnover_share":
         "small caps' share of market turnover", "participation": "the book's share of daily volume",
         "days_to_exit": "days to exit the book", "limit_down_names": "names at limit-down"}


def average_amount(market, rows: np.ndarray, sids: np.ndarray, days: int) -> np.ndarray:
    """(len(rows), len(sids)) mean daily amount over the `days` days ending at each row (no trade = 0)."""
    lo = max(int(rows[0]) - days + 1, 0)
    amt = np.nan_to_num(market.amount[lo: int(rows[-1]) + 1][:, sids].astype(np.float64))
    csum = np.vstack([np.zeros((1, len(sids))), np.cumsum(amt, axis=0)])
    end = rows - lo + 1
    start = np.maximum(end - days, 0)
    return (csum[end] - csum[start]) / (end - start)[:, None]


def crowding(market, cfg, targets: pd.DataFrame, valuation: pd.DataFrame) -> pd.DataFrame:
    rcfg = cfg.research
    window = window_indices(market.dates, cfg.backtest.start, cfg.backtest.end)
    if len(window) == 0:
        return pd.DataFrame(columns=["date", *INDICATORS])
    w0, w1 = int(window[0]), int(window[-1])
    T = w1 - w0 + 1
    cols = {name: np.full(T, np.nan) for name in INDICATORS}
    rows_all = np.arange(w0, w1 + 1)
    amount = np.nan_to_num(market.amount[w0: w1 + 1].astype(np.float64))
    total = amount.sum(axis=1)
    days = slice(w0, w1 + 1)
    _, down = limit_closes(market.close[days], market.high_limit[days], market.low_limit[days],
                           traded(market, rows_all), market.rules.tick)
    cols["limit_down_names"] = down.sum(axis=1).astype(np.float64)
    sch = schedule(market.dates, cfg.backtest.start, cfg.backtest.end)
    book = books(market, targets)
    pe = (valuation.set_index("date")["pe_ttm_percentile"] if len(valuation) else pd.Series(dtype=float))
    cash = float(cfg.broker.cash)
    held = None                     # the book is kept until a later rebalance replaces it
    for k in range(len(sch)):
        r, t = int(sch.rebalance[k]), int(sch.signal[k])
        end = int(sch.rebalance[k + 1]) if k + 1 < len(sch) else w1 + 1
        rows = np.arange(r, end)
        sl = slice(r - w0, end - w0)
        pool = universe_mask(market, t, cfg.strategy.universe)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["smallcap_turnover_share"][sl] = amount[sl][:, pool].sum(axis=1) / total[sl]
        cols["pool_pe_percentile"][sl] = pe.get(pd.Timestamp(market.dates[t]), np.nan)
        held = book.get(r, held)
        if held is None:
            continue
        sids, w = held
        adv = average_amount(market, rows, sids, int(rcfg.adv_days))
        value = cash * w[None, :]
        has_adv = adv > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(has_adv, value / adv, np.nan)
        some = has_adv.any(axis=1)
        cols["participation"][sl] = np.where(some, np.nanmean(np.where(some[:, None], share, 0.0), axis=1), np.nan)
        cols["days_to_exit"][sl] = np.where(some, np.nanmax(np.where(some[:, None], share, 0.0), axis=1)
                                            / float(rcfg.exit_volume_share), np.nan)
    dates = pd.DatetimeIndex(market.dates[w0: w1 + 1].astype("datetime64[ns]"))
    out = pd.DataFrame({"date": dates, **cols})
    months = int(rcfg.min_history_months)
    pct = {"pool_pe_percentile": out["pool_pe_percentile"].to_numpy()}
    for name in INDICATORS[1:]:
        pct[name] = expanding_percentile(out[name].to_numpy(), dates.to_numpy(), months)
        out[f"{name}_percentile"] = pct[name]
    extreme = np.stack([np.nan_to_num(pct[n], nan=-1.0) >= float(rcfg.extreme_percentile) for n in INDICATORS])
    out["extremes"] = extreme.sum(axis=0)
    return out


def worst_days(crowd: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` days with the most names at limit-down (earliest first among ties)."""
    if len(crowd) == 0:
        return crowd
    return crowd.sort_values(["limit_down_names", "date"], ascending=[False, True], kind="stable").head(int(n))


@dataclass
class Flag:
    date: pd.Timestamp | None
    raised: bool
    extreme: list[str]           # indicators at extremes on that date
    days_raised: int             # days in the window with the flag raised
    last_raised: pd.Timestamp | None
    text: str


def flag(crowd: pd.DataFrame, rcfg) -> Flag:
    """The flag on the latest day, in plain words, with the definition of 'extreme' spelled out."""
    if len(crowd) == 0:
        return Flag(None, False, [], 0, None, "No trading day in the window: no crowding figures.")
    level = float(rcfg.extreme_percentile)
    need = int(rcfg.flag_min_extremes)
    last = crowd.iloc[-1]
    extreme = [n for n in INDICATORS
               if np.isfinite(v := float(last[n if n == "pool_pe_percentile" else f"{n}_percentile"]))
               and v >= level]
    raised_days = crowd["extremes"] >= need
    last_raised = crowd.loc[raised_days, "date"].max() if raised_days.any() else None
    rule = (f"An indicator is extreme when it stands at or above the {level:g}th percentile of its own history "
            f"up to that day; the flag is raised when at least {need} of the {len(INDICATORS)} are extreme.")
    day = pd.Timestamp(last["date"]).date()
    if len(extreme) >= need:
        head = (f"CROWDED on {day}: {len(extreme)} of {len(INDICATORS)} indicators are at historic extremes ("
                + ", ".join(WORDS[n] for n in extreme) + ").")
    else:
        named = f" ({', '.join(WORDS[n] for n in extreme)})" if extreme else ""
        head = (f"Not flagged on {day}: {len(extreme)} of {len(INDICATORS)} indicators at historic extremes{named}.")
    history = (f" The flag was raised on {int(raised_days.sum())} of {len(crowd)} days in the window"
               + (f", last on {pd.Timestamp(last_raised).date()}." if last_raised is not None else "."))
    return Flag(pd.Timestamp(last["date"]), len(extreme) >= need, extreme, int(raised_days.sum()),
                last_raised, f"{head} {rule}{history}")
