"""Who fills a paper plan: one registered class per adapter, chosen by `paper.adapter`.

- `simulated`: the day's bars under the broker rules of the config (the backtest's execution core).
- `basket`: a basket CSV for a broker terminal (`paper plan --basket FILE`) and the fills CSV the user
  exports after trading (`paper execute --fills FILE`, which uses this adapter whatever is configured);
  see `paper.basket`.
- `qmt` (xtquant / miniQMT) and `easytrader`: the live seam. Not available in this build: choosing them
  raises a clear error and never fakes a fill. A live adapter would read its credentials only from
  environment variables, never from config files or the account.

An adapter `execute`s the day's order requests on the execution core and returns their outcomes, in
order; the session records them in the ledger.
"""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ashare_sim.common.errors import UserError
from ashare_sim.common.registry import Model, Registry

ADAPTERS = Registry("paper adapter", "paper.adapter", "paper")


class PaperAdapter(Model):
    needs_fills: ClassVar[bool] = False        # execute needs the broker's fills file
    source: ClassVar[str] = ""                 # the `source` column of the ledger's fills

    def check(self) -> None:
        """Refuse, before anything is written, an adapter that cannot run here."""

    def execute(self, core, requests: list, t: int, fills: dict | None = None) -> list:
        raise NotImplementedError


@ADAPTERS.register
class Simulated(PaperAdapter):
    name = "simulated"
    description = "fill each order on the day's bars under the broker rules and costs of the config"
    source = "simulated"

    def execute(self, core, requests, t, fills=None):
        return [core.execute(req, t) for req in requests]


@ADAPTERS.register
class Basket(PaperAdapter):
    name = "basket"
    description = "write the plan as a basket CSV for a broker terminal; record the fills CSV it exports"
    needs_fills = True
    source = "basket"

    def execute(self, core, requests, t, fills=None):
        fills = fills or {}
        return [core.book_external(req, t, fills.get(i, [])) for i, req in enumerate(requests)]


class _Live(PaperAdapter):
    env: ClassVar[tuple[str, ...]] = ()

    def check(self) -> None:
        raise UserError(f"paper.adapter: '{self.name}' (a live broker) is not available in this build; use "
                        f"'simulated', or 'basket' with --basket / --fills files. A live build would read its "
                        f"credentials from the environment ({', '.join(self.env)}) only")


@ADAPTERS.register
class Qmt(_Live):
    name = "qmt"
    description = "QMT / miniQMT through xtquant (not in this build)"
    env = ("QMT_PATH", "QMT_ACCOUNT_ID")


@ADAPTERS.register
class EasyTrader(_Live):
    name = "easytrader"
    description = "easytrader (not in this build)"
    env = ("EASYTRADER_USER", "EASYTRADER_CONFIG")


def adapter(name: str, fills_file: Path | None = None) -> PaperAdapter:
    """The adapter that fills a day: `basket` when the broker's fills are given, else `paper.adapter`."""
    a = ADAPTERS.get("basket" if fills_file is not None else name)()
    a.check()
    return a
