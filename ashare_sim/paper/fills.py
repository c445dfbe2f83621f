"""Fills a broker reports, read as its terminal exports them, and checked against the day's plan.

A fills file is one row per fill. Its columns are found through a **column profile**: one registered
class per export layout, each naming the headers it accepts for every field (`paper.fills.profile`, or
`--fills-profile`; `auto` takes the first profile whose headers the file has):

- `project`: this project's own layout, `symbol, side, qty, price, commission, stamp_duty, transfer_fee,
  time` (optional `date`, `fill_id`, `account`);
- `qmt`: QMT / miniQMT exports and `XtTrade` fields (证券代码 / stock_code, 买卖方向 / order_type 23 | 24,
  成交数量, 成交价格, 成交时间, 成交编号, 资金账号, ...);
- `ths`: Tonghuashun (同花顺) "当日成交" and "交割单" (操作 = 买入 | 卖出);
- `tdx`: Tongdaxin (通达信) exports (买卖标志 = 买入 | 卖出 | 证券买入 | 证券卖出);
- `custom`: the headers named in `paper.fills.columns`.

Sides are read in any of the words terminals write (buy, B, 买入, 证券买入, ...; `paper.fills.sides` adds
more). A time with no date (`09:40:00`) is a fill of the day executed; a date written apart, as
20221201 or 2022-12-01, or a time with a date, must be that day, so yesterday's export is never booked
today. Numbers may carry thousands separators; codes may be Excel-quoted (`="000001"`) or have lost their
leading zeros. When the export has no fee columns (当日成交 exports have none), the fees are the config's
cost model, and the summary says so. The file may be UTF-8 (with or without BOM), GBK or GB18030, and
comma- or tab-separated.

Each fill must match a planned order of the day (symbol and side), together the fills of an order may not
exceed it, a price must be on the tick and inside the day's bar, a buy must be whole board lots, a sell
may not exceed what the account may sell (T+1), the buys may not spend more cash than the account has,
and an account column must name this account. Errors name the file, the row and the fix; nothing is
recorded from a bad file.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from ashare_sim.common.csvfile import read_csv
from ashare_sim.common.errors import ConfigError, UserError, unopenable
from ashare_sim.common.registry import Model, Registry
from ashare_sim.common.text import did_you_mean
from ashare_sim.common.typed import Section, key, parse_date_text
from ashare_sim.execution.orders import FEE_KINDS, Side, fees_of, side_of
from ashare_sim.rules.symbols import parse_symbol

FILL_PROFILES = Registry("fills profile", "paper.fills.profile", "paper")
FILL_COLUMNS = ["symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee", "time"]
# Every field a profile may map: the ones a fill needs, then the ones read when present.
REQUIRED = ("symbol", "side", "qty", "price")
OPTIONAL = ("commission", "stamp_duty", "transfer_fee", "time", "date", "fill_id", "order_id", "account", "remark")
FIELDS = REQUIRED + OPTIONAL


class FillsProfile(Model):
    """The headers an export layout uses for each field, first match wins; `side_words` adds its own."""

    headers: ClassVar[dict[str, tuple[str, ...]]] = {}
    side_words: ClassVar[dict[str, tuple[str, ...]]] = {}

    def columns_of(self, header: list[str]) -> dict[str, str]:
        """field -> the file's column, for the fields this layout finds in `header`."""
        present = set(header)
        found = {}
        for field, names in self.headers.items():
            for name in names:
                if name in present:
                    found[field] = name
                    break
        return found

    def missing(self, header: list[str]) -> list[str]:
        found = self.columns_of(header)
        out = [f"{f} ({' / '.join(self.headers.get(f, ()))})" for f in REQUIRED if f not in found]
        if "time" not in found and "date" not in found:
            out.append(f"time or date ({' / '.join(self.headers.get('time', ()) + self.headers.get('date', ()))})")
        return out


_CN_FEES = {"commission": ("佣金", "手续费", "净佣金"), "stamp_duty": ("印花税",), "transfer_fee": ("过户费",)}


@FILL_PROFILES.register
class ProjectFills(FillsProfile):
    name = "project"
    description = "this project's fills CSV: symbol, side, qty, price, commission, stamp_duty, transfer_fee, time"
    headers = {f: (f,) for f in FIELDS}


