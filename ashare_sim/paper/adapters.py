"""Who fills a paper plan, chosen by `paper.adapter`: one small class per adapter, registered by name.

- `simulated`: the day's bars under the broker rules of the config (the backtest's execution core).
- `basket`: a basket CSV for a broker terminal (`paper plan --basket FILE`) and the fills CSV the
  user exports after trading (`paper execute --fills FILE`); see `paper.basket`.
- `qmt` (xtquant / miniQMT) and `easytrader`: the live seam. Not available in this build: choosing
  them raises a clear error and never fakes a fill. A live adapter would read its credentials only
  from environment variables (QMT: `QMT_PATH`, `QMT_ACCOUNT_ID`; easytrader: `EASYTRADER_USER`,
  `EASYTRADER_CONFIG`), never from config files or the account.
"""
from __future__ import annotations

from ashare_sim.common.errors import UserError
from ashare_sim.common.registry import Registry

ADAPTERS: Registry = Registry("paper adapter", "paper.adapter")


@ADAPTERS.register("simulated")
class Simulated:
    name = "simulated"
    needs_fills = False

    def check(self) -> None:
        return None


@ADAPTERS.register("basket")
class Basket:
    name = "basket"
    needs_fills = True

    def check(self) -> None:
        return None


class _Live:
    name = ""
    env: tuple[str, ...] = ()

    def check(self) -> None:
        raise UserError(f"paper.adapter: '{self.name}' (a live broker) is not available in this build; use "
                        f"'simulated', or 'basket' with --basket / --fills files. A live build would read its "
                        f"credentials from the environment ({', '.join(self.env)}) only")


@ADAPTERS.register("qmt")
class Qmt(_Live):
    name = "qmt"
    env = ("QMT_PATH", "QMT_ACCOUNT_ID")


@ADAPTERS.register("easytrader")
class EasyTrader(_Live):
    name = "easytrader"
    env = ("EASYTRADER_USER", "EASYTRADER_CONFIG")


def adapter(name: str):
    a = ADAPTERS.get(name)()
    a.check()
    return a
