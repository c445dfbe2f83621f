"""Who fills a paper plan: one registered class per adapter, chosen by `paper.adapter`.

- `simulated`: the day's bars under the broker rules of the config (the backtest's execution core).
- `basket`: a basket CSV for a broker terminal (`paper plan --basket FILE`) and the fills CSV the user
  exports after trading (`paper execute --fills FILE`, which uses this adapter whatever is configured);
  see `paper.basket`.
- `qmt`: QMT / miniQMT through xtquant (`paper.qmt`, `paper.live`): `paper run` sends the plan, follows it,
  cancels what is unfilled at `paper.qmt.cancel_at`, and executes the day from the fills the broker
  reported. The account id comes from the environment or the config, never from a file this project writes.
- `easytrader`: not available in this build; choosing it says so and never fakes a fill.

An adapter `execute`s the day's order requests on the execution core and returns their outcomes, in
order; the session records them in the ledger.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal, Optional

from ashare_sim.common.errors import ConfigError, UserError
from ashare_sim.common.registry import Model, Registry
from ashare_sim.common.typed import Section, key

ADAPTERS = Registry("paper adapter", "paper.adapter", "paper")


class PaperAdapter(Model):
    needs_fills: ClassVar[bool] = False        # execute needs the broker's fills file
    live: ClassVar[bool] = False               # a live broker: `paper run` sends, follows and reconciles
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


@dataclass(frozen=True)
class QmtConfig(Section):
    path: Optional[str] = key(None, "the miniQMT client's userdata_mini folder (the QMT_PATH environment variable "
                                    "wins)")
    account_id: Optional[str] = key(None, "the broker account (the QMT_ACCOUNT_ID environment variable wins)")
    account_type: Literal["STOCK", "CREDIT"] = key("STOCK", "xtquant account type: STOCK (cash account) or CREDIT")
    session_id: Optional[int] = key(None, "xtquant session id; null = a new one from the clock on each connect",
                                    ge=1)
    api: str = key("xtquant", "the package that provides xttrader and xttype (a broker's own build may differ)")
    price_type: Literal["limit", "best5_cancel", "peer_best", "own_best"] = key(
        "limit", "limit = a limit order at the protective price | best5_cancel | peer_best | own_best = the "
                 "market order types the exchanges allow (SH/BJ 42 or SZ 47, 44, 45)")
    limit_band: Optional[float] = key(None, "protective price: last close x (1 +/- band), inside the day's limits; "
                                            "null = the day's limit price", gt=0, lt=1)
    cancel_at: str = key("14:55:00", "Beijing time at which what is unfilled is cancelled")
    final_wait: float = key(60.0, "seconds to wait for cancels to be confirmed before the session ends", ge=0)
    confirm_wait: float = key(3.0, "seconds to wait, after a run that stopped mid-send, before looking for its "
                                   "orders at the broker", ge=0)
    reconnect_tries: int = key(5, "connection attempts after a disconnect", ge=1)
    reconnect_wait: float = key(2.0, "seconds between connection attempts", ge=0)
    cash_tolerance: float = key(1.0, "CNY of difference between the broker's cash and the ledger's that reconcile "
                                     "lets pass (brokers round each fee to the cent; the ledger keeps the model's "
                                     "fractions of a cent)", ge=0)
    clock_check: bool = key(True, "send a day's orders only on that day before cancel_at (false only for a broker "
                                  "that replays past days)")
    fees: Literal["model", "broker"] = key("model", "fees of the broker's fills: the config's cost model, or the "
                                                    "commission the broker reports (stamp duty and transfer fee "
                                                    "from the model)")

    def check(self) -> None:
        if parse_clock(self.cancel_at) is None:
            raise ConfigError("cancel_at", f"'{self.cancel_at}' is not a time of day; write HH:MM or HH:MM:SS")


def parse_clock(text: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(str(text).strip())
    except ValueError:
        return None


@ADAPTERS.register
class Qmt(PaperAdapter):
    name = "qmt"
    description = "QMT / miniQMT through xtquant: orders sent with a remark, followed, cancelled at a set time"
    source = "qmt"
    live = True
    subsection = "qmt"
    Params = QmtConfig

    def execute(self, core, requests, t, fills=None):
        fills = fills or {}
        return [core.book_external(req, t, fills.get(i, [])) for i, req in enumerate(requests)]

    @staticmethod
    def broker(params, environ=None):
        from ashare_sim.paper.qmt import QmtBroker
        return QmtBroker(params, environ)


@ADAPTERS.register
class EasyTrader(PaperAdapter):
    name = "easytrader"
    description = "easytrader (not in this build)"

    def check(self) -> None:
        raise UserError("paper.adapter: 'easytrader' is not available in this build; use 'qmt' (miniQMT), "
                        "'simulated', or 'basket' with --basket / --fills files")


def adapter(name: str, fills_file: Path | None = None) -> PaperAdapter:
    """The adapter that fills a day: `basket` when the broker's fills are given, else `paper.adapter`."""
    a = ADAPTERS.get("basket" if fills_file is not None else name)()
    a.check()
    return a