@FILL_PROFILES.register
class QmtFills(FillsProfile):
    name = "qmt"
    description = "QMT / miniQMT trade exports and xtquant XtTrade fields (证券代码, 买卖方向, 成交数量, 成交价格, 成交时间)"
    headers = {"symbol": ("证券代码", "stock_code"), "side": ("买卖方向", "委托类型", "order_type"),
               "qty": ("成交数量", "traded_volume"), "price": ("成交价格", "成交均价", "traded_price"),
               **_CN_FEES, "time": ("成交时间", "traded_time"), "date": ("成交日期",),
               "fill_id": ("成交编号", "traded_id"), "order_id": ("委托编号", "订单编号", "order_id"),
               "account": ("资金账号", "account_id"), "remark": ("投资备注", "委托备注", "order_remark")}
    side_words = {"buy": ("23",), "sell": ("24",)}          # xtconstant.STOCK_BUY / STOCK_SELL


@FILL_PROFILES.register
class TonghuashunFills(FillsProfile):
    name = "ths"
    description = "Tonghuashun (同花顺) 当日成交 / 交割单 exports (证券代码, 操作, 成交数量, 成交均价, 成交时间)"
    headers = {"symbol": ("证券代码",), "side": ("操作",), "qty": ("成交数量",), "price": ("成交均价", "成交价格"),
               **_CN_FEES, "time": ("成交时间",), "date": ("成交日期",), "fill_id": ("成交编号",),
               "order_id": ("合同编号",), "account": ("资金账号",)}


@FILL_PROFILES.register
class TongdaxinFills(FillsProfile):
    name = "tdx"
    description = "Tongdaxin (通达信) 当日成交 / 交割单 exports (证券代码, 买卖标志, 成交数量, 成交价格, 成交时间)"
    headers = {"symbol": ("证券代码",), "side": ("买卖标志",), "qty": ("成交数量",), "price": ("成交价格", "成交均价"),
               **_CN_FEES, "time": ("成交时间",), "date": ("成交日期",), "fill_id": ("成交编号",),
               "order_id": ("委托编号",), "account": ("资金账号",)}


@FILL_PROFILES.register
class CustomFills(FillsProfile):
    name = "custom"
    description = "the headers named in paper.fills.columns (field: header), for any other export"

    def __init__(self, columns: dict[str, str] | None = None):
        self.headers = {f: (h,) for f, h in (columns or {}).items()}


@dataclass(frozen=True)
class FillsConfig(Section):
    profile: str = key("auto", "the layout of --fills files: auto (the first profile whose headers the file "
                               "has) | project | qmt | ths | tdx | custom")
    columns: dict[str, str] = key({}, "profile custom: field -> the export's header (fields: "
                                      + ", ".join(FIELDS) + ")")
    sides: dict[str, list[str]] = key({}, "more words for a side: buy: [...], sell: [...]")

    def check(self) -> None:
        if self.profile != "auto" and self.profile not in FILL_PROFILES:
            raise ConfigError("profile", f"'{self.profile}' is not a fills profile; choose auto, "
                                         f"{', '.join(FILL_PROFILES)}{did_you_mean(self.profile, FILL_PROFILES)}")
        for field in self.columns:
            if field not in FIELDS:
                raise ConfigError(f"columns.{field}", f"not a fill field; fields: {', '.join(FIELDS)}"
                                                      f"{did_you_mean(field, FIELDS)}")
        if self.columns and self.profile not in ("custom", "auto"):
            raise ConfigError("columns", f"headers are given but profile is '{self.profile}'; set profile: custom")
        if self.profile == "custom":
            lacking = [f for f in REQUIRED if f not in self.columns]
            if "time" not in self.columns and "date" not in self.columns:
                lacking.append("time or date")
            if lacking:
                raise ConfigError("columns", f"profile custom needs the header of {', '.join(lacking)}")
        for side in self.sides:
            if side not in tuple(Side):
                raise ConfigError(f"sides.{side}", "a side is buy or sell")


