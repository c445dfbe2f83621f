"""What a market directory lacks and what that changes in a run, said in plain words.

Optional tables and bar columns change results when absent (no `st`: no ST exclusion and no ST
price limit). `data validate` lists these as warnings and every backtest logs them once, so a
result is never read without knowing which rules and factors were off.

    missing_pieces(market)                      # ["no st table: ...", ...]
    missing_pieces_of(tables={"bars", ...}, bar_columns={...})   # the same from names (data validate)
"""
from __future__ import annotations

from loguru import logger

# (kind, name, consequence) for every optional piece whose absence changes a run.
PIECES: tuple[tuple[str, str, str], ...] = (
    ("table", "st", "no st table: the universe's ST/*ST exclusion and the ST price limit (5% on the main "
                    "board) are off"),
    ("table", "fundamentals", "no fundamentals table: the factors that need fundamentals cannot be computed "
                              "and drop out of the composite"),
    ("table", "dividends", "no dividends table: cash dividends and bonus shares are inferred from adj_factor "
                           "(total return, no dividend tax) and the factors that need dividends drop out"),
    ("column", "total_shares", "bars has no total_shares: no market caps, so no small-cap cut, and the factors "
                               "that need share counts drop out"),
    ("column", "amount", "bars has no amount: VWAP deal prices, Amihud and turnover use volume x "
                         "(high + low + close) / 3"),
    ("column", "adj_factor", "bars has no adj_factor: returns ignore dividends and splits (factor 1)"),
)


def missing_pieces_of(tables: set[str], bar_columns: set[str]) -> list[str]:
    out = []
    for kind, name, text in PIECES:
        present = name in tables if kind == "table" else name in bar_columns
        if not present:
            out.append(text)
    return out


def missing_pieces(market, cfg=None) -> list[str]:
    """The consequences for this market (tables read and bar columns given)."""
    tables = {name for name in ("st", "fundamentals", "dividends", "benchmark")
              if getattr(market, name) is not None}
    out = missing_pieces_of(tables, set(market.bar_columns))
    if cfg is not None and cfg.backtest.benchmark == "table" and market.benchmark is None:
        out.append("no benchmark table: backtest.benchmark=table leaves the benchmark column empty")
    return out


def warn_missing_pieces(market, cfg=None) -> None:
    for text in missing_pieces(market, cfg):
        logger.warning(f"{market.source}: {text}")
    stale = stale_text(market)
    if stale:
        logger.warning(f"{market.source}: {stale}")


# Trading days without a bar before the data's end after which a listed stock looks forgotten by the
# source (a year of the exchange calendar), not merely halted.
STALE_DAYS = 250


def stale_listings(market) -> list[tuple[str, str]]:
    """(symbol, last bar day) of the stocks whose bars stop over STALE_DAYS trading days before the data ends
    while nothing says they were delisted: the run carries them as suspended all that time."""
    return market.memo("stale_listings", lambda: _stale_listings(market))


def _stale_listings(market) -> list[tuple[str, str]]:
    import numpy as np

    n_days = market.n_days
    any_bar = market.has_bar.any(axis=0)
    last = np.where(any_bar, n_days - 1 - market.has_bar[::-1].argmax(axis=0), -1)
    undated = market.delist_index >= n_days - 1
    stale = np.flatnonzero(any_bar & undated & (last < n_days - 1 - STALE_DAYS))
    return [(str(market.symbols[i]), str(market.dates[last[i]])) for i in stale]


def stale_text(market) -> str:
    """One line about stale listings, or ""."""
    stale = stale_listings(market)
    if not stale:
        return ""
    shown = ", ".join(f"{s} (last bar {d})" for s, d in stale[:3])
    return (f"{len(stale)} stock(s) without a bar for over {STALE_DAYS} trading days before the data ends and no "
            f"delist_date, e.g. {shown}: they are carried as suspended (held positions can never be sold); give "
            "their delist_date in instruments if they were delisted")
