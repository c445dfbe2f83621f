"""Basket files: the day's planned orders as a CSV a broker terminal imports, and the fills read back.

Basket CSV (`paper plan --basket FILE`), one row per planned order:

    account, symbol, side, qty, price_type, limit_price

`symbol` is `600000.SH`; `side` buy | sell; `price_type` market (limit_price empty) or limit. This is the
shape of a terminal's "basket" or "file order" import (one row per order, a code with its exchange, a
direction, a quantity, a price type): for example MyQuant's terminal (掘金, "文件单") scans a folder for
CSV files and places one order per row. Terminals spell codes and sides their own way (MyQuant is
reported to use `SHSE.600000` and numeric sides), so map the columns and values in its import
settings or a one-line conversion; this file format is the project's, not a terminal's.

Fills CSV (`paper execute --fills FILE`), exported after trading, one row per fill:

    symbol, side, qty, price, commission, stamp_duty, transfer_fee, time

`time` carries the trade date (`2022-12-01 09:35:00`; or give a `date` column), which must be the day
executed, so yesterday's export is never booked today. Each fill must match a planned order of that
day (symbol and side), together the fills of an order may not exceed it, a price must lie inside the
day's bar (and its limits), a buy must be whole board lots, a sell may not exceed what the account
may sell (T+1), and the buys may not spend more cash than the account has. Errors name the file, the
row and the fix; nothing is recorded from a bad file.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ashare_sim.common.csvfile import read_csv
from ashare_sim.common.errors import UserError, unopenable
from ashare_sim.execution.orders import Side, fees_of
from ashare_sim.rules.symbols import parse_symbol

BASKET_COLUMNS = ["account", "symbol", "side", "qty", "price_type", "limit_price"]
FILL_COLUMNS = ["symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee", "time"]


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


class FillChecks:
    """What a reported fill is checked against: the day's bar, board lots, T+1 and the cash."""

    def __init__(self, market, t: int, account, lot_size: bool = True):
        self.market, self.t, self.account, self.lot_size = market, t, account, lot_size

    def bar(self, symbol: str) -> tuple[float, float] | None:
        """(low, high) the day traded at (inside its limits); None when it did not trade."""
        m, t = self.market, self.t
        sid = m.symbol_index.get(symbol)
        if sid is None or not m.has_bar[t, sid] or m.is_suspended[t, sid]:
            return None
        return float(m.low[t, sid]), float(m.high[t, sid])

    def lot(self, symbol: str):
        if not self.lot_size:
            return None
        sid = self.market.symbol_index[symbol]
        return self.market.rules.lot(str(self.market.board[sid]), self.market.date_at(self.t))

    def sellable(self, symbol: str) -> int:
        sid = self.market.symbol_index.get(symbol)
        return self.account.sellable(sid) if sid is not None else 0


def _refuse_duplicates(raw: pd.DataFrame, path: Path, allow: bool) -> None:
    if "fill_id" in raw.columns:
        ids = raw["fill_id"].astype(str).str.strip()
        repeated = ids[ids.duplicated(keep=False) & (ids != "")]
        if len(repeated):
            rows = [str(i + 2) for i in repeated.index[:2]]
            raise UserError(f"--fills {path}: fill_id {repeated.iloc[0]} appears twice (rows {' and '.join(rows)}); "
                            "a broker reports each fill once: remove the repeat")
        return
    if allow:
        return
    dup = raw.duplicated(keep=False)
    if dup.any():
        rows = [str(i + 2) for i in raw.index[dup][:2]]
        raise UserError(f"--fills {path}: rows {' and '.join(rows)} are the same fill twice; remove the repeat, or "
                        "pass --allow-duplicate-fills if the broker really reported two identical fills (a "
                        "fill_id column tells them apart)")


def _fill_date(row: dict) -> str | None:
    for text in (str(row.get("date", "")).strip(), str(row.get("time", "")).strip()[:10]):
        if len(text) >= 8:
            from ashare_sim.common.typed import parse_date_text

            d = parse_date_text(text.replace("/", "-"))
            if d is not None:
                return d.isoformat()
    return None