def profile_named(name: str, fcfg: FillsConfig, flag: str = "--fills-profile") -> FillsProfile | None:
    """The profile `name` (None for auto); an unknown name is a UserError naming `flag`."""
    if name == "auto":
        return None
    if name not in FILL_PROFILES:
        raise UserError(f"{flag} {name}: not a fills profile; choose auto, {', '.join(FILL_PROFILES)}"
                        f"{did_you_mean(name, FILL_PROFILES)}")
    cls = FILL_PROFILES.get(name)
    if cls is CustomFills:
        if not fcfg.columns:
            raise UserError(f"{flag} custom: name the export's headers in paper.fills.columns (field: header)")
        return CustomFills(dict(fcfg.columns))
    return cls()


def choose_profile(header: list[str], path: Path, fcfg: FillsConfig, name: str | None = None,
                   raw: pd.DataFrame | None = None) -> FillsProfile:
    """The profile that reads a file with these headers (and, for `auto`, whose side column holds sides);
    UserError naming what each profile lacks, and which one would fit."""
    chosen = profile_named(name or fcfg.profile, fcfg, "--fills-profile" if name else "paper.fills.profile")
    candidates = [cls() for cls in FILL_PROFILES.classes() if cls is not CustomFills]
    if fcfg.columns:
        candidates.insert(0, CustomFills(dict(fcfg.columns)))
    fitting = [p for p in candidates if not p.missing(header)]
    if raw is not None:                     # a side column of words that are sides (not 委托类型 = 限价委托) first
        fitting.sort(key=lambda p: not _sides_parse(raw, p, fcfg))
    if chosen is not None:
        lacking = chosen.missing(header)
        if lacking:
            hint = f"the {fitting[0].name} profile fits it (--fills-profile {fitting[0].name})" if fitting else \
                "name its headers in paper.fills.columns (profile custom)"
            raise UserError(f"--fills {path}: the {chosen.name} profile finds no column for {'; '.join(lacking)}; "
                            f"the file's columns are {', '.join(header)}; {hint}")
        return chosen
    if fitting:
        return fitting[0]
    lacks = "; ".join(f"{p.name} lacks {', '.join(f.split(' (')[0] for f in p.missing(header))}" for p in candidates)
    raise UserError(f"--fills {path}: its columns ({', '.join(header) or 'none'}) match no fills profile ({lacks}); "
                    "name its headers in paper.fills.columns (field: header) with paper.fills.profile: custom")


def _sides_parse(raw: pd.DataFrame, profile: FillsProfile, fcfg: FillsConfig) -> bool:
    column = profile.columns_of(list(raw.columns))["side"]
    words = {s: tuple(profile.side_words.get(s, ())) + tuple(fcfg.sides.get(s, ())) for s in Side}
    values = [cell(v) for v in raw[column].head(20) if cell(v)]
    return not values or any(side_of(v, words) is not None for v in values)


# ----- cells as exports write them ------------------------------------------------------------
_EXCEL_TEXT = re.compile(r'^="?(.*?)"?$')        # ="000001", a code kept as text in a spreadsheet


def cell(value: object) -> str:
    text = str(value).strip().replace("\u3000", " ").strip()
    m = _EXCEL_TEXT.match(text)
    return m.group(1).strip() if m and text.startswith("=") else text


def number(value: object) -> float:
    """A number as exports write it: '1,000.50', ' 12 ', '=\"100\"'; ValueError when it is none."""
    text = cell(value).replace(",", "")
    if text == "":
        return 0.0
    return float(text)


_TIME_ONLY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?:\.\d+)?$")
_HHMMSS = re.compile(r"^([01]?\d|2[0-3])([0-5]\d)([0-5]\d)$")          # 093500, or 93500 without its zero
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_STAMP = re.compile(r"^(\d{8})(\d{6})$")                                 # 20221202093500


def parse_export_date(text: str) -> dt.date | None:
    """A date as exports write it: 20221202, 2022-12-02, 2022/12/2, 2022.12.02, 2022年12月02日."""
    text = text.strip()
    m = _YMD.match(text)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return parse_date_text(text[:8]) if len(text) >= 8 and text[:8].isdigit() else None


