"""Orchestration: `generate_market(out, stocks=, start=, end=, seed=)` writes a market data directory (docs/data.md).

Order of work (each step in its own module): calendar -> listings -> firm
traits -> fundamentals -> suspensions and ST spells -> shares and dividends
-> planted premia -> the day-by-day price path -> Parquet files. Every random
draw comes from child streams of `numpy.random.SeedSequence(seed)` (PCG64), so
the same arguments give the same bytes.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.data.synthetic import (
    corporate,
    events,
    fundamentals,
    listings,
    prices,
    returns,
    writer,
)
from ashare_sim.data.synthetic.calendar import trading_days
from ashare_sim.data.synthetic.params import GeneratorParams
from ashare_sim.data.synthetic.stamp import stamp, write_stamp
from ashare_sim.rules import RulesTable

MIN_STOCKS = 10
MAX_STOCKS = 20_000


def _streams(seed: int, k: int) -> list[np.random.Generator]:
    return [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(k)]


def _check(stocks: int, start: dt.date, end: dt.date, seed: int) -> None:
    if not isinstance(stocks, (int, np.integer)) or not MIN_STOCKS <= stocks <= MAX_STOCKS:
        raise UserError(f"--stocks {stocks}: choose a whole number from {MIN_STOCKS} to {MAX_STOCKS}")
    if end <= start:
        raise UserError(f"--end {end} is not after --start {start}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"--seed {seed}: choose a whole number >= 0")


def build_market(stocks: int, start: dt.date, end: dt.date, seed: int, params: GeneratorParams | None = None,
                 rules: RulesTable | None = None) -> dict:
    """Everything of the market in memory: tables (DataFrames) and bar panels."""
    _check(stocks, start, end, seed)
    params = params or GeneratorParams()
    rules = rules or RulesTable.load()
    rng = _streams(seed, 10)
    dates = trading_days(start, end)
    n_days = len(dates)
    lst = listings.make_listings(dates, stocks, rules, params, rng[0])
    traits = returns.firm_traits(lst, params, rng[1])
    fund = fundamentals.make_fundamentals(dates, lst, traits.cap_ref, rules, params, rng[2], end)
    ann = fundamentals.announced_rows(dates, fund)
    listed = events.listed_mask(n_days, lst)
    suspended = events.suspensions(dates, lst, listed, params, rng[3])
    traded = listed & ~suspended
    del suspended
    st = events.clip_to_st_regime(events.st_spells(dates, lst, fund, listed, params, rng[4]), dates, lst, rules)
    is_st = events.spell_mask_of(st, n_days, lst.n)
    shares = corporate.share_structure(lst, traits.cap_ref, traits.price_ref, params, rng[5])
    divs = corporate.dividend_events(dates, lst, fund, traded, shares, params, rng[6])
    alpha = returns.fundamental_alpha(dates, listed, fund, ann, params)
    del listed
    jumps = returns.announcement_jumps(fund, ann, params)
    inputs = prices.PathInputs(dates=dates, lst=lst, rules=rules, params=params, traits=traits,
                               paths=returns.factor_paths(dates, params, rng[8]), shares=shares, traded=traded,
                               is_st=is_st, alpha=alpha, row_equity=fund.equity[ann.row_sid, ann.row_q],
                               row_at=ann.row_at, jumps=jumps, dividends=divs)
    path = prices.simulate(inputs, rng[7])
    del inputs, alpha, is_st
    st = events.clip_to_listing(st, lst, n_days)            # the price delisting rule moved some last days

    inst = pd.DataFrame({
        "symbol": lst.symbols, "name": lst.names,
        "industry": np.array(params.industries, dtype=object)[lst.industry],
        "board": lst.board, "list_date": lst.list_date,
        "delist_date": np.where(lst.delist_idx < n_days, dates[np.minimum(lst.delist_idx, n_days - 1)],
                                np.datetime64("NaT")).astype("datetime64[D]"),
    })
    st_table = pd.DataFrame({
        "symbol": lst.symbols[st["sid"].to_numpy()],
        "start_date": dates[st["start"].to_numpy()],
        "end_date": np.where(st["end"].to_numpy() >= 0, dates[np.maximum(st["end"].to_numpy(), 0)],
                             np.datetime64("NaT")).astype("datetime64[D]"),
        "kind": st["kind"].to_numpy(dtype=object),
    }).sort_values(["symbol", "start_date"], kind="stable").reset_index(drop=True)
    last_day = inst.set_index("symbol")["delist_date"]
    funds = fundamentals.fundamentals_table(fund, lst)
    funds = funds[~(funds["ann_date"].to_numpy() > funds["symbol"].map(last_day).to_numpy())]
    dividends = corporate.dividends_table(divs, path.cash_used, path.bonus_used, dates, lst)
    dividends = dividends[~(dividends["ex_date"].to_numpy() > dividends["symbol"].map(last_day).to_numpy())]
    return {
        "dates": dates, "symbols": lst.symbols, "traded": traded, "path": path, "instruments": inst,
        "st": st_table, "fundamentals": funds.reset_index(drop=True),
        "dividends": dividends.reset_index(drop=True), "price_delisted": len(path.price_delisted),
        "benchmark": pd.DataFrame({"date": dates, "close": np.round(path.benchmark, 4)}),
    }


def generate_market(out: Path, *, stocks: int, start: dt.date, end: dt.date, seed: int,
                    params: GeneratorParams | None = None) -> None:
    """Write the synthetic market for these arguments to directory `out` (docs/synthetic.md)."""
    began = time.perf_counter()
    writer.check_target(Path(out))
    market = build_market(stocks, start, end, seed, params)
    path = market["path"]
    panels = {name: getattr(path, name) for name in ("open", "high", "low", "close", "pre_close", "volume",
                                                     "amount", "adj_factor", "total_shares", "float_shares")}
    with writer.atomic_directory(Path(out)) as tmp:
        rows = writer.write_bars(tmp / "bars.parquet", market["dates"], market["symbols"], market["traded"], panels)
        for name in ("instruments", "st", "fundamentals", "dividends", "benchmark"):
            writer.write_frame(tmp / f"{name}.parquet", market[name])
        write_stamp(tmp, stamp(stocks, start, end, seed, params))
    listed_end = int(market["traded"][-1].sum())
    logger.info(f"synthetic market -> {out}: {stocks} stocks, {len(market['dates'])} trading days "
                f"({market['dates'][0]}..{market['dates'][-1]}), {rows:,} bars, {len(market['st'])} ST spells, "
                f"{len(market['dividends'])} dividends, {market['price_delisted']} delisted by the price rule, "
                f"{listed_end} trading on the last day, seed {seed}, "
                f"{time.perf_counter() - began:.1f}s")
