"""Basket files: the day's planned orders as a CSV a broker terminal imports, and the fills read back.

Basket CSV (`paper plan --basket FILE`), one row per planned order:

    account, symbol, side, qty, price_type, limit_price

`symbol` is `600000.SH`; `side` buy | sell; `price_type` market (limit_price empty) or limit. This is the
shape of a terminal's "basket" or "file order" import (one row per order, a code with its exchange, a
direction, a quantity, a price type): for example MyQuant's terminal (掘金, "文件单") scans a folder for
CSV files and places one order per row. Terminals spell codes and sides their own way (MyQuant is
reported to use `SHSE.600000` and numeric sides), so map the columns and values in its import
settings or a one-line conversion; this file format is the project's, not a terminal's.

The fills the user exports after trading are read by `paper.fills` (column profiles for the usual
terminal exports).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ashare_sim.common.errors import UserError

BASKET_COLUMNS = ["account", "symbol", "side", "qty", "price_type", "limit_price"]


def write_basket(path: Path, account: str, requests: list[dict]) -> Path:
    rows = [{"account": account, "symbol": r["symbol"], "side": r["side"], "qty": int(r["qty"]),
             "price_type": "market", "limit_price": ""} for r in requests]
    path = Path(path)
    tmp = path.parent / f".{path.name}.tmp"
    try:
        pd.DataFrame(rows, columns=BASKET_COLUMNS).to_csv(tmp, index=False)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"--basket {path}: cannot write it ({exc.strerror})") from None
    return path