def fill_date(date_text: str, time_text: str, day: dt.date, has_date_column: bool = False) \
        -> tuple[dt.date | None, bool]:
    """(the fill's date, whether it was taken from `day`): from the date column, else the time's date part,
    else `day` for a time-only value (when the export has no date column: an empty date cell is a missing
    date). An epoch time (xtquant's traded_time) is read in Beijing time. A date column and a time that
    carries another date are a contradiction: None."""
    if date_text:
        d = parse_export_date(date_text)
        in_time = _date_in_time(time_text) if time_text else None
        return (None if in_time is not None and in_time != d else d), False
    if not time_text or has_date_column:
        return None, False
    if _TIME_ONLY.match(time_text) or _HHMMSS.match(time_text):
        return day, True
    return _date_in_time(time_text), False


def _date_in_time(time_text: str) -> dt.date | None:
    if _TIME_ONLY.match(time_text) or _HHMMSS.match(time_text):
        return None
    stamp = _STAMP.match(time_text)
    if stamp:
        return parse_date_text(stamp.group(1))
    if time_text.isdigit() and len(time_text) in (10, 13):
        seconds = int(time_text) / (1000 if len(time_text) == 13 else 1)
        return dt.datetime.fromtimestamp(seconds, dt.timezone(dt.timedelta(hours=8))).date()
    return parse_export_date(time_text.split(" ")[0].split("T")[0])


# ----- reading ----------------------------------------------------------------------------------
class FillChecks:
    """What a reported fill is checked against: the day's bar, board lots, T+1, the cash and the account."""

    def __init__(self, market, t: int, account, lot_size: bool = True, costs=None,
                 account_ids: tuple[str, ...] = ()):
        self.market, self.t, self.account, self.lot_size = market, t, account, lot_size
        self.costs = costs                      # a fresh execution.models.costs.CostModel for missing fees
        self.account_ids = tuple(dict.fromkeys(str(a) for a in account_ids if a))

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

    def model_fees(self, order: int, symbol: str, side: str, qty: int, price: float) -> dict[str, float]:
        sid = self.market.symbol_index[symbol]
        c = self.costs.fill_costs(order, self.market.date_at(self.t), side, str(self.market.exchange[sid]), qty,
                                  price, price)
        return {k: getattr(c, k) for k in FEE_KINDS}


@dataclass
class FillsRead:
    """A fills file read: request index -> its fills, and how it was read (for the summary)."""
    by_request: dict[int, list[dict]]
    profile: str
    rows: int
    fees_from_model: bool = False
    dated_by_run: bool = False
    order_ids: dict[int, set[str]] = dataclasses.field(default_factory=dict)
    model_fees: list[str] = dataclasses.field(default_factory=list)     # fee kinds the export did not give
    skipped_rows: int = 0                       # blank rows, totals and rows that are not trades


_TOTALS = ("合计", "总计", "小计", "total")


def _fill_rows(raw: pd.DataFrame, col: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """The rows that are fills: not blank, not a totals line, not a statement's non-trade row (a transfer or
    a cancellation: no code, or no quantity / price)."""
    def is_fill(row) -> bool:
        values = [cell(v) for v in row]
        if not any(values):
            return False
        if any(v.lower().startswith(_TOTALS) for v in values[:3]):
            return False
        code = cell(row[col["symbol"]])
        qty, price = cell(row[col["qty"]]), cell(row[col["price"]])
        if not code:
            return False
        try:                                     # neither quantity nor price: a transfer; 撤单 at no price
            if number(price) == 0 and (number(qty) == 0 or "撤" in cell(row[col["side"]])):
                return False
        except ValueError:
            pass                                 # not a number: the row's own check says so
        return True
    keep = raw.apply(is_fill, axis=1) if len(raw) else pd.Series([], dtype=bool)
    return raw[keep], int((~keep).sum()) if len(raw) else 0


def _table(path: Path) -> pd.DataFrame:
    try:
        with open(path, "rb") as f:
            head = f.readline()
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):                 # UTF-16: two bytes a character
            head = head.decode("utf-16", errors="ignore").encode()
        sep = "\t" if head.count(b"\t") > head.count(b",") else ","
        raw = read_csv(path, "fills file", dtype=str, keep_default_na=False, sep=sep)
    except OSError as exc:
        raise unopenable("--fills", path, exc, "the fills CSV file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(f"--fills {path}: not a readable CSV ({exc.__class__.__name__}); expected a header row and "
                        "one row per fill") from None
    raw.columns = [cell(c) for c in raw.columns]
    raw = raw.loc[:, [c for c in raw.columns if c and not c.startswith("Unnamed:")]]  # trailing separators
    return raw


