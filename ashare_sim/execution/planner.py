"""The rebalance planner: target lists -> order requests, lot rounding, sells first, the retry book.

The Backtrader strategy (`backtest.strategy.Rebalancer`) and `paper plan` both use it, at the
close of day t for the orders that execute on day t + 1:

    planner = RebalancePlanner(market, lot_size=True)
    requests = planner.rebalance(t, weights, account, value)   # t + 1 is a rebalance day
    requests = planner.retries(t, account)                      # any other day (with retry on)
    planner.record(request, filled_qty, completed, reason, day) # each outcome, on its day
    planner.to_dict() / RebalancePlanner.from_dict(...)          # the retry book, saved between days

Sizing (rebalance): value V = the account's value at t's close; target qty = lot_round_down(weight x
V / last close); held names not in the list go to 0. Sells first (the whole position when the
target is 0, else whole lots), then buys (whole lots). The new plan supersedes whatever was left
of the previous one.

Retries: each unfilled remainder is sent again at the next day's deal price. Remainders refused for
a permanent reason (`lot_size`, `delisted`, `no_position`) are dropped; a buy cut for `cash` is
retried only when new cash can come: a sell filled since its attempt, or a sell re-sent the same
day in a stock that traded today (a halted stock's sale funds nothing).

A target that gives no order is counted in `skipped` by cause (SKIP_CAUSES).
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import pandas as pd

from ashare_sim.execution.account import Account
from ashare_sim.execution.context import market_lookups
from ashare_sim.execution.orders import PERMANENT_REASONS, OrderRequest, Reason, Side
from ashare_sim.rules.table import Lot, round_to_tick

# Why a target row produced no order (metrics.json `skipped`).
SKIP_CAUSES = {
    "outside_window": "rebalance date outside the run window",
    "not_listed_yet": "no bar yet (not listed, or never traded) before the rebalance",
    "delisted": "past the stock's last listed day",
    "below_one_lot": "weight x portfolio value is less than one board lot",
    "cash_below_one_lot": "the whole portfolio value is less than one board lot",
    "zero_weight": "weight 0 and nothing held",
    "at_target": "already held at the target quantity",
    "within_drift": "held and left as it is: resize hold, or its weight within resize_drift of the target",
    "empty_file": "the targets file has no rows",
}


@dataclass
class Skips:
    """Counts of targets that gave no order, by cause, with the first example of each."""
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, cause: str, example: str, n: int = 1) -> None:
        self.counts[cause] += n
        self.examples.setdefault(cause, example)


@dataclass
class Remainder:
    side: str           # buy | sell
    qty: int            # shares still to trade
    close_all: bool     # a sell to zero: always the whole position
    rebalance: dt.date  # the rebalance day this order serves
    reason: str = ""    # reason of the last attempt
    attempt: int = -1   # calendar index of the last attempt
    tries: int = 0      # attempts sent so far


def lot_after(market, sid: int, t: int):
    """The board lot of stock `sid` on the trading day after calendar day t (orders planned at t's close
    trade then; the data's last day stands in for a day after it)."""
    return lots_after(market, t)(sid)


def lots_after(market, t: int) -> Callable[[int], Lot]:
    """`lot_after(market, sid, t)` for any sid, each board's lot looked up once (a retry day re-sends many orders)."""
    boards, day, by_board = market_lookups(market).boards, market.date_at(min(t + 1, market.n_days - 1)), {}

    def lot_of(sid: int) -> Lot:
        board = boards[sid]
        lot = by_board.get(board)
        if lot is None:
            lot = by_board[board] = market.rules.lot(board, day)
        return lot
    return lot_of


@dataclass(frozen=True)
class ResizeRule:
    """When a name held and still in the new list is traded back to its target (strategy.resize):
    always; hold (never: only names leaving or joining the list trade); drift (when its weight at the
    close is more than `drift` of the book away from the target). Fewer small trades, same membership."""
    kind: str = "always"
    drift: float = 0.0

    @classmethod
    def of(cls, strategy) -> "ResizeRule":
        """From a config's `strategy` section (read by attribute: the planner does not depend on config)."""
        return cls(strategy.resize, float(strategy.resize_drift))

    def leaves(self, weight_now: float, target: float) -> bool:
        if self.kind == "hold":
            return True
        return self.kind == "drift" and abs(weight_now - target) <= self.drift + 1e-12


class RebalancePlanner:
    def __init__(self, market, lot_size: bool = True, resize: ResizeRule = ResizeRule()):
        self.market = market
        self.lot_size = lot_size
        self.resize = resize
        self.remaining: dict[int, Remainder] = {}     # sid -> what is left of the current plan
        self.last_sale = -1                            # calendar index of the last day a sell filled
        self.skipped = Skips()
        self._symbols = market_lookups(market).symbols

    def _delists(self, sid: int) -> bool:
        """The stock has a delisting date (after the data's end, only those are gone)."""
        inst = self.market.instruments
        return "delist_date" in inst.columns and bool(pd.notna(inst["delist_date"].iloc[sid]))

    def lot(self, sid: int, t: int):
        """The board's lot on the trading day after t (None with lot rules off)."""
        return self._lots(t)(sid)

    def _lots(self, t: int) -> Callable[[int], Lot | None]:
        """`self.lot(sid, t)` for any sid, each board's looked up once."""
        return lots_after(self.market, t) if self.lot_size else lambda sid: None

    # ----- a rebalance ---------------------------------------------------------------------
    def rebalance(self, t: int, plan: list[tuple[int, float]], account: Account, value: float,
                  day: dt.date | None = None, resize: ResizeRule | None = None) -> list[OrderRequest]:
        """Requests for the rebalance on the trading day after t (`day`, which may lie after the data's last
        day: a paper plan for tomorrow), sized at t's close (sells first)."""
        m = self.market
        r = t + 1                              # its calendar index (n_days when after the data)
        prices = m.value_close[t]
        tick = m.rules.tick
        day = day if day is not None else m.date_at(r)
        lot_of = self._lots(t)
        target: dict[int, int] = {}
        for sid, w in plan:
            symbol = m.symbols[sid]
            held = account.position(sid)
            px = float(prices[sid])
            if r > m.delist_index[sid] and (r < m.n_days or self._delists(sid)):
                self.skipped.add("delisted", f"{symbol} on {day}")
                continue
            if not px > 0 or r < m.list_index[sid]:
                self.skipped.add("not_listed_yet", f"{symbol} on {day}")   # no close to size from
                continue
            px = round_to_tick(px, tick)       # float32 cents back to exact ticks
            if held is not None and w > 0 and value > 0 and (resize or self.resize).leaves(held.qty * px / value, w):
                target[sid] = held.qty
                self.skipped.add("within_drift", f"{symbol} on {day}")
                continue
            lot = lot_of(sid)
            qty = lot.round_down(w * value / px) if lot else int(w * value / px)
            target[sid] = qty
            if qty == 0 and held is None:
                if w <= 0:
                    self.skipped.add("zero_weight", f"{symbol} on {day}")
                elif lot and value < lot.min * px:
                    self.skipped.add("cash_below_one_lot", f"{symbol} on {day}: value {value:,.0f} < "
                                     f"{lot.min} x {px:.2f}")
                else:
                    self.skipped.add("below_one_lot", f"{symbol} on {day}: {w:.4%} of {value:,.0f} < "
                                     f"{lot.min if lot else 1} x {px:.2f}")
            elif held is not None and held.qty == qty:
                self.skipped.add("at_target", f"{symbol} on {day}")
        self.remaining = {}
        sells, buys = [], []
        for sid, p in account.positions.items():
            want = target.get(sid, 0)
            if p.qty > want:
                if want == 0:
                    sells.append((sid, p.qty, True))
                else:
                    lot = lot_of(sid)
                    qty = p.qty - want
                    qty = lot.round_down(qty) if lot else qty       # a partial sell keeps to whole lots
                    if qty > 0:
                        sells.append((sid, qty, False))
        for sid, want in target.items():
            have = account.qty(sid)
            if want > have:
                lot = lot_of(sid)
                qty = lot.round_down(want - have) if lot else want - have
                if qty > 0:
                    buys.append((sid, qty))
        out = []
        for sid, qty, close_all in sells:
            self.remaining[sid] = Remainder(Side.SELL, qty, close_all, day)
            out.append(self._request(sid, self.remaining[sid], qty))
        for sid, qty in buys:
            self.remaining[sid] = Remainder(Side.BUY, qty, False, day)
            out.append(self._request(sid, self.remaining[sid], qty))
        return out

    def rebalance_dropout(self, t: int, scored: list[tuple[int, float]], account: Account, value: float, rule,
                          day: dt.date | None = None) -> tuple[list[OrderRequest], pd.DataFrame]:
        """qlib's TopkDropout on the day's scores and the book at t's close (`rule`: strategy.scores and
        top_n as `topk`): names kept are left as they are, the dropped ones sold whole, the new ones
        bought with equal shares of the cash the sales leave (x risk_degree), valued at t's close.
        Returns the requests and the day's list (the names to hold after it: kept and bought)."""
        from ashare_sim.signals.scores import topk_dropout

        m = self.market
        scores = pd.Series({str(m.symbols[sid]): float(v) for sid, v in scored}, dtype=float)
        held = [p.symbol for p in account.positions.values()]
        held_days = {p.symbol: t - m.index_of(p.opened) + 1 for p in account.positions.values()}
        pick = topk_dropout(scores, held, held_days, rule.topk, rule.n_drop, rule.hold_thresh)
        idx, prices, tick = m.symbol_index, m.value_close[t], m.rules.tick
        proceeds = sum(account.qty(idx[s]) * round_to_tick(float(prices[idx[s]]), tick) for s in pick.sell)
        per = (account.cash + proceeds) * rule.risk_degree / len(pick.buy) / value if pick.buy and value > 0 else 0.0
        plan = [(idx[s], account.qty(idx[s]) * round_to_tick(float(prices[idx[s]]), tick) / value)
                for s in pick.keep] + [(idx[s], per) for s in pick.buy]
        requests = self.rebalance(t, plan, account, value, day, resize=ResizeRule("hold"))
        chosen = pick.keep + pick.buy
        listed = pd.DataFrame({"symbol": chosen, "score": [scores.get(s, float("nan")) for s in chosen],
                               "weight": [w for _, w in plan]})
        return requests, listed

    # ----- retries ---------------------------------------------------------------------------
    def retries(self, t: int, account: Account) -> list[OrderRequest]:
        """Requests re-sending the unfilled remainders on day t + 1 (sells first)."""
        sells = [(sid, r) for sid, r in self.remaining.items() if r.side == Side.SELL]
        buys = [(sid, r) for sid, r in self.remaining.items() if r.side == Side.BUY]
        suspended_today = self.market.is_suspended[t]
        lot_of = self._lots(t)
        selling = False
        out = []
        for sid, r in sells + buys:
            if r.reason in PERMANENT_REASONS:
                continue
            if r.reason == Reason.CASH and not (self.last_sale > r.attempt or selling):
                continue
            qty = r.qty
            if r.side == Side.SELL:
                held = account.position(sid)
                if held is None:
                    continue
                qty = held.qty if r.close_all else min(qty, held.qty)
            else:
                lot = lot_of(sid)
                qty = lot.round_down(qty) if lot else qty
            if qty > 0:
                out.append(self._request(sid, r, qty))
                # Only a sale that can trade funds a cash-cut buy: a stock suspended at today's close
                # (known now) would leave that buy refused for cash every day of its halt.
                selling = selling or (r.side == Side.SELL and not suspended_today[sid])
        return out

    def record(self, req: OrderRequest, filled: int, completed: bool, reason: str, t: int) -> None:
        """The outcome of `req` on calendar day t."""
        if filled and req.side == Side.SELL:
            self.last_sale = t
        rem = self.remaining.get(req.sid)
        if rem is None:
            return
        rem.attempt = t
        rem.qty -= filled
        rem.reason = "" if completed else str(reason)
        if rem.qty <= 0 or (rem.close_all and completed):
            del self.remaining[req.sid]

    def _request(self, sid: int, rem: Remainder, qty: int) -> OrderRequest:
        req = OrderRequest(sid, self._symbols[sid], rem.side, int(qty), rem.rebalance, rem.tries)
        rem.tries += 1
        return req

    # ----- plain data (the retry book between paper days) ----------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"last_sale": self.market.date_at(self.last_sale).isoformat() if self.last_sale >= 0 else None,
                "remaining": [{"symbol": str(self.market.symbols[sid]), **asdict(r),
                               "rebalance": r.rebalance.isoformat(),
                               "attempt": self.market.date_at(r.attempt).isoformat() if r.attempt >= 0 else None}
                              for sid, r in self.remaining.items()]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], market, lot_size: bool = True,
                  resize: ResizeRule = ResizeRule()) -> "RebalancePlanner":
        p = cls(market, lot_size, resize)
        idx = market.symbol_index
        p.last_sale = market.index_of(data["last_sale"]) if data.get("last_sale") else -1
        for row in data.get("remaining", []):
            p.remaining[idx[row["symbol"]]] = Remainder(
                row["side"], int(row["qty"]), bool(row["close_all"]), dt.date.fromisoformat(row["rebalance"]),
                row.get("reason", ""), market.index_of(row["attempt"]) if row.get("attempt") else -1,
                int(row.get("tries", 0)))
        return p
