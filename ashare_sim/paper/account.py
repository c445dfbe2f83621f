"""A paper account as one object: plan, execute and read a day at a time on the SQLite ledger.

    acct = PaperAccount("acct.db", cfg, market)
    acct.plan("2022-12-01")                      # the orders for that trading day (the account starts here)
    acct.execute("2022-12-01")                   # filled on that day's bars (or fills=PATH from a broker)
    acct.status()                                # positions, cash, value, P&L, open orders

Each call is one transaction on the ledger (paper.session does the work; the command line calls the
same methods).
"""
from __future__ import annotations

import datetime as dt
import json
from enum import IntEnum
from pathlib import Path
from typing import Any

from ashare_sim.common.errors import UserError
from ashare_sim.paper.adapters import adapter
from ashare_sim.paper.basket import write_basket
from ashare_sim.paper.ledger import Ledger
from ashare_sim.paper.live import check_clock, connect, refuse_unknown_holdings, session_lock
from ashare_sim.paper.session import (
    close_before,
    day_index,
    execute_day,
    parse_day,
    plan_day,
    status,
)


class PaperAccount:
    def __init__(self, path: str | Path, cfg, market=None):
        self.path = Path(path)
        self.cfg = cfg
        self.market = market          # a Market, or a function that reads it (plan and execute need it)

    def plan(self, date: str | dt.date, basket: str | Path | None = None) -> dict[str, Any]:
        """Plan trading day `date` (replacing an earlier plan for it); with `basket`, also write the orders as a
        basket CSV for a broker terminal. Returns the plan's summary (`orders`: the planned orders)."""
        day = _day(date)
        if adapter(self.cfg.paper.adapter).name == "basket" and not basket:
            raise UserError("paper.adapter basket: give --basket FILE to write the day's orders for the terminal")
        basket = check_basket_path(Path(basket)) if basket else None
        market = self._market()
        close_before(market, day)                   # a bad date fails before the account is opened
        with Ledger.open(self.path, create=True, timeout=self.cfg.paper.lock_timeout) as led:
            summary = plan_day(led, market, self.cfg, day)
        if basket is not None:      # after the commit: a basket exists only for a plan the account holds
            write_basket(basket, self.cfg.paper.account_name, summary["orders"])
            self._log_basket(day, basket)
        return summary

    def _log_basket(self, day: dt.date, basket) -> None:
        """A basket written is a plan that went out: no later day is planned before this one is executed."""
        with Ledger.open(self.path, create=False, timeout=self.cfg.paper.lock_timeout) as led:
            led.log_run("basket", day, {"file": str(basket)})

    def execute(self, date: str | dt.date, fills: str | Path | None = None,
                allow_duplicate_fills: bool = False, fills_profile: str | None = None,
                allow_empty_fills: bool = False) -> dict[str, Any]:
        """Execute trading day `date`: its plan filled on the day's bars, or the broker's `fills` CSV recorded
        (read with `fills_profile`, default `paper.fills.profile`; an exact repeat of a fill row is refused
        unless `allow_duplicate_fills`)."""
        day = _day(date)
        if adapter(self.cfg.paper.adapter).needs_fills and not fills:
            raise UserError("paper.adapter basket: give --fills FILE, the fills exported from the terminal")
        if not self.path.exists():           # before the market is read (the embedded one is generated once)
            raise UserError(f"--account {self.path}: no such paper account; `paper plan` creates one")
        market = self._market()
        with Ledger.open(self.path, create=False, timeout=self.cfg.paper.lock_timeout) as led:
            return execute_day(led, market, self.cfg, day, Path(fills) if fills else None, allow_duplicate_fills,
                               fills_profile, allow_empty_fills)

    def run(self, date: str | dt.date, basket: str | Path | None = None, fills: str | Path | None = None,
            fills_profile: str | None = None, broker=None, times=None, allow_duplicate_fills: bool = False,
            allow_empty_fills: bool = False) -> dict[str, Any]:
        """The whole of trading day `date`, for a scheduler: plan it (unless a current plan exists), then by
        `paper.adapter`: fill it on the day's bars (`simulated`); write the basket, or execute the `fills`
        exported after trading (`basket`); or send it to the broker, follow it to the end, execute the day
        from the broker's fills and reconcile (`qmt`; `broker` and `times` replace the configured client and
        clock, for tests). Returns the summaries and `status`, a RunStatus."""
        day = _day(date)
        cfg = self.cfg
        # A basket or a fills file is the basket route, whatever adapter is configured.
        filler = adapter("basket" if basket or fills else cfg.paper.adapter, Path(fills) if fills else None)
        market = self._market()
        out: dict[str, Any] = {"date": day.isoformat(), "adapter": filler.name}
        if not _is_trading_day(market, day):
            if fills:
                raise UserError(f"--date {day}: not a trading day; the fills in {fills} were not recorded")
            return out | {"status": RunStatus.NOTHING_TO_DO, "message": f"{day} is not a trading day"}
        acct = plan = None
        unfinished: list[str] = []
        reconciled = True
        if self.path.exists():
            with Ledger.open(self.path, create=False, write=False, timeout=cfg.paper.lock_timeout) as led:
                acct, plan = led.account(), led.plan(day)
                if led.account() is not None and led.has_table("broker_orders"):    # schema 1: migrated on write
                    from ashare_sim.paper.live import unfinished_days
                    unfinished = unfinished_days(led, day)
                    reconciled = bool(led.rows("SELECT 1 FROM runs WHERE command = 'reconcile' AND date = ?",
                                               day.isoformat()))
        last = parse_day(acct["last_date"]) if acct and acct["last_date"] else None
        if unfinished:
            return out | {"status": RunStatus.WAITING, "message": f"the orders of {unfinished[0]} went out (to the "
                          f"broker, or as a basket) but that day is not executed: `paper run --account {self.path} "
                          f"--date {unfinished[0]}` first (with its fills, or once the market data has it)"}
        if last is not None and day <= last:
            if day == last:
                if fills:
                    raise UserError(f"--date {day}: already executed; the fills in {fills} were not recorded (a day "
                                    "is executed once)")
                if filler.live and not reconciled:       # a run that stopped between execute and reconcile
                    return self._reconcile_only(day, filler, broker, times, out)
                return out | {"status": RunStatus.NOTHING_TO_DO, "message": f"{day} is already executed"}
            raise UserError(f"--date {day}: before the last executed day {last}; the account moves forward only")
        if filler.live:                 # the client is configured and reachable before anything is written
            broker = broker or filler.broker(cfg.paper.qmt)
            times = times or session_times(cfg.paper.qmt)
            self._lock = session_lock(self.path)
            self._lock.__enter__()
            try:
                sent = False
                if self.path.exists():
                    with Ledger.open(self.path, create=False, write=False, timeout=cfg.paper.lock_timeout) as led:
                        sent = led.has_table("broker_orders") and bool(
                            led.rows("SELECT 1 FROM broker_orders WHERE date = ? LIMIT 1", day.isoformat()))
                if not sent:                      # a day that would send now: the clock first, nothing written
                    check_clock(day, times, self.path)
                connect(broker, times)
                held = broker.positions()
                if self.path.exists():
                    with Ledger.open(self.path, create=False, write=False, timeout=cfg.paper.lock_timeout) as led:
                        refuse_unknown_holdings(led, led.account(), held, broker)
                else:
                    refuse_unknown_holdings(None, None, held, broker, self.path)
            except BaseException:
                self._release(broker)
                raise
        current = plan is not None and plan["status"] == "planned" and plan["based_on"] == (acct or {}).get("last_date")
        if fills and not current:
            raise UserError(f"--fills: there is no current plan for {day} to match the fills against; run "
                            f"`paper run --date {day}` before trading to plan it")
        try:
            return self._plan_and_go(day, basket, fills, fills_profile, broker, times, filler, out, current, plan,
                                     (allow_duplicate_fills, allow_empty_fills))
        finally:
            if filler.live:
                self._release(broker)

    def _plan_and_go(self, day, basket, fills, fills_profile, broker, times, filler, out, current, plan,
                     fills_options: tuple[bool, bool]):
        cfg = self.cfg
        if not current:
            out["plan"] = self.plan(day, basket=basket if filler.name == "basket" else None)
            orders = len(out["plan"]["orders"])
        else:
            orders = len(json.loads(plan["requests"]))
            if basket and not fills:
                write_basket(check_basket_path(Path(basket)), cfg.paper.account_name, json.loads(plan["requests"]))
                self._log_basket(day, basket)
        if filler.needs_fills and not fills:
            written = f"the basket is written to {basket}" if basket else "planned"
            return out | {"status": RunStatus.WAITING, "message": f"{written}: trade it, export the fills, then "
                          f"`paper run --account {self.path} --date {day} --fills FILE` (with this config)"}
        if not filler.live and day_index(self._market(), day) is None:
            return out | {"status": RunStatus.WAITING, "message": f"planned; the market data has no bars for {day} "
                          f"yet: update it, then `paper run --account {self.path} --date {day}` executes the day"}
        if filler.live:
            live = self._run_live(day, self._market(), broker, times, out)
            if live is not None:
                return live
        else:
            dup, empty = fills_options
            out["execute"] = self.execute(day, fills=fills, fills_profile=fills_profile, allow_duplicate_fills=dup,
                                          allow_empty_fills=empty)
        ex = out["execute"]
        if out.get("differences"):
            status = RunStatus.MISMATCH
        elif orders == 0:
            status = RunStatus.NOTHING_TO_DO
        elif ex.get("partial", 0) or ex.get("rejected", 0):
            status = RunStatus.PARTIAL
        else:
            status = RunStatus.DONE
        return out | {"status": status}

    def _run_live(self, day, market, broker, times, out) -> dict[str, Any] | None:
        """Send, follow, execute and reconcile; a dict when the run ends before the day is executed."""
        from ashare_sim.paper.live import OverFilled, trade_day

        cfg = self.cfg
        session = trade_day(self.path, market, cfg, day, broker, times, cfg.paper.qmt.limit_band)
        out["session"] = session.as_dict()
        if session.open_orders:
            return out | {"status": RunStatus.WAITING, "message": f"{session.open_orders} order(s) still open at the "
                          f"broker after their cancel; `paper run --date {day}` again follows them"}
        if session.over_fills:
            return out | {"status": RunStatus.MISMATCH, "message": f"{session.over_fills} order(s) with more shares in "
                          "the broker's fills than they asked for (an order sent twice?); nothing was executed: "
                          "check the broker account"}
        if session.missing_fills:
            return out | {"status": RunStatus.WAITING, "message": f"{session.missing_fills} order(s) filled at the "
                          "broker whose fills were not all reported yet; run again to record them"}
        if day_index(market, day) is None:
            return out | {"status": RunStatus.WAITING, "message": f"the broker's fills are recorded; the market data "
                          f"has no bars for {day} yet: update it, then `paper run --date {day}` executes the day"}
        try:
            out["execute"] = self.execute(day)
        except OverFilled as exc:
            return out | {"status": RunStatus.MISMATCH, "message": str(exc)}
        self._reconcile(day, broker, out)
        return None

    def _reconcile(self, day, broker, out) -> None:
        from ashare_sim.paper.live import reconcile

        differences = reconcile(self.path, broker, self.cfg.paper.qmt.cash_tolerance)
        out["differences"] = [d.text() for d in differences]
        with Ledger.open(self.path, create=False, timeout=self.cfg.paper.lock_timeout) as led:
            led.log_run("reconcile", day, {"differences": out["differences"]})

    def _reconcile_only(self, day, filler, broker, times, out) -> dict[str, Any]:
        from ashare_sim.paper.live import connect

        broker = broker or filler.broker(self.cfg.paper.qmt)
        try:
            connect(broker, times or session_times(self.cfg.paper.qmt))
            self._reconcile(day, broker, out)
        finally:
            broker.close()
        status = RunStatus.MISMATCH if out["differences"] else RunStatus.DONE
        return out | {"status": status, "message": f"{day} was executed; reconciled now"}

    def _release(self, broker) -> None:
        try:
            if broker is not None:
                broker.close()
        finally:
            lock, self._lock = getattr(self, "_lock", None), None
            if lock is not None:
                lock.__exit__(None, None, None)

    def status(self) -> dict[str, Any]:
        """Positions, cash, value, P&L since the start, open orders and the last runs."""
        with Ledger.open(self.path, create=False, write=False) as led:
            return status(led)

    def _market(self):
        if self.market is None:
            raise UserError("PaperAccount: give the market the account trades (plan and execute read its bars)")
        if callable(self.market):
            self.market = self.market()
        return self.market