def _refuse_duplicates(raw: pd.DataFrame, path: Path, id_column: str | None, allow: bool,
                       symbol_column: str = "symbol") -> None:
    if id_column is not None:                 # exchanges number trades per security: the id is (code, id)
        ids = raw[id_column].map(cell)
        keyed = raw[symbol_column].map(cell) + "|" + ids
        repeated = ids[keyed.duplicated(keep=False) & (ids != "")]
        if len(repeated):
            rows = [str(i + 2) for i in repeated.index[:2]]
            raise UserError(f"--fills {path}: fill id {repeated.iloc[0]} ({id_column}) appears twice for "
                            f"{cell(raw.loc[repeated.index[0], symbol_column])} (rows {' and '.join(rows)}); a broker "
                            "reports each fill once: remove the repeat")
        return
    if allow:
        return
    dup = raw.duplicated(keep=False)
    if dup.any():
        rows = [str(i + 2) for i in raw.index[dup][:2]]
        raise UserError(f"--fills {path}: rows {' and '.join(rows)} are the same fill twice; remove the repeat, or "
                        "pass --allow-duplicate-fills if the broker really reported two identical fills (a "
                        "fill id column tells them apart)")


def read_fills(path: Path, requests: list[dict], day: dt.date, checks: FillChecks, fcfg: FillsConfig | None = None,
               profile: str | None = None, allow_duplicates: bool = False, allow_empty: bool = False) -> FillsRead:
    """The fills of `path` by planned request, validated against the plan and the day; UserError naming the
    file and row.

    A fill has an identity: the broker's fill id when the export has one (a repeated id is refused),
    otherwise its whole row; an exact repeat of a row is refused unless `allow_duplicates` says the broker
    really reported two identical fills (an export appended twice books them twice)."""
    path = Path(path)
    fcfg = fcfg or FillsConfig()
    raw = _table(path)
    layout = choose_profile(list(raw.columns), path, fcfg, profile, raw)
    col = layout.columns_of(list(raw.columns))
    words = {s: tuple(layout.side_words.get(s, ())) + tuple(fcfg.sides.get(s, ())) for s in Side}
    raw, skipped = _fill_rows(raw, col)
    if not len(raw) and not allow_empty:
        raise UserError(f"--fills {path}: no fill rows (read as {layout.name}); an export made before anything "
                        f"traded? If nothing was filled on {day}, pass --allow-empty-fills")
    _refuse_duplicates(raw, path, col.get("fill_id"), allow_duplicates, col["symbol"])
    fee_cols = [k for k in FEE_KINDS if k in col]
    by_key = {(r["symbol"], r["side"]): i for i, r in enumerate(requests)}
    left = {i: int(r["qty"]) for i, r in enumerate(requests)}
    sold: dict[str, int] = {}
    spent = 0.0
    result = FillsRead({}, layout.name, len(raw), fees_from_model=len(fee_cols) < len(FEE_KINDS),
                       model_fees=[k for k in FEE_KINDS if k not in fee_cols], skipped_rows=skipped)
    for k, row in zip(raw.index, raw.to_dict("records")):
        where = f"--fills {path} row {k + 2} (read as {layout.name})"
        get = lambda field: cell(row[col[field]]) if field in col else ""      # noqa: E731
        when, by_run = fill_date(get("date"), get("time"), day, "date" in col)
        if when is None:
            shown = "; ".join(f"'{get(f)}' ({col[f]})" for f in ("date", "time") if f in col and get(f))
            raise UserError(f"{where}: cannot read the fill's date from {shown or 'empty date and time cells'}; "
                            "write it as 2022-12-01 (or 20221201) in a date column, or as '2022-12-01 09:35:00' "
                            "in the time (a time alone is read as the --date day)")
        if when != day:
            raise UserError(f"{where}: the fill's date is {when}, not {day}; export the fills of {day}, or run "
                            f"with --date {when} for that day's")
        result.dated_by_run |= by_run
        if "account" in col and checks.account_ids and get("account") not in checks.account_ids:
            raise UserError(f"{where}: account {get('account')} ({col['account']}) is not this account "
                            f"({' / '.join(checks.account_ids)}); set paper.account_name (or paper.qmt.account_id) "
                            f"to {get('account')} if it is the broker account this paper account trades")
        symbol = parse_symbol(get("symbol"))
        side = side_of(get("side"), words)
        if symbol is None:
            raise UserError(f"{where}: '{get('symbol')}' ({col['symbol']}) is not a stock code")
        if side is None:
            raise UserError(f"{where}: side '{get('side')}' ({col['side']}) is neither a buy nor a sell "
                            "(buy, B, 买入, 证券买入, sell, S, 卖出, 证券卖出; paper.fills.sides adds words)")
        i = by_key.get((symbol, side))
        if i is None:
            raise UserError(f"{where}: no planned {side} of {symbol} on {day}; fills must match the plan "
                            f"(`paper plan --date {day}` shows it)")
        nums = {}
        for field in ("qty", "price", *fee_cols):
            try:
                nums[field] = number(row[col[field]])
            except ValueError:
                raise UserError(f"{where}: {field} '{get(field)}' ({col[field]}) is not a number") from None
            if not math.isfinite(nums[field]):
                raise UserError(f"{where}: {field} {get(field)} is not a finite number")
            if nums[field] < 0 and field != "qty":
                raise UserError(f"{where}: {field} {get(field)} must be >= 0")
        if nums["qty"] < 0 and side == Side.SELL:
            nums["qty"] = -nums["qty"]          # some exports sign a sell's quantity
        qty = int(nums["qty"])
        if qty != nums["qty"] or qty <= 0 or nums["price"] <= 0:
            raise UserError(f"{where}: qty must be a whole number > 0 and price > 0")
        tick = checks.market.rules.tick
        if abs(nums["price"] / tick - round(nums["price"] / tick)) > 1e-6:
            raise UserError(f"{where}: price {nums['price']:g} is not on the tick ({tick:g} CNY); a fill trades at a "
                            "price the exchange quotes: check the export's price column")
        if qty > left[i]:
            raise UserError(f"{where}: {qty} more than the {left[i]} left of the planned {side} of {symbol}")
        span = checks.bar(symbol)
        if span is None:
            raise UserError(f"{where}: {symbol} did not trade on {day} (no bar or suspended); a fill is impossible")
        half_tick = tick / 2      # float32 panels hold cents to well under half a tick
        if not span[0] - half_tick <= nums["price"] <= span[1] + half_tick:
            raise UserError(f"{where}: price {nums['price']:g} is outside the day's range "
                            f"{span[0]:.2f}..{span[1]:.2f} of {symbol}")
        lot = checks.lot(symbol) if side == Side.BUY else None
        if lot is not None and not lot.is_valid_buy(qty):
            raise UserError(f"{where}: buy of {qty} is not whole board lots ({lot.min} then steps of {lot.step})")
        fees = {kind: nums.get(kind, 0.0) for kind in FEE_KINDS}
        if len(fee_cols) < len(FEE_KINDS):
            model = checks.model_fees(i, symbol, side, qty, nums["price"])
            fees.update({kind: model[kind] for kind in FEE_KINDS if kind not in fee_cols})
        if fees_of(fees) > qty * nums["price"]:
            raise UserError(f"{where}: fees {fees_of(fees):,.2f} CNY exceed the fill's value "
                            f"{qty * nums['price']:,.2f}; check the export's fee columns (a total, or another unit?)")
        spent += qty * nums["price"] + fees_of(fees) if side == Side.BUY else -(qty * nums["price"] - fees_of(fees))
        if side == Side.SELL:
            sold[symbol] = sold.get(symbol, 0) + qty
            if sold[symbol] > checks.sellable(symbol):
                raise UserError(f"{where}: sells {sold[symbol]} of {symbol}, more than the {checks.sellable(symbol)} "
                                "the account may sell today (T+1)")
        left[i] -= qty
        if get("order_id"):
            result.order_ids.setdefault(i, set()).add(get("order_id"))
        result.by_request.setdefault(i, []).append({"qty": qty, "price": nums["price"], **fees, "time": get("time")})
    if spent > checks.account.cash + 1e-6:
        raise UserError(f"--fills {path}: the fills spend {spent:,.2f} CNY net, more than the account's cash "
                        f"{checks.account.cash:,.2f}; check the export")
    return result
