"""Historical episodes: could the strategy's book have been sold when the market broke?

Step: book_episodes
  requires: a scenario's equity (date, value) and holdings (the book after each rebalance), the pool's
            levels, the market's bars, limits and `benchmark` table, the episodes (dates as data:
            stress/episodes.yaml, or the file given with --episodes)
  sets:     one row per episode, for the book held at the close before the episode's first trading day
            (the holdings of the last rebalance before it, valued at that close):
            - unsellable_*: share of the book's value that could not be sold on a day of the episode:
              its stock did not trade (suspended or delisted) or closed at its limit-down (within half
              a tick, `data.derive.limit_closes`: sellers were left queued); first day, worst day
              (and its date), mean over the episode; suspended_max / limit_down_max the two apart
            - days_to_liquidate_10 / _25: trading days to sell every position, all in parallel, selling
              at most 10% (25%) of each day's volume, nothing on a day it cannot be sold, from the
              episode's first day on (past its end if need be, at most MAX_DAYS days; None beyond).
              With broker.crowd = N the fund gets 1/N of that share (N funds sell the same names)
            - return / max_drawdown of the strategy over the episode (from the eve's close), the same
              for the pool (`signals.universe.pool_benchmark`) and the `benchmark` table index, and the
              drawdown of the strategy relative to each (max drawdown of value / level, both from the eve)
            An episode outside the market's dates, or with no book before it, gives a row with
            `skipped` saying why and nothing else.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd

from ashare_sim.common.errors import ConfigError, UserError
from ashare_sim.common.typed import parse_date
from ashare_sim.common.yamlfile import read_yaml_file
from ashare_sim.data.derive import limit_closes
from ashare_sim.resources import EPISODES
from ashare_sim.signals.returns import traded

DEFAULT_EPISODES = EPISODES
EXIT_SHARES = (0.10, 0.25)        # shares of a day's volume the book is sold at (days_to_liquidate_10 / _25)
MAX_DAYS = 250                    # longest liquidation walked (about a year of trading days)
EPISODE_COLUMNS = ["episode", "start", "end", "trading_days", "book_date", "book_names", "book_value",
                   "unsellable_first_day", "unsellable_max", "unsellable_max_date", "unsellable_mean",
                   "suspended_max", "limit_down_max", "days_to_liquidate_10", "days_to_liquidate_25",
                   "return", "max_drawdown", "pool_return", "pool_max_drawdown", "index_return",
                   "index_max_drawdown", "drawdown_vs_pool", "drawdown_vs_index", "skipped"]


@dataclass(frozen=True)
class Episode:
    name: str
    start: dt.date
    end: dt.date
    note: str = ""


def load_episodes(spec: Optional[str]) -> tuple[Episode, ...]:
    """The episodes of a YAML list file (default: the shipped list); 'none' for no episodes."""
    if spec is not None and spec.strip().lower() in ("none", "off", ""):
        return ()
    path = Path(spec) if spec else DEFAULT_EPISODES
    raw = read_yaml_file(path, "--episodes", " (give a YAML list of name/start/end, or none)")
    if not isinstance(raw, list):
        raise UserError(f"{path}: expected a list of episodes (- {{name: ..., start: YYYY-MM-DD, end: ...}})")
    out, names = [], set()
    for i, entry in enumerate(raw):
        where = f"{path}: episode {i + 1}"
        if not isinstance(entry, dict) or not {"name", "start", "end"} <= set(entry):
            raise UserError(f"{where}: needs name, start and end (and may have a note), got {entry!r}")
        extra = sorted(set(entry) - {"name", "start", "end", "note"})
        if extra:
            raise UserError(f"{where}: unknown key '{extra[0]}'; an episode has name, start, end, note")
        try:
            start, end = parse_date(entry["start"], "start"), parse_date(entry["end"], "end")
        except ConfigError as exc:
            raise UserError(f"{where} ({entry['name']}): {exc}") from None
        if end < start:
            raise UserError(f"{where} ({entry['name']}): end {end} is before start {start}; swap them")
        name = str(entry["name"])
        if name in names:
            raise UserError(f"{where}: name '{name}' appears twice")
        names.add(name)
        out.append(Episode(name, start, end, str(entry.get("note") or "")))
    return tuple(out)


def outside(market, episodes: tuple[Episode, ...]) -> list[str]:
    """Episodes with no trading day in the market, as 'name (start..end)'."""
    return [f"{e.name} ({e.start}..{e.end})" for e in episodes if _span(market, e) is None]


def _span(market, e: Episode) -> Optional[tuple[int, int]]:
    i0, i1 = market.index_of(e.start), market.index_of(e.end, side="right") - 1
    return (i0, i1) if i0 <= i1 and i0 < market.n_days and i1 >= 0 else None


def book_episodes(market, cfg, equity: pd.DataFrame, holdings: pd.DataFrame, pool: Optional[pd.Series],
                  episodes: tuple[Episode, ...]) -> tuple[list[dict], list[dict]]:
    """(one row per episode, one row per episode day with the unsellable shares)."""
    rows, daily = [], []
    value = pd.Series(equity["value"].to_numpy(dtype=float), index=pd.to_datetime(equity["date"]).dt.normalize())
    held = holdings.assign(date=pd.to_datetime(holdings["date"]).dt.normalize())
    for e in episodes:
        row: dict[str, Any] = {"episode": e.name, "start": str(e.start), "end": str(e.end)}
        why, book = _book(market, e, held, value)
        if why:
            rows.append({**row, "skipped": why})
            continue
        i0, i1, sids, qty, worth = book
        days = np.arange(i0, i1 + 1)
        blocked, suspended, down = _unsellable(market, days, sids)
        total = worth.sum()
        shares = {k: (m * worth).sum(axis=1) / total for k, m in
                  (("unsellable", blocked), ("suspended", suspended), ("limit_down", down))}
        worst = int(np.argmax(shares["unsellable"]))
        crowd = max(int(cfg.broker.crowd), 1)
        row.update({
            "trading_days": len(days), "book_date": str(market.date_at(i0 - 1)), "book_names": len(sids),
            "book_value": float(total), "unsellable_first_day": float(shares["unsellable"][0]),
            "unsellable_max": float(shares["unsellable"][worst]),
            "unsellable_max_date": str(market.date_at(int(days[worst]))),
            "unsellable_mean": float(shares["unsellable"].mean()),
            "suspended_max": float(shares["suspended"].max()), "limit_down_max": float(shares["limit_down"].max()),
        })
        for p in EXIT_SHARES:
            row[f"days_to_liquidate_{round(p * 100)}"] = days_to_liquidate(market, i0, sids, qty, p / crowd)
        row.update(_paths(market, value, pool, i0, i1))
        row["skipped"] = ""
        rows.append(row)
        daily += [{"episode": e.name, "date": str(market.date_at(int(d))), "unsellable": float(shares["unsellable"][j]),
                   "suspended": float(shares["suspended"][j]), "limit_down": float(shares["limit_down"][j])}
                  for j, d in enumerate(days)]
    return rows, daily


def _book(market, e: Episode, held: pd.DataFrame, value: pd.Series):
    """(why skipped or '', (i0, i1, sids, qty, value at the eve's close)) of an episode."""
    span = _span(market, e)
    if span is None:
        return (f"outside the market's dates ({market.date_at(0)}..{market.date_at(market.n_days - 1)})", None)
    i0, i1 = span
    if i0 == 0:
        return ("starts on the market's first day: no book before it", None)
    eve = pd.Timestamp(market.dates[i0 - 1])
    before = held[held["date"] < pd.Timestamp(market.dates[i0])]
    if before.empty or eve not in value.index:
        return (f"no book before it (the run starts {value.index[0].date() if len(value) else 'later'})", None)
    last_run_day = market.index_of(value.index[-1].date(), side="right") - 1
    i1 = min(i1, last_run_day)
    snap = before[before["date"] == before["date"].max()]
    snap = snap[snap["qty"] > 0]
    if snap.empty:
        return ("the book was empty (all cash) before it", None)
    sids = np.array([market.symbol_index[s] for s in snap["symbol"]], dtype=np.int64)
    qty = snap["qty"].to_numpy(dtype=np.float64)
    worth = qty * market.value_close[i0 - 1, sids].astype(np.float64)
    return ("", (i0, i1, sids, qty, worth))


def _unsellable(market, days: np.ndarray, sids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(blocked, did not trade, closed at limit-down) for (days, sids)."""
    did_trade = traded(market, days)[:, sids]
    _, down = limit_closes(market.close[days][:, sids], market.high_limit[days][:, sids],
                           market.low_limit[days][:, sids], did_trade, market.rules.tick)
    return ~did_trade | down, ~did_trade, down


def days_to_liquidate(market, i0: int, sids: np.ndarray, qty: np.ndarray, share: float) -> Optional[int]:
    """Trading days from i0 until every position is sold at `share` of each day's volume (None: > MAX_DAYS)."""
    days = np.arange(i0, min(i0 + MAX_DAYS, market.n_days))
    blocked, _, _ = _unsellable(market, days, sids)
    volume = np.nan_to_num(market.volume[days][:, sids].astype(np.float64))
    sold = np.cumsum(np.where(blocked, 0.0, np.floor(volume * share)), axis=0)
    done = sold >= qty[None, :]
    if not done[-1].all():
        return None
    return int(done.argmax(axis=0).max()) + 1


def _drawdown(path: np.ndarray) -> float:
    return float((path / np.maximum.accumulate(path)).min() - 1.0)


def _paths(market, value: pd.Series, pool: Optional[pd.Series], i0: int, i1: int) -> dict:
    """Return and max drawdown from the eve's close of the strategy, the pool and the index, and the
    strategy's drawdown relative to each."""
    dates = pd.DatetimeIndex(market.dates[i0 - 1: i1 + 1].astype("datetime64[ns]"))
    v = value.reindex(dates).ffill().to_numpy(dtype=float)
    v = v / v[0]
    out: dict[str, Any] = {"return": float(v[-1] - 1.0), "max_drawdown": _drawdown(v)}
    index = market.benchmark
    for name, levels in (("pool", pool), ("index", index)):
        lv = None
        if levels is not None:
            s = pd.Series(np.asarray(levels, dtype=float), index=pd.DatetimeIndex(levels.index).normalize())
            lv = s.reindex(dates).ffill().to_numpy(dtype=float)
        if lv is None or not np.isfinite(lv).all() or lv[0] <= 0:
            out.update({f"{name}_return": None, f"{name}_max_drawdown": None, f"drawdown_vs_{name}": None})
            continue
        lv = lv / lv[0]
        out.update({f"{name}_return": float(lv[-1] - 1.0), f"{name}_max_drawdown": _drawdown(lv),
                    f"drawdown_vs_{name}": _drawdown(v / lv)})
    return out