def read_fills(path: Path, requests: list[dict], day, checks: FillChecks,
               allow_duplicates: bool = False) -> dict[int, list[dict]]:
    """request index -> its fills, validated against the plan and the day; UserError naming file and row.

    A fill has an identity: the broker's `fill_id` column when the export has one (a repeated id is
    refused), otherwise its whole row; an exact repeat of a row is refused unless `allow_duplicates` says
    the broker really reported two identical fills (an export appended twice books them twice)."""
    path = Path(path)
    try:
        raw = read_csv(path, "fills file", dtype=str, keep_default_na=False)
    except OSError as exc:
        raise unopenable("--fills", path, exc, "the fills CSV file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"--fills {path}: not a readable CSV ({exc.__class__.__name__}); expected columns "
                        f"{','.join(FILL_COLUMNS)}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in FILL_COLUMNS if c not in raw.columns and c != "time"]
    if missing:
        raise UserError(f"--fills {path}: missing column(s) {', '.join(missing)}; expected {','.join(FILL_COLUMNS)}")
    _refuse_duplicates(raw, path, allow_duplicates)
    by_key = {(r["symbol"], r["side"]): i for i, r in enumerate(requests)}
    left = {i: int(r["qty"]) for i, r in enumerate(requests)}
    sold: dict[str, int] = {}
    spent = 0.0
    out: dict[int, list[dict]] = {}
    for k, row in enumerate(raw.to_dict("records")):
        where = f"--fills {path} row {k + 2}"
        when = _fill_date(row)
        if when != day.isoformat():
            found = "is missing" if when is None else f"is {when}"
            raise UserError(f"{where}: the fill's date {found}, not {day}; put the trade date in a date column or "
                            "in time as 'YYYY-MM-DD HH:MM:SS'")
        symbol = parse_symbol(row["symbol"])
        side = str(row["side"]).strip().lower()
        if symbol is None:
            raise UserError(f"{where}: '{row['symbol']}' is not a stock code")
        if side not in tuple(Side):
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
            if not math.isfinite(nums[col]):
                raise UserError(f"{where}: {col} {row[col]} is not a finite number")
            if nums[col] < 0:
                raise UserError(f"{where}: {col} {row[col]} must be >= 0")
        qty = int(nums["qty"])
        if qty != nums["qty"] or qty <= 0 or nums["price"] <= 0:
            raise UserError(f"{where}: qty must be a whole number > 0 and price > 0")
        tick = checks.market.rules.tick
        if abs(nums["price"] / tick - round(nums["price"] / tick)) > 1e-6:
            raise UserError(f"{where}: price {nums['price']:g} is not on the tick ({tick:g} CNY); a fill trades at a "
                            "price the exchange quotes: check the export's price column")
        if fees_of(nums) > qty * nums["price"]:
            raise UserError(f"{where}: fees {fees_of(nums):,.2f} CNY exceed the fill's value "
                            f"{qty * nums['price']:,.2f}; check the export's fee columns (a total, or another unit?)")
        if qty > left[i]:
            raise UserError(f"{where}: {qty} more than the {left[i]} left of the planned {side} of {symbol}")
        span = checks.bar(symbol)
        if span is None:
            raise UserError(f"{where}: {symbol} did not trade on {day} (no bar or suspended); a fill is impossible")
        half_tick = checks.market.rules.tick / 2      # float32 panels hold cents to well under half a tick
        if not span[0] - half_tick <= nums["price"] <= span[1] + half_tick:
            raise UserError(f"{where}: price {nums['price']:g} is outside the day's range "
                            f"{span[0]:.2f}..{span[1]:.2f} of {symbol}")
        lot = checks.lot(symbol) if side == Side.BUY else None
        if lot is not None and not lot.is_valid_buy(qty):
            raise UserError(f"{where}: buy of {qty} is not whole board lots ({lot.min} then steps of {lot.step})")
        fees = fees_of(nums)
        spent += qty * nums["price"] + fees if side == Side.BUY else -(qty * nums["price"] - fees)
        if side == Side.SELL:
            sold[symbol] = sold.get(symbol, 0) + qty
            if sold[symbol] > checks.sellable(symbol):
                raise UserError(f"{where}: sells {sold[symbol]} of {symbol}, more than the {checks.sellable(symbol)} "
                                "the account may sell today (T+1)")
        left[i] -= qty
        out.setdefault(i, []).append({"qty": qty, "price": nums["price"], "commission": nums["commission"],
                                      "stamp_duty": nums["stamp_duty"], "transfer_fee": nums["transfer_fee"],
                                      "time": str(row.get("time", ""))})
    if spent > checks.account.cash + 1e-6:
        raise UserError(f"--fills {path}: the fills spend {spent:,.2f} CNY net, more than the account's cash "
                        f"{checks.account.cash:,.2f}; check the export")
    return out
