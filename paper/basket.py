"""Basket files: the day's planned orders as a CSV a broker terminal imports, and the fills read back.

Basket CSV (`paper plan --basket FILE`), one row per planned order:

    account, symbol, side, qty, price_type, limit_price

`symbol` is `600000.SH`; `side` buy | sell; `price_type` market (limit_price empty) or limit. This is the
shape of a terminal's "basket" or "file order" import (one row per order, a code with its exchange, a
direction, a quantity, a price type): for example MyQuant's terminal (掘金, "文件单") scans a folder for
such CSV files and places one order per row. Map the column names to the terminal's own in its import
dialog; the values need no conversion.

Fills CSV (`paper execute --fills FILE`), exported after trading, one row per fill:

    symbol, side, qty, price, commission, stamp_duty, transfer_fee, time

Each fill must match a planned order of that day (symbol and side), and together the fills of an
order may not exceed it; a sell may not exceed what the account may sell (T+1). Errors name the file,
the row and the fix; nothing is recorded from a bad file.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from core.errors import UserError
from rules.symbols import parse_symbol

BASKET_COLUMNS = ["account", "symbol", "side", "qty", "price_type", "limit_price"]
FILL_COLUMNS = ["symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee", "time"]


def write_basket(path: Path, account: str, requests: list[dict]) -> Path:
    rows = [{"account": account, "symbol": r["symbol"], "side": r["side"], "qty": int(r["qty"]),
             "price_type": "market", "limit_price": ""} for r in requests]
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    pd.DataFrame(rows, columns=BASKET_COLUMNS).to_csv(tmp, index=False)
    tmp.replace(path)
    return path


def read_fills(path: Path, requests: list[dict], sellable: dict[str, int]) -> dict[int, list[dict]]:
    """request index -> its fills, validated against the plan; UserError naming file and row otherwise."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise UserError(f"--fills {path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"--fills {path}: not a readable CSV ({exc.__class__.__name__}); expected columns "
                        f"{','.join(FILL_COLUMNS)}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in FILL_COLUMNS if c not in raw.columns and c != "time"]
    if missing:
        raise UserError(f"--fills {path}: missing column(s) {', '.join(missing)}; expected {','.join(FILL_COLUMNS)}")
    by_key = {(r["symbol"], r["side"]): i for i, r in enumerate(requests)}
    left = {i: int(r["qty"]) for i, r in enumerate(requests)}
    sold: dict[str, int] = {}
    out: dict[int, list[dict]] = {}
    for k, row in enumerate(raw.to_dict("records")):
        where = f"--fills {path} row {k + 2}"
        symbol = parse_symbol(row["symbol"])
        side = str(row["side"]).strip().lower()
        if symbol is None:
            raise UserError(f"{where}: '{row['symbol']}' is not a stock code")
        if side not in ("buy", "sell"):
            raise UserError(f"{where}: side '{row['side']}' must be buy or sell")
        i = by_key.get((symbol, side))
        if i is None:
            raise UserError(f"{where}: no planned {side} of {symbol} today; fills must match the plan "
                            "(paper plan --date D shows it)")
        nums = {}
        for col in ("qty", "price", "commission", "stamp_duty", "transfer_fee"):
            try:
                nums[col] = float(str(row[col]).strip() or "0")
            except ValueError:
                raise UserError(f"{where}: {col} '{row[col]}' is not a number") from None
            if not math.isfinite(nums[col]) or nums[col] < 0:
                raise UserError(f"{where}: {col} {row[col]} must be a number >= 0")
        qty = int(nums["qty"])
        if qty != nums["qty"] or qty <= 0 or nums["price"] <= 0:
            raise UserError(f"{where}: qty must be a whole number > 0 and price > 0")
        if qty > left[i]:
            raise UserError(f"{where}: {qty} more than the {left[i]} left of the planned {side} of {symbol}")
        if side == "sell":
            sold[symbol] = sold.get(symbol, 0) + qty
            if sold[symbol] > sellable.get(symbol, 0):
                raise UserError(f"{where}: sells {sold[symbol]} of {symbol}, more than the {sellable.get(symbol, 0)} "
                                "the account may sell today (T+1)")
        left[i] -= qty
        out.setdefault(i, []).append({"qty": qty, "price": nums["price"], "commission": nums["commission"],
                                      "stamp_duty": nums["stamp_duty"], "transfer_fee": nums["transfer_fee"],
                                      "time": str(row.get("time", ""))})
    return out