class RunStatus(IntEnum):
    """The exit status of `paper run`, for a scheduler to act on."""
    DONE = 0                # every order filled (and, with a broker, the ledger equals it)
    ERROR = 1               # something failed that is not the input's fault (the broker, the machine)
    BAD_INPUT = 2           # a config, date, file or account the command refuses (nothing written)
    NOTHING_TO_DO = 3       # not a trading day, already executed, or a plan without orders
    PARTIAL = 4             # executed; some orders were not (fully) filled: their remainders are retried
    MISMATCH = 5            # executed; the broker's positions or cash differ from the ledger (listed)
    WAITING = 6             # waiting for the basket's fills, or for the market data of the day


def session_times(qmt):
    from ashare_sim.paper.adapters import parse_clock
    from ashare_sim.paper.live import SessionTimes

    return SessionTimes(parse_clock(qmt.cancel_at), qmt.final_wait, qmt.confirm_wait,
                        reconnect_tries=qmt.reconnect_tries, reconnect_wait=qmt.reconnect_wait,
                        clock_check=qmt.clock_check)


def _is_trading_day(market, day: dt.date) -> bool:
    if day_index(market, day) is not None:
        return True
    if day <= market.date_at(market.n_days - 1):
        return False
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XSHG")
    return cal.first_session.date() <= day <= cal.last_session.date() and cal.is_session(day.isoformat())


def check_basket_path(path: Path) -> Path:
    if path.is_dir():
        raise UserError(f"--basket {path}: is a directory; give a file path for the basket CSV")
    if not path.parent.is_dir():
        raise UserError(f"--basket {path}: the folder {path.parent} does not exist")
    return path


def _day(date: str | dt.date) -> dt.date:
    """A trading day from text, a date, a datetime or a pandas Timestamp."""
    if isinstance(date, dt.datetime):            # pandas Timestamps are datetimes too
        return date.date()
    if isinstance(date, dt.date):
        return date
    return parse_day(str(date))
