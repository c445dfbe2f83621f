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
from pathlib import Path
from typing import Any

from ashare_sim.common.errors import UserError
from ashare_sim.paper.adapters import adapter
from ashare_sim.paper.basket import write_basket
from ashare_sim.paper.ledger import Ledger
from ashare_sim.paper.session import (
    close_before,
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
        return summary

    def execute(self, date: str | dt.date, fills: str | Path | None = None,
                allow_duplicate_fills: bool = False, fills_profile: str | None = None) -> dict[str, Any]:
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
                               fills_profile)

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
