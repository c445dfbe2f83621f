"""The dated rules table: load it, validate it, look rules up by (board, date, status).

Every rate, ratio and date of the market lives in `ashare_rules.yaml`; this
module only reads it. Scalar lookups serve the broker; the `*_panel` helpers
serve the columnar market (dates x symbols) without Python loops per cell.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np

from ashare_sim.common.errors import UserError
from ashare_sim.common.yamlfile import read_yaml_file
from ashare_sim.resources import RULES_TABLE

SHIPPED_TABLE = RULES_TABLE
BOARDS = ("main", "chinext", "star", "bse")
EXCHANGES = ("SH", "SZ", "BJ")
_FAR_PAST = dt.date(1900, 1, 1)
_FAR_FUTURE = dt.date(2999, 12, 31)


@dataclass(frozen=True)
class Row:
    """One dated row of a schedule: attributes it matches on, values it gives."""

    start: dt.date
    end: dt.date
    match: dict[str, Any]
    values: dict[str, Any]
    verify: bool

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def matches(self, **attrs: Any) -> bool:
        return all(attrs.get(k) == v for k, v in self.match.items())


@dataclass(frozen=True)
class Lot:
    """Buy size rule: at least `min` shares, then multiples of `step`."""

    min: int
    step: int

    def round_down(self, qty: float) -> int:
        """Largest valid buy quantity <= qty (0 when below the minimum)."""
        if qty < self.min:
            return 0
        return int(self.min + (int(qty) - self.min) // self.step * self.step)

    def is_valid_buy(self, qty: int) -> bool:
        return qty >= self.min and (qty - self.min) % self.step == 0

    @staticmethod
    def round_down_many(qty: np.ndarray, lot_min: np.ndarray, lot_step: np.ndarray) -> np.ndarray:
        """`round_down` of each whole quantity under its own lot (minimum, step)."""
        return np.where(qty < lot_min, 0, lot_min + (qty - lot_min) // lot_step * lot_step)

    @staticmethod
    def is_valid_buy_many(qty: np.ndarray, lot_min: np.ndarray, lot_step: np.ndarray) -> np.ndarray:
        """`is_valid_buy` of each quantity under its own lot."""
        return (qty >= lot_min) & ((qty - lot_min) % lot_step == 0)


@dataclass(frozen=True)
class TransferFee:
    rate: float         # fraction of turnover
    per_share: float    # CNY per share


_MATCH_KEYS = {
    "price_limits": ("board", "st"),
    "ipo_no_limit_days": ("board",),
    "ipo_first_day_band": ("board",),
    "lots": ("board",),
    "stamp_duty": ("side",),
    "transfer_fee": ("exchange",),
    "dividend_tax": (),
    "st_regime": ("board",),
    "face_value_delisting": (),
}


class RulesTable:
    """Lookups over the dated rules table."""

    def __init__(self, raw: dict, source: str):
        self.source = source
        self.tick = float(_require(raw, "tick", source))
        self.boards = list(_require(raw, "boards", source))
        self.board_open = {b: _as_date(d, f"{source}: board_open.{b}") for b, d in _require(raw, "board_open", source).items()}
        self._lots: dict[tuple, Lot] = {}
        self.report_deadlines = dict(_require(raw, "report_deadlines", source))
        self._rows: dict[str, list[Row]] = {}
        for name, keys in _MATCH_KEYS.items():
            self._rows[name] = [_row(r, keys, f"{source}: {name}[{i}]") for i, r in enumerate(_require(raw, name, source))]
        self._prefix_map = [(p, b["board"], b["exchange"]) for b in self.boards for p in b["prefixes"]]
        self._prefix_map.sort(key=lambda t: -len(t[0]))

    # ----- loading -------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> "RulesTable":
        """The shipped table, or the user's file when `path` is given."""
        return _load_cached(str(Path(path).resolve()) if path else str(SHIPPED_TABLE))

    def schedule_rows(self, name: str) -> list[Row]:
        """The dated rows of one schedule (price_limits, stamp_duty, transfer_fee, dividend_tax, ...)."""
        return list(self._rows[name])

    def unverified_rows(self) -> list[tuple[str, Row]]:
        return [(name, r) for name, rows in self._rows.items() for r in rows if r.verify]

    # ----- boards --------------------------------------------------------
    def board_and_exchange(self, symbol: str) -> tuple[str, str]:
        """('main', 'SH') for '600000.SH'; UserError for an unknown code."""
        code, _, suffix = symbol.partition(".")
        for prefix, board, exchange in self._prefix_map:
            if code.startswith(prefix) and suffix.upper() == exchange:
                return board, exchange
        raise UserError(f"symbol '{symbol}': no board for this code and suffix in {self.source} (boards)")

    def boards_of(self, symbols: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Vectorized board and exchange per symbol (object arrays; None when unknown)."""
        syms = np.asarray(list(symbols), dtype=object)
        board = np.full(len(syms), None, dtype=object)
        exch = np.full(len(syms), None, dtype=object)
        for i, s in enumerate(syms):
            try:
                board[i], exch[i] = self.board_and_exchange(str(s))
            except UserError:
                pass
        return board, exch

    # ----- scalar lookups --------------------------------------------------
    def limit_ratio(self, board: str, day: dt.date, st: bool = False) -> Optional[float]:
        """Daily limit ratio, or None when the board has no rule on that day."""
        row = self._find("price_limits", day, board=board, st=st)
        return None if row is None else float(row.values["ratio"])

    def ipo_no_limit_days(self, board: str, list_date: dt.date) -> int:
        row = self._find("ipo_no_limit_days", list_date, board=board)
        return 0 if row is None else int(row.values["days"])

    def ipo_first_day_band(self, board: str, list_date: dt.date) -> Optional[tuple[float, float]]:
        row = self._find("ipo_first_day_band", list_date, board=board)
        return None if row is None else (float(row.values["up"]), float(row.values["down"]))

    def lot(self, board: str, day: dt.date | None = None) -> Lot:
        """The board's lot rule on `day` (today's when None); looked up once per (board, day)."""
        k = (board, day)
        lot = self._lots.get(k)
        if lot is None:
            row = self._find("lots", day or _FAR_FUTURE, board=board)
            if row is None:
                raise UserError(f"{self.source}: no lot rule for board '{board}'")
            lot = self._lots[k] = Lot(int(row.values["min"]), int(row.values["step"]))
        return lot

    def stamp_duty(self, day: dt.date, side: str) -> float:
        """Stamp duty rate for a 'buy' or 'sell' on `day`."""
        for row in self._rows["stamp_duty"]:
            if row.covers(day) and row.match.get("side") in ("both", side):
                return float(row.values["rate"])
        return 0.0

    def transfer_fee(self, day: dt.date, exchange: str) -> TransferFee:
        row = self._find("transfer_fee", day, exchange=exchange)
        if row is None:
            return TransferFee(0.0, 0.0)
        return TransferFee(float(row.values.get("rate", 0.0)), float(row.values.get("per_share", 0.0)))

    def dividend_tax(self, day: dt.date, held_days: int) -> float:
        rows = [r for r in self._rows["dividend_tax"] if r.covers(day)]
        rows.sort(key=lambda r: r.values.get("max_days", float("inf")))
        for r in rows:
            if held_days <= r.values.get("max_days", float("inf")):
                return float(r.values["rate"])
        return 0.0

    def st_regime_start(self, board: str) -> Optional[dt.date]:
        """First day the board labels troubled firms ST / *ST (None: never in the table)."""
        starts = [r.start for r in self._rows["st_regime"] if r.matches(board=board)]
        return min(starts) if starts else None

    def face_value_rule(self, day: dt.date) -> Optional[tuple[float, int]]:
        """(price, consecutive days) of the price delisting test in force on `day`, or None."""
        row = self._find("face_value_delisting", day)
        return None if row is None else (float(row.values["price"]), int(row.values["days"]))

    def report_deadline(self, period_end: dt.date) -> dt.date:
        """Statutory last announcement day of a report for `period_end`."""
        key = period_end.strftime("%m-%d")
        rule = self.report_deadlines.get(key)
        if rule is None:
            raise UserError(f"period_end {period_end}: not a quarter end ({self.source}: report_deadlines)")
        month, day = (int(x) for x in str(rule["month_day"]).split("-"))
        return dt.date(period_end.year + int(rule["year_offset"]), month, day)

    # ----- prices -----------------------------------------------------------
    def round_price(self, price: np.ndarray | float) -> np.ndarray | float:
        """Round half up to the tick (the exchange's rounding of limit prices)."""
        return round_to_tick(price, self.tick)

    def limit_prices(self, pre_close: float, ratio: float) -> tuple[float, float]:
        """(high_limit, low_limit) for one pre_close and ratio."""
        high, low = self.limit_panels(np.asarray([pre_close], dtype=np.float64), np.asarray([ratio]))
        return float(high[0]), float(low[0])

    # ----- panels (dates x symbols) ----------------------------------------
    def limit_ratio_panel(self, dates: np.ndarray, boards: np.ndarray, is_st: np.ndarray) -> np.ndarray:
        """Ratio per (date, symbol); NaN where no rule applies. dates: datetime64[D]."""
        out = np.full(is_st.shape, np.nan, dtype=np.float64)
        pydates = [_d64_to_date(d) for d in (dates[0], dates[-1])] if len(dates) else []
        for board in BOARDS:
            cols = boards == board
            if not cols.any():
                continue
            for st in (False, True):
                # Specific rows (naming st) are applied after generic ones.
                for row in sorted(self._rows["price_limits"], key=lambda r: len(r.match)):
                    if row.match.get("board") != board or ("st" in row.match and row.match["st"] != st):
                        continue
                    if pydates and (row.end < pydates[0] or row.start > pydates[1]):
                        continue
                    in_range = (dates >= np.datetime64(row.start)) & (dates <= np.datetime64(row.end))
                    cell = in_range[:, None] & cols[None, :] & (is_st if st else ~is_st)
                    out[cell] = row.values["ratio"]
        return out

    def ipo_no_limit_days_array(self, boards: np.ndarray, list_dates: np.ndarray) -> np.ndarray:
        """No-limit trading days after listing, per symbol."""
        return np.array([self.ipo_no_limit_days(b, _d64_to_date(d)) if b is not None and not np.isnat(d) else 0
                         for b, d in zip(boards, list_dates)], dtype=np.int32)

    def ipo_first_day_band_array(self, boards: np.ndarray, list_dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(up, down) day-one bands per symbol; NaN where the era had none."""
        up = np.full(len(boards), np.nan)
        down = np.full(len(boards), np.nan)
        for i, (b, d) in enumerate(zip(boards, list_dates)):
            if b is None or np.isnat(d):
                continue
            band = self.ipo_first_day_band(b, _d64_to_date(d))
            if band:
                up[i], down[i] = band
        return up, down

    def limit_panels(self, pre_close: np.ndarray, ratio: np.ndarray,
                     down_ratio: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(high_limit, low_limit) panels; NaN where ratio or pre_close is NaN. The one limit formula:
        round_half_up(pre_close x (1 +/- ratio)) on the tick, the low limit at least one tick; `down_ratio`
        when the band is not symmetric (an approval-era IPO's first day)."""
        # Snap float32 storage noise (62.349998 for 62.35) back to the tick before applying the ratio.
        pc = round_to_tick(pre_close.astype(np.float64), self.tick)
        high = self.round_price(pc * (1 + ratio))
        low = np.maximum(self.round_price(pc * (1 - (ratio if down_ratio is None else down_ratio))), self.tick)
        low = np.where(np.isnan(high), np.nan, low)
        return high, low

    # ----- internals -----------------------------------------------------------
    def _find(self, name: str, day: dt.date, **attrs: Any) -> Optional[Row]:
        best = None
        for row in self._rows[name]:
            if row.covers(day) and row.matches(**attrs):
                if best is None or len(row.match) > len(best.match):
                    best = row
        return best


def at_up_limit(price, limit, tick: float):
    """At or above the up limit, to half a tick (float32 panels hold cents only to that): for one price or
    whole panels. A NaN limit (no limit that day) is never hit."""
    return price >= limit - tick / 2


def at_down_limit(price, limit, tick: float):
    """At or below the down limit, to half a tick; a NaN limit is never hit."""
    return price <= limit + tick / 2


def round_to_tick(price: np.ndarray | float, tick: float) -> np.ndarray | float:
    """Half up to the tick: the exchange's rounding of limit prices, and ours of every computed price
    (deal prices such as VWAP, slipped fill prices). The 1e-7 absorbs float noise in x / tick."""
    if type(price) is float or np.ndim(price) == 0:          # the scalar path first: orders call it often
        return round(math.floor(float(price) / tick + 0.5 + 1e-7) * tick, 6)
    ticks = np.floor(np.asarray(price, dtype=np.float64) / tick + 0.5 + 1e-7)
    return np.round(ticks * tick, 6)


def on_tick(prices: np.ndarray, tick: float) -> np.ndarray:
    """`round_to_tick` of each price, element for element the scalar's result (the array path above may differ
    from it in the last bit): a day's orders judged together must fill at the prices they fill at one by one.

    With a tick of 1/k CNY, k dividing 10**6 (0.01, 0.001, 0.05, ...), the scalar's round(n x tick, 6) is the
    decimal n / k, so the double nearest it: n / k, one IEEE division. Other ticks round each price in Python."""
    ticks = np.floor(np.asarray(prices, dtype=np.float64) / tick + 0.5 + 1e-7)
    k = round(1.0 / tick)
    if k >= 1 and abs(k * tick - 1.0) < 1e-12 and 10 ** 6 % k == 0:
        return ticks / float(k)
    return np.array([round(n * tick, 6) for n in ticks.tolist()], dtype=np.float64)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> RulesTable:
    p = Path(path)
    raw = read_yaml_file(p, "rules table", " (config key rules.table)")
    if not isinstance(raw, dict):
        raise UserError(f"{p}: rules table must be a mapping")
    return RulesTable(raw, str(p))


def _require(raw: dict, key: str, source: str) -> Any:
    if key not in raw:
        raise UserError(f"{source}: rules table lacks '{key}'; start from a copy of the shipped table "
                        f"({RULES_TABLE})")
    return raw[key]


def _row(raw: dict, match_keys: tuple[str, ...], where: str) -> Row:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a mapping, got {raw!r}")
    start = _as_date(raw.get("from"), f"{where}.from") if raw.get("from") is not None else _FAR_PAST
    end = _as_date(raw.get("to"), f"{where}.to") if raw.get("to") is not None else _FAR_FUTURE
    if end < start:
        raise UserError(f"{where}: 'to' {end} is before 'from' {start}")
    match = {k: raw[k] for k in match_keys if k in raw}
    values = {k: v for k, v in raw.items() if k not in match_keys and k not in ("from", "to", "verify")}
    for k, v in values.items():
        if k != "note" and not isinstance(v, (int, float)):
            raise UserError(f"{where}.{k}: expected a number, got {v!r}")
    return Row(start, end, match, values, bool(raw.get("verify", False)))


def _as_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise UserError(f"{where}: expected a date YYYY-MM-DD, got {value!r}") from None


def _d64_to_date(d: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(np.datetime64(d, "D")))
