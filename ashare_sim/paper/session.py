"""`paper plan`, `paper execute`, `paper status` on a ledger: the backtest's planner and execution core, one
trading day at a time.

- plan D: the orders for trading day D from what is known at the close before it. On the first trading
  day of a month: the target list scored on data up to that close (the same pipeline as the backtest,
  i.e. "next month's list", or the targets file's rows for D), sized against the account; on other days
  the retries of what is left of the current plan. Stored in the ledger with what is known at plan
  time (sellable after T+1, the board lot, suspended or at a limit on the last close).
- execute D: the plan filled on D's bars under the config's rules and costs (or the fills a broker
  reported, `--fills`), with D's corporate actions and delistings; trading days skipped since the last
  executed day get their corporate actions first. One transaction: all of it or nothing.
- status: positions, cash, value, P&L since the start, the last runs.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.common.typed import parse_date_text
from ashare_sim.execution.account import Account, Position
from ashare_sim.execution.core import ExecutionCore
from ashare_sim.execution.orders import FILLED, OrderRequest, Side, Status
from ashare_sim.execution.planner import RebalancePlanner, ResizeRule, lot_after
from ashare_sim.paper.adapters import adapter
from ashare_sim.paper.fills import FillChecks, read_fills
from ashare_sim.paper.ledger import Ledger
from ashare_sim.rules.table import at_down_limit, at_up_limit


def parse_day(text: str) -> dt.date:
    day = parse_date_text(str(text))
    if day is None:
        raise UserError(f"--date {text}: not a date; write YYYY-MM-DD")
    return day


# ----- the calendar -----------------------------------------------------------------------
def day_index(market, day: dt.date) -> int | None:
    i = market.index_of(day)
    return i if i < market.n_days and market.date_at(i) == day else None


def close_before(market, day: dt.date) -> int:
    """Calendar index of the last close before trading day `day` (which may lie after the data's end)."""
    i = day_index(market, day)
    if i is not None:
        if i == 0:
            raise UserError(f"--date {day}: the first day of the market data; a plan needs the close before it")
        return i - 1
    first, last = market.date_at(0), market.date_at(market.n_days - 1)
    if day < last:
        raise UserError(f"--date {day}: not a trading day of the market ({market.source}); choose one of its days")
    if day < first:
        raise UserError(f"--date {day}: before the market data starts ({first})")
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XSHG")
    if not cal.first_session.date() <= day <= cal.last_session.date():
        raise UserError(f"--date {day}: outside the XSHG calendar ({cal.first_session.date()}.."
                        f"{cal.last_session.date()}); the market data ends on {last}")
    if not cal.is_session(day.isoformat()):
        raise UserError(f"--date {day}: not a trading day (XSHG calendar); choose the next trading day")
    following = cal.next_session(last.isoformat()).date()
    if following != day:
        raise UserError(f"--date {day}: the market data ends on {last}; a plan for {day} needs the close of the "
                        f"trading day before it (update the data, or plan {following})")
    return market.n_days - 1


# ----- account <-> ledger --------------------------------------------------------------------
def load_account(led: Ledger, market) -> Account:
    acct = led.account()
    data = {"cash": acct["cash"], "positions": led.positions()}
    return Account.from_dict(data, market.symbol_index)


def position_rows(account: Account) -> list[dict]:
    return [{"symbol": p.symbol, "qty": p.qty, "cost": p.cost, "opened": p.opened.isoformat(), "locked": p.locked,
             "seq": i} for i, p in enumerate(account.positions.values())]


def _value_at(account: Account, market, t: int) -> float:
    return account.cash + account.positions_value(market.value_close[t], market.rules.tick)


# ----- plan ------------------------------------------------------------------------------------
def plan_day(led: Ledger, market, cfg, day: dt.date) -> dict[str, Any]:
    """Plan trading day `day` into the ledger (replacing an earlier plan for it); returns the summary."""
    t = close_before(market, day)                       # checks the date before anything is written
    lists = TargetLists(market, cfg)
    acct = led.account()
    if acct is None:
        led.create_account(cfg.paper.account_name, float(cfg.broker.cash), day, market_id(market))
        acct = led.account()
        logger.info(f"new paper account {led.path}: {cfg.broker.cash:,.0f} CNY from {day}")
    check_market(led, acct, market)
    last = parse_date_text(acct["last_date"]) if acct["last_date"] else None
    if last is not None and day <= last:
        raise UserError(f"--date {day}: not after the last executed day {last}; plan a later day")
    if last is not None:
        missed = lists.rebalances_between(last, day)
        if missed:
            raise UserError(f"--date {day}: the rebalance of {missed[0]} was not executed (last executed {last}); "
                            f"plan and execute {missed[0]} first, or its list is never traded")
        if market.date_at(t) > last:
            logger.warning(f"the account was last executed on {last}; {day} is planned from the close of "
                           f"{market.date_at(t)} (execute catches up the corporate actions in between)")
    from ashare_sim.paper.live import unfinished_days

    earlier = unfinished_days(led, day)
    if earlier:
        raise UserError(f"--date {day}: the orders of {earlier[0]} went out (to the broker, or as a basket) but that "
                        f"day is not executed; execute it first (`paper execute --date {earlier[0]} --fills FILE`, "
                        f"or `paper run --date {earlier[0]}`)")
    if led.rows("SELECT 1 FROM broker_orders WHERE date = ? LIMIT 1", day.isoformat()):
        raise UserError(f"--date {day}: its orders were already sent to the broker; a plan is not replaced after "
                        f"its orders are out (`paper run --date {day}` follows them to the end)")
    account = load_account(led, market)
    planner = RebalancePlanner.from_dict(json.loads(acct["planner"]), market, cfg.broker.lot_size,
                                         ResizeRule.of(cfg.strategy))
    value = _value_at(account, market, t)
    # A new account starts with the current list; afterwards lists trade on their own rebalance days.
    start = last is None and not account.positions
    if lists.scores_file and not lists.is_rebalance(day, t):
        logger.warning(f"--date {day}: the scores file has no scores dated {market.date_at(t)} (the close before "
                       f"it): no new list today{', only retries' if cfg.broker.retry else ''}")
    if lists.dropout is not None and lists.is_rebalance(day, t):
        rows = lists.scores_at(t)
        scored = list(zip(rows["symbol"].map(market.symbol_index), rows["score"]))
        requests, _ = planner.rebalance_dropout(t, scored, account, value, lists.dropout, day)
        kind = f"rebalance (TopkDropout on scores file {Path(lists.scores_file).name}, scores of {market.date_at(t)})"
    elif lists.is_rebalance(day, t) or (start and lists.has_current(day)):
        weights, source = lists.weights(t, day)
        requests = planner.rebalance(t, weights, account, value, day)
        kind = f"rebalance ({source})"
    elif cfg.broker.retry:
        requests, kind = planner.retries(t, account), "retries"
    else:
        requests, kind = [], "nothing to do (retry off)"
    rows = [plan_row(market, t, req, account) for req in requests]
    led.save_plan(day, market.date_at(t), kind, rows, planner.to_dict(), acct["last_date"])
    summary = {"date": day.isoformat(), "signal_date": market.date_at(t).isoformat(), "kind": kind,
               "orders": rows, "value": value, "cash": account.cash,
               "skipped": {k: v for k, v in planner.skipped.counts.items() if v}}
    led.log_run("plan", day, {k: v for k, v in summary.items() if k != "orders"} | {"n_orders": len(rows)})
    return summary


def market_id(market) -> str:
    return str(Path(str(market.source)).resolve())


def check_market(led: Ledger, acct: dict, market) -> None:
    """The account trades one market directory; another one would value and fill it on other prices."""
    if acct["market"] != market_id(market):
        raise UserError(f"--account {led.path}: this account trades the market at {acct['market']}, not "
                        f"{market_id(market)}; set data.path to it")


class TargetLists:
    """Which days are rebalance days for the config, and their lists.

    Scoring pipeline: the first trading day of each month, its list scored on the close before it.
    Targets file: the days it has rows for (any day, as in the backtest), its rows.
    Rebalance function: the days of its schedule, its list from one call on the view at the close before."""

    def __init__(self, market, cfg):
        self.market, self.cfg = market, cfg
        self.file = cfg.strategy.targets_file
        self.function = cfg.strategy.function
        self.scores_file = cfg.strategy.scores.file
        self._targets = None
        self._scores = None
        self._scores_by_day: dict[int, pd.DataFrame] = {}

    def targets(self, also: frozenset[str] = frozenset()) -> pd.DataFrame:
        if self._targets is None or also:
            from ashare_sim.signals.targets import read_targets_file

            self._targets = read_targets_file(self.file, self.market, also)
        return self._targets

    def _file_days(self, day: dt.date) -> list[dt.date]:
        also = frozenset() if day_index(self.market, day) is not None else frozenset({day.isoformat()})
        return sorted(set(pd.to_datetime(self.targets(also)["rebalance_date"]).dt.date))

    def scores_at(self, t: int) -> pd.DataFrame:
        """The scores file's candidates dated the close of t (they trade the day after)."""
        from ashare_sim.signals.scores import candidates, read_scores_file
        if self._scores is None:                # read once; each day's candidates kept (a plan asks twice)
            self._scores = read_scores_file(self.scores_file, self.market)
        if t not in self._scores_by_day:
            rows = self._scores[self._scores["date"] == pd.Timestamp(self.market.date_at(t))]
            self._scores_by_day[t] = candidates(rows, self.market, self.cfg, t)
        return self._scores_by_day[t]

    @property
    def dropout(self):
        """signals.scores.DropoutRule when the lists are TopkDropout's (chosen with the book), else None."""
        from ashare_sim.signals.scores import DropoutRule
        return DropoutRule.of(self.cfg.strategy) if self.scores_file and \
            self.cfg.strategy.scores.rule == "topk_dropout" else None

    def is_rebalance(self, day: dt.date, t: int) -> bool:
        if self.file:
            return day in self._file_days(day)
        if self.scores_file:
            return len(self.scores_at(t)) > 0
        if self.function:
            from ashare_sim.signals.function import is_rebalance_day
            return is_rebalance_day(self.market, self.cfg, day, t)
        return bool(self.market.dates[t].astype("datetime64[M]") != np.datetime64(day, "M"))

    def has_current(self, day: dt.date) -> bool:
        """A list to start a new account with on `day` (the latest one on or before it)."""
        if self.function and self.cfg.strategy.rebalance_dates:
            return any(d <= day for d in self.cfg.strategy.rebalance_dates)
        if self.scores_file:
            return False                       # scores trade on the day after their date only
        return not self.file or any(d <= day for d in self._file_days(day))

    def rebalances_between(self, after: dt.date, before: dt.date) -> list[dt.date]:
        """Rebalance days strictly between two days (a plan for `before` would skip them)."""
        if self.file:
            return [d for d in self._file_days(before) if after < d < before]
        if self.function:
            from ashare_sim.signals.function import rebalance_days_between
            return rebalance_days_between(self.market, self.cfg, after, before)
        m = self.market
        if self.scores_file:
            return [m.date_at(i + 1) for i in range(m.n_days - 1)
                    if after < m.date_at(i + 1) < before and len(self.scores_at(i))]
        months = m.dates.astype("datetime64[M]")
        starts = [m.date_at(i) for i in range(1, m.n_days) if months[i] != months[i - 1]]
        return [d for d in starts if after < d < before]

    def weights(self, t: int, day: dt.date) -> tuple[list[tuple[int, float]], str]:
        """(sid, weight) for the rebalance on `day`, from what is known at the close of calendar day t."""
        if self.file:
            days = [d for d in self._file_days(day) if d <= day]
            targets = self.targets()
            rows = targets[pd.to_datetime(targets["rebalance_date"]).dt.date == days[-1]]
            source = f"targets file {Path(self.file).name}, list of {days[-1]}"
        elif self.scores_file:
            from ashare_sim.signals.scores import top_n_list
            rows = top_n_list(self.scores_at(t), self.market, int(self.cfg.strategy.top_n))
            source = f"scores file {Path(self.scores_file).name}, scores of {self.market.date_at(t)}"
        elif self.function:
            from ashare_sim.signals.function import call_on_view, load_function
            from ashare_sim.signals.view import ViewContext

            user = load_function(self.function)
            rows = call_on_view(user, ViewContext(self.market, self.cfg, [t]), t, day)
            source = f"rebalance function {user.name}"
        else:
            from ashare_sim.signals.pipeline import build_targets

            m = self.market
            # Scored on the history up to the close of t (a window that may end before backtest.start: then
            # only the list for the next rebalance is scored).
            result = build_targets(m, self.cfg, next_signal=t, window=(self.cfg.backtest.start, m.date_at(t)))
            if result.next_targets is None:
                raise UserError(f"--date {day}: not enough history before {m.date_at(t)} to score a list")
            rows, source = result.next_targets, "scoring pipeline"
        idx = self.market.symbol_index
        return [(idx[s], float(w)) for s, w in zip(rows["symbol"], rows["weight"])], source


def plan_row(market, t: int, req: OrderRequest, account: Account) -> dict[str, Any]:
    """A planned order with what is known at plan time (the close of calendar day t)."""
    sid = req.sid
    close = float(market.last_close[t, sid])
    lot = lot_after(market, sid, t)
    buy = req.side == Side.BUY
    limit = market.high_limit[t, sid] if buy else market.low_limit[t, sid]
    at = at_up_limit if buy else at_down_limit
    at_limit = bool(market.has_bar[t, sid] and at(market.close[t, sid], limit, market.rules.tick))
    return {"sid": sid, "symbol": req.symbol, "side": req.side, "qty": req.qty, "rebalance": req.rebalance.isoformat(),
            "attempt": req.attempt, "last_close": None if math.isnan(close) else round(close, 2),
            # T+1: what is held at the close before the planned day is all sellable on it
            "lot": f"{lot.min}/{lot.step}", "sellable": account.qty(sid) if req.side == Side.SELL else None,
            "suspended_last_close": bool(market.is_suspended[t, sid]), "at_limit_last_close": at_limit}


# ----- execute ----------------------------------------------------------------------------------
def execute_day(led: Ledger, market, cfg, day: dt.date, fills_file: Path | None = None,
                allow_duplicates: bool = False, fills_profile: str | None = None,
                allow_empty: bool = False) -> dict[str, Any]:
    acct = led.account()
    t = day_index(market, day)
    if t is None:
        if market.date_at(0) <= day <= market.date_at(market.n_days - 1):
            raise UserError(f"--date {day}: not a trading day of the market ({market.source}); choose one of its days")
        raise UserError(f"--date {day}: no bars for {day} in the market ({market.source}: "
                        f"{market.date_at(0)}..{market.date_at(market.n_days - 1)}); update the data first")
    if acct is not None:
        check_market(led, acct, market)
    if acct is not None and acct["last_date"]:
        last = parse_date_text(acct["last_date"])
        if day == last:
            if fills_file is not None:
                raise UserError(f"--date {day}: already executed; the fills in {fills_file} were not recorded (a "
                                "day is executed once: plan and execute the next trading day)")
            return {"date": day.isoformat(), "done": True}
        if day < last:
            raise UserError(f"--date {day}: before the last executed day {last}; the account moves forward only")
    plan = led.plan(day)
    stale = plan is not None and acct is not None and plan["based_on"] != acct["last_date"]
    if fills_file is not None and (plan is None or stale):
        raise UserError(f"--fills: there is no current plan for {day} to match the fills against"
                        + (f" (its plan was made before {acct['last_date']} was executed)" if stale else "")
                        + f"; run `paper plan --date {day}` and trade that plan")
    planned_now = plan is None or stale
    if planned_now:
        if stale:
            logger.warning(f"the plan for {day} was made before {acct['last_date']} was executed: planning again")
        plan_day(led, market, cfg, day)
        plan, acct = led.plan(day), led.account()
    requests = json.loads(plan["requests"])
    account = load_account(led, market)
    planner = RebalancePlanner.from_dict(json.loads(plan["planner"]), market, cfg.broker.lot_size,
                                         ResizeRule.of(cfg.strategy))
    core = ExecutionCore(market, cfg.broker, account)
    events = []
    first = day_index(market, parse_date_text(acct["last_date"])) + 1 if acct["last_date"] else t
    for skipped in range(first, t):                     # days without a run: their corporate actions still happen
        events.append((skipped, core.start_day(skipped)))
        core.end_day(skipped)
    events.append((t, core.start_day(t)))
    filler = adapter(cfg.paper.adapter, fills_file)
    fills = read = None
    if filler.live:
        fills = _broker_fills(led, day, requests, cfg)
    elif fills_file is not None:                          # checked against what the account may sell today
        checks = FillChecks(market, t, account, cfg.broker.lot_size, core.fresh_costs(),
                            account_ids=(acct["name"], cfg.paper.account_name, *broker_account_ids(cfg)))
        read = read_fills(fills_file, requests, day, checks, cfg.paper.fills, fills_profile, allow_duplicates,
                          allow_empty)
        fills = read.by_request
    orders = [OrderRequest(int(market.symbol_index[row["symbol"]]), row["symbol"], row["side"], int(row["qty"]),
                           parse_date_text(row["rebalance"]), int(row["attempt"]), key=i + 1)
              for i, row in enumerate(requests)]
    outcomes = filler.execute(core, orders, t, fills)
    for req, out in zip(orders, outcomes):
        planner.record(req, out.filled_qty, out.status == FILLED, out.reason, t)
    core.end_day(t)
    _write_day(led, market, core, events, filler.source)
    led.update_account(cash=account.cash, last_date=day.isoformat(), planner=json.dumps(planner.to_dict()))
    led.mark_plan(day, "executed")
    value = core.value(t)
    summary = {"date": day.isoformat(), "done": False, "planned_now": planned_now,
               "caught_up_days": t - first, "orders": len(outcomes),
               **{str(status): sum(o.status == status for o in outcomes) for status in Status},
               "reasons": dict(pd.Series([o.reason for o in outcomes if o.reason], dtype=object).value_counts()),
               "traded_value": sum(o.filled_qty * o.price for o in outcomes if o.fill),
               "costs": sum(o.fill.costs.charged for o in outcomes if o.fill),
               "cash": account.cash, "value": value, "positions": len(account.positions),
               "retries_left": len(planner.remaining)}
    if read is not None:
        summary["fills_file"] = {"profile": read.profile, "rows": read.rows, "fees_from_model": read.model_fees,
                                 "dated_by_run": read.dated_by_run, "skipped_rows": read.skipped_rows}
    led.log_run("execute", day, summary)
    return summary


def broker_account_ids(cfg) -> tuple[str, ...]:
    """The broker account this paper account trades, as exports name it (资金账号)."""
    import os

    from ashare_sim.paper.qmt import ENV_ACCOUNT
    return tuple(a for a in (os.environ.get(ENV_ACCOUNT), cfg.paper.qmt.account_id) if a)


def _broker_fills(led: Ledger, day: dt.date, requests: list[dict], cfg) -> dict[int, list[dict]]:
    """The fills a live broker reported for the day's plan; refused while an order is open, or when the
    plan was never sent, or when the broker filled more than an order asked (nothing is executed then)."""
    from ashare_sim.paper.live import OverFilled, broker_fills_by_request, broker_orders, open_orders, unaccounted

    sent = broker_orders(led, day)
    if requests and not sent:
        raise UserError(f"--date {day}: the plan was not sent to the broker ({cfg.paper.adapter}); "
                        f"`paper run --date {day}` sends it, follows it and executes the day")
    still = open_orders(led, day)
    if still:
        raise UserError(f"--date {day}: {len(still)} order(s) still open at the broker (e.g. {still[0]['side']} "
                        f"{still[0]['qty']} {still[0]['symbol']}); `paper run --date {day}` follows them to the end")
    short = unaccounted(led, day)
    if short:
        raise UserError(f"--date {day}: the broker filled {short[0]['filled']:,} of its {short[0]['side']} of "
                        f"{short[0]['symbol']} but reported fills of {short[0]['booked']:,}; `paper run --date {day}` "
                        f"records the rest, or record the day's export with `paper execute --date {day} --fills FILE`")
    fills = broker_fills_by_request(led, day, cfg.paper.qmt.fees)
    for i, rows in fills.items():
        got = sum(f["qty"] for f in rows)
        if got > int(requests[i]["qty"]):
            raise OverFilled(f"--date {day}: the broker reports {got:,} shares filled for the {requests[i]['side']} "
                             f"of {requests[i]['qty']:,} {requests[i]['symbol']}; more than the order: check the "
                             "broker account (nothing was executed)")
    return fills


def _write_day(led: Ledger, market, core: ExecutionCore, events: list, source: str) -> None:
    iso = lambda d: d.isoformat() if d is not None else None  # noqa: E731
    led.insert("orders", [{"date": iso(r.date), "symbol": r.symbol, "side": r.side, "requested_qty": r.requested_qty,
                           "filled_qty": r.filled_qty, "price": None if math.isnan(r.price) else r.price,
                           "status": r.status, "reason": str(r.reason), "rebalance_date": iso(r.rebalance_date),
                           "attempt": r.attempt} for r in core.order_log])
    led.insert("fills", [{"date": iso(r.date), "symbol": r.symbol, "side": r.side, "qty": r.qty, "price": r.price,
                          "commission": r.commission, "stamp_duty": r.stamp_duty, "transfer_fee": r.transfer_fee,
                          "slippage": r.slippage, "kind": r.kind,
                          "participation": None if math.isnan(r.participation) else r.participation,
                          "source": source if r.kind == "fill" else "market"} for r in core.trade_log])
    balance = led.rows("SELECT balance FROM cash_ledger ORDER BY id DESC LIMIT 1")[0]["balance"]
    entries = []
    for t, ev in events:
        day = market.date_at(t).isoformat()
        for e in ev.entitlements:
            if e.cash:
                entries.append((day, "dividend", str(market.symbols[e.sid]), e.cash))
    for r in core.trade_log:
        notional = r.qty * r.price
        fees = r.fees
        kind = "delist" if r.kind == "delist" else r.side
        entries.append((r.date.isoformat(), kind, r.symbol, -(notional + fees) if r.side == Side.BUY else notional - fees))
    entries.sort(key=lambda e: e[0])                    # a day's dividends are paid before its trades
    rows = []
    for day, kind, symbol, amount in entries:
        balance += amount
        rows.append({"date": day, "kind": kind, "symbol": symbol, "amount": amount, "balance": balance})
    led.insert("cash_ledger", rows)
    if abs(balance - core.account.cash) > 1e-4:
        raise RuntimeError(f"cash ledger {balance:.6f} disagrees with the account {core.account.cash:.6f}")
    led.insert("equity", [{"date": market.date_at(t).isoformat(), "value": v, "cash": c} for t, v, c in core.equity_log])
    led.replace_positions(position_rows(core.account))


# ----- status -----------------------------------------------------------------------------------
def status(led: Ledger) -> dict[str, Any]:
    acct = led.account()
    if acct is None:
        raise UserError(f"--account {led.path}: no account in it yet; `paper plan --date D` starts one")
    equity = led.rows("SELECT * FROM equity ORDER BY date DESC LIMIT 1")
    positions = led.positions()
    value = equity[0]["value"] if equity else acct["cash"]
    pending = led.rows("SELECT requests FROM plans WHERE status = 'planned' AND date > ? ORDER BY date LIMIT 1",
                       acct["last_date"] or "")
    open_orders = (len(json.loads(pending[0]["requests"])) if pending
                   else len(json.loads(acct["planner"]).get("remaining", [])))
    runs = led.rows("SELECT command, date, at, summary FROM runs ORDER BY id DESC LIMIT 5")
    return {
        "account": acct["name"], "start_date": acct["start_date"], "start_cash": acct["start_cash"],
        "last_date": acct["last_date"], "cash": acct["cash"], "value": value,
        "pnl": value - acct["start_cash"], "return": value / acct["start_cash"] - 1.0,
        "positions": [{"symbol": p["symbol"], "qty": p["qty"], "sellable_qty": p["qty"] - p["locked"],
                       "avg_cost": p["cost"]} for p in sorted(positions, key=lambda p: p["symbol"])],
        "open_orders": open_orders,
        "last_runs": [{"command": r["command"], "date": r["date"], "at": r["at"], **json.loads(r["summary"])}
                      for r in runs],
        "schema_version": led.schema_version(), "market": acct["market"],
    }


__all__ = ["plan_day", "execute_day", "status", "parse_day", "Position"]
