"""The account: cash and held positions, with what T+1 locks today. No Backtrader, savable as plain data.

A `Position` exists only while held (qty > 0). `locked` is the part of the quantity not sellable today
(bought today, or bonus shares received today); `opened` is the day the position was opened (the
holding period of dividend tax). `cost` is the average cost per share, updated as Backtrader's
Position does (a buy averages in, a sell keeps it, a closed position has none).

    account = Account(cash=1e7)
    account.to_dict()                         # {"cash": .., "positions": [{symbol, qty, cost, opened, locked}]}
    Account.from_dict(d, market.symbol_index) # positions keyed by the market's symbol index again
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ashare_sim.common.errors import DataError
from ashare_sim.rules.table import round_to_tick


@dataclass(slots=True)
class Position:
    sid: int
    symbol: str
    opened: dt.date
    qty: int = 0
    cost: float = 0.0                 # average cost per share
    locked: int = 0                   # not sellable today (T+1)

    @property
    def sellable(self) -> int:
        return max(self.qty - self.locked, 0)

    def update(self, signed: int, price: float) -> tuple[int, float, int, int]:
        """Apply a fill of `signed` shares (+ buy, - sell) at `price`: (size, cost, opened, closed), the
        quantities opened and closed carrying the sign of `signed` (Backtrader's convention)."""
        old = self.qty
        self.qty += signed
        if not self.qty:
            opened, closed = 0, signed
            self.cost = 0.0
        elif not old:
            opened, closed = signed, 0
            self.cost = price
        elif signed > 0:
            opened, closed = signed, 0
            self.cost = (self.cost * old + signed * price) / self.qty
        else:
            opened, closed = 0, signed
        return self.qty, self.cost, opened, closed


@dataclass
class Account:
    cash: float
    positions: dict[int, Position] = field(default_factory=dict)       # sid -> Position (held only)
    version: int = 0                  # bumped on every change (valuation cache key)

    def position(self, sid: int) -> Position | None:
        return self.positions.get(sid)

    def qty(self, sid: int) -> int:
        p = self.positions.get(sid)
        return p.qty if p else 0

    def sellable(self, sid: int) -> int:
        p = self.positions.get(sid)
        return p.sellable if p else 0

    def unlock_all(self) -> None:
        """A new trading day: yesterday's purchases and bonus shares become sellable."""
        for p in self.positions.values():
            p.locked = 0

    def changed(self) -> None:
        self.version += 1

    def positions_value(self, close_row: np.ndarray, tick: float) -> float:
        """Held quantities x the day's value per share (`Market.value_close`, on the tick): a gather and a
        dot product, O(held)."""
        if not self.positions:
            return 0.0
        sids = np.fromiter(self.positions.keys(), dtype=np.int64, count=len(self.positions))
        qty = np.fromiter([p.qty for p in self.positions.values()], dtype=np.float64, count=len(self.positions))
        px = round_to_tick(close_row[sids].astype(np.float64), tick)
        px[np.isnan(px)] = 0.0              # no price: worth nothing (prices are never infinite)
        return float(np.dot(px, qty))

    # ----- plain data --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"cash": self.cash, "positions": [
            {"symbol": p.symbol, "qty": p.qty, "cost": p.cost, "opened": p.opened.isoformat(), "locked": p.locked}
            for p in sorted(self.positions.values(), key=lambda p: p.symbol)]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], symbol_index: dict[str, int]) -> "Account":
        positions = {}
        for row in data.get("positions", []):
            sid = symbol_index.get(row["symbol"])
            if sid is None:
                raise DataError(f"account holds {row['symbol']}, which the market data does not list; "
                                "point data.path at the market the account trades")
            positions[sid] = Position(sid, row["symbol"], dt.date.fromisoformat(str(row["opened"])),
                                      int(row["qty"]), float(row["cost"]), int(row.get("locked", 0)))
        return cls(float(data["cash"]), positions)
