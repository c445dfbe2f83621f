"""The output files of a backtest, written as one set (`common.outdir.output_set`, manifest `run.json`).

Every file, the report and factors/ included, is staged and moved into `out` only when all were
written, so an error never leaves a half-written set and no file of an earlier run stays beside
the new one. Dates are YYYY-MM-DD.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

import pandas as pd

from ashare_sim.common.csvfile import write_csv
from ashare_sim.common.outdir import output_set
from ashare_sim.execution.orders import (
    EQUITY_COLUMNS,
    HOLDING_COLUMNS,
    ORDER_COLUMNS,
    TRADE_COLUMNS,
)
from ashare_sim.metrics.performance import json_safe
from ashare_sim.signals.targets import TARGET_COLUMNS

# The A-share engine adds `kind` (fill | delist) and `participation` (qty / the day's volume) to the contract's
# trade columns, and to the order columns the
# rebalance an attempt serves and its number (0 = first attempt, 1.. = retries on later days).
ENGINE_TRADE_COLUMNS = TRADE_COLUMNS + ["kind", "participation"]
ENGINE_ORDER_COLUMNS = ORDER_COLUMNS + ["rebalance_date", "attempt"]
RUN_MANIFEST = "run.json"


# Decimals kept for floats in the CSVs (prices are cents; fees and values to a millionth of a CNY).
FLOAT_DECIMALS = 6


def csv_frame(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    """A copy ready for a CSV: floats rounded to FLOAT_DECIMALS, the `cols` dates as YYYY-MM-DD."""
    df = df.copy()
    floats = df.select_dtypes(include="float").columns
    df[floats] = df[floats].round(FLOAT_DECIMALS)
    for c in cols:
        if c in df.columns and len(df):
            df[c] = _date_texts(df[c])
    return df


def _date_texts(col: pd.Series) -> pd.Series:
    """`pd.to_datetime(col).dt.strftime("%Y-%m-%d")`, formatting each distinct date once (a log repeats its
    days over hundreds of thousands of rows)."""
    codes, distinct = pd.factorize(col)          # missing: -1
    if not len(distinct):
        return pd.to_datetime(col).dt.strftime("%Y-%m-%d")
    texts = pd.to_datetime(pd.Series(distinct)).dt.strftime("%Y-%m-%d")
    return pd.Series(texts.array.take(codes, allow_fill=True), index=col.index, name=col.name)


def targets_table(targets: pd.DataFrame) -> pd.DataFrame:
    t = targets.copy()
    if "rank" not in t.columns:
        t["rank"] = t.groupby("rebalance_date")["weight"].rank(ascending=False, method="first").astype(int)
    if "score" not in t.columns:
        t["score"] = float("nan")
    return t[TARGET_COLUMNS]


def write_outputs(out: Path, *, equity: pd.DataFrame, orders: pd.DataFrame, trades: pd.DataFrame,
                  holdings: pd.DataFrame, targets: pd.DataFrame, metrics: dict,
                  extra: Optional[Callable[[Path], object]] = None, meta: dict | None = None) -> None:
    """The output files (docs/outputs.md) as one set (common.outdir): `extra(stage)` adds more (factor analytics, the report,
    the next list) to the same set, so an error or Ctrl-C anywhere leaves the directory as it was."""
    with output_set(Path(out), RUN_MANIFEST, meta) as tmp:
        write_csv(csv_frame(equity[EQUITY_COLUMNS], ("date",)), tmp / "equity.csv")
        write_csv(csv_frame(orders[ENGINE_ORDER_COLUMNS], ("date", "rebalance_date")), tmp / "orders.csv")
        write_csv(csv_frame(trades[ENGINE_TRADE_COLUMNS], ("date",)), tmp / "trades.csv")
        write_csv(csv_frame(holdings[HOLDING_COLUMNS], ("date",)), tmp / "holdings.csv")
        write_csv(csv_frame(targets_table(targets), ("rebalance_date",)), tmp / "targets.csv")
        (tmp / "metrics.json").write_text(json.dumps(json_safe(metrics), indent=2, allow_nan=False) + "\n",
                                          encoding="utf-8")
        if extra is not None:
            extra(tmp)
