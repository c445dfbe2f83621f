"""Target lists: read and validate a targets file (`strategy.targets_file`, docs/configuration.md).

CSV columns `rebalance_date,symbol[,weight]`. `rebalance_date` is the trading
day the orders execute (YYYY-MM-DD or 20190301). Symbols may be written in any
common spelling (000001, sz000001, SZ000001, 000001.XSHE: all 000001.SZ).
Weights default to equal within a date (1 / names) when a date gives none;
a date gives a weight on every row or on none (a blank beside given weights
is refused, not silently given the rest); what is not allocated stays cash.
Errors name the file, the row and the fix. A file without a list is refused.

    targets = read_targets_file("targets.csv", market)   # DataFrame rebalance_date, symbol, weight
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ashare_sim.common.csvfile import read_csv
from ashare_sim.common.errors import UserError
from ashare_sim.common.typed import parse_date_text
from ashare_sim.rules.symbols import parse_symbol, suggest

# The columns of a targets file as read (weights filled in), and of targets.csv (the lists a run traded).
FILE_COLUMNS = ["rebalance_date", "symbol", "weight"]
TARGET_COLUMNS = ["rebalance_date", "symbol", "rank", "score", "weight"]
# Tolerance when checking that the weights of a date sum to at most 1.
WEIGHT_TOLERANCE = 1e-6


def read_targets_file(path: str | Path, market, also_trading: frozenset[str] = frozenset()) -> pd.DataFrame:
    """`also_trading`: extra YYYY-MM-DD days accepted as trading days (a paper plan for the day after the data)."""
    p = Path(path)
    try:
        raw = read_csv(p, "targets file", dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise UserError(f"{p}: targets file not found (config key strategy.targets_file)") from None
    except pd.errors.EmptyDataError:
        raw = pd.DataFrame(columns=["rebalance_date", "symbol"])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: not a readable CSV ({exc.__class__.__name__}); expected columns "
                        "rebalance_date,symbol[,weight]") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if len(raw) == 0:
        raise UserError(f"{p}: the targets file has no rows, so there is nothing to trade; give at least one "
                        "rebalance_date,symbol[,weight] row")
    return validate_targets(raw, market, str(p), also_trading)


def validate_targets(raw: pd.DataFrame, market, source: str = "<targets>",
                     also_trading: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Typed, checked targets: rebalance_date (datetime64), symbol, weight (float)."""
    for col in ("rebalance_date", "symbol"):
        if col not in raw.columns:
            raise UserError(f"{source}: missing column '{col}'; expected rebalance_date,symbol[,weight]")
    known = market.symbol_index
    rules = market.rules
    trading = set(market.dates.astype("datetime64[D]").astype(str)) | set(also_trading)
    dates, symbols, weights = [], [], []
    has_weight = "weight" in raw.columns
    for i, row in enumerate(raw.itertuples(index=False)):
        line = i + 2                                  # 1-based, after the header
        d = str(getattr(row, "rebalance_date")).strip()
        s = str(getattr(row, "symbol")).strip()
        parsed = parse_date_text(d)
        if parsed is None:
            raise UserError(f"{source} row {line}: rebalance_date '{d}' is not a date; write YYYY-MM-DD "
                            "(or 20190301)")
        day = parsed.isoformat()
        code = parse_symbol(s, rules)
        if code is None or code not in known:
            what = "is not a stock code" if code is None else f"({code}) is not in the market's instruments"
            raise UserError(f"{source} row {line}: unknown symbol '{s}' {what}{suggest(code or s, known)}; "
                            "fix the code or drop the row")
        s = code
        if day not in trading:
            raise UserError(f"{source} row {line}: rebalance_date {day} is not a trading day of the market; "
                            "use the trading day the orders should execute")
        w = np.nan
        if has_weight:
            text = str(getattr(row, "weight")).strip()
            if text:
                try:
                    w = float(text)
                except ValueError:
                    raise UserError(f"{source} row {line}: weight '{text}' is not a number") from None
                if not np.isfinite(w) or w < 0:
                    raise UserError(f"{source} row {line}: weight {text} must be a number >= 0")
        dates.append(day)
        symbols.append(s)
        weights.append(w)
    df = pd.DataFrame({"rebalance_date": pd.to_datetime(dates), "symbol": symbols, "weight": weights})
    if df.duplicated(["rebalance_date", "symbol"]).any():
        dup = df[df.duplicated(["rebalance_date", "symbol"])].iloc[0]
        raise UserError(f"{source}: {dup.symbol} appears twice on {dup.rebalance_date.date()}; keep one row")
    return finish_weights(df, source)


def finish_weights(df: pd.DataFrame, source: str = "<targets>") -> pd.DataFrame:
    """Fill missing weights with equal shares of what is left; refuse dates summing above 1."""
    df = df.copy()
    if "weight" not in df.columns:
        df["weight"] = np.nan
    df["weight"] = df["weight"].astype(float)
    out = []
    for day, g in df.groupby("rebalance_date", sort=True):
        g = g.copy()
        missing = g["weight"].isna()
        if missing.all():
            g["weight"] = 1.0 / len(g)
        elif missing.any():
            blank = g.loc[missing, "symbol"].iloc[0]
            raise UserError(f"{source}: on {pd.Timestamp(day).date()} {blank} has no weight while other rows of that "
                            "date give one; give every row of a date a weight, or none (equal weights)")
        total = g["weight"].sum()
        if total > 1.0 + WEIGHT_TOLERANCE:
            raise UserError(f"{source}: weights on {pd.Timestamp(day).date()} sum to {total:.6g} > 1; "
                            "scale them to at most 1 (the rest is cash)")
        out.append(g)
    if not out:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             (("rebalance_date", "datetime64[ns]"), ("symbol", object), ("weight", float))})
    return pd.concat(out, ignore_index=True)[FILE_COLUMNS]
