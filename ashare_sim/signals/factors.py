"""The factors of the composite: one registered class per factor, each with its name (the value in
`strategy.factors.use`), a one-line description, the optional data it reads (`inputs`: fundamentals,
dividends, total_shares; a factor whose input is missing drops out with a warning), its own parameters
(keys of `strategy.factors`) and `compute`, its raw value at a signal day, oriented so higher is better.

Adding a factor is one class here (in the composite's default order) and its line in config.yaml.

    FACTORS.names()                    # in the default order of strategy.factors.use
    factors_needing("fundamentals")    # the factors that drop without the fundamentals table
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ashare_sim.common.registry import Model, Registry
from ashare_sim.common.typed import Section, key
from ashare_sim.signals import price_factors as pf
from ashare_sim.signals import value

if TYPE_CHECKING:
    from ashare_sim.signals.fundamentals import Snapshot
    from ashare_sim.signals.pipeline import FactorInputs

FACTORS = Registry("factor", "strategy.factors.use", "strategy.factors")


class Factor(Model):
    inputs: ClassVar[tuple[str, ...]] = ()            # optional tables / bar columns it reads

    def compute(self, x: "FactorInputs", t: int, snap: "Snapshot | None", cols: np.ndarray | None) -> np.ndarray:
        """The raw factor over every symbol at signal day t (`cols`: the universe, for costly factors)."""
        raise NotImplementedError


@FACTORS.register
class BookToPrice(Factor):
    name = "book_to_price"
    description = "book equity of the latest report known at the signal close / total market cap"
    inputs = ("fundamentals", "total_shares")

    def compute(self, x, t, snap, cols):
        return value.book_to_price(snap.equity, x.market.market_cap[t])


@FACTORS.register
class DividendYield(Factor):
    name = "dividend_yield"
    description = "trailing 12-month cash dividends per share (restated for bonus issues) / the signal close"
    inputs = ("dividends",)

    def compute(self, x, t, snap, cols):
        m = x.market
        every = np.arange(m.n_symbols)
        last = np.maximum(x.trp.last[t], 0)
        price = np.where(x.trp.last[t] >= 0, m.close[last, every], np.nan)
        shares = m.total_shares[last, every]
        return x.divs.dividend_yield(m.dates[t], price, shares)


@FACTORS.register
class Roe(Factor):
    name = "roe"
    description = "trailing 12-month net profit / average equity (point in time)"
    inputs = ("fundamentals",)

    def compute(self, x, t, snap, cols):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(snap.avg_equity > 0, snap.ttm_profit / snap.avg_equity, np.nan)


@FACTORS.register
class Sue(Factor):
    name = "sue"
    description = "standardized unexpected earnings: the quarter's profit less a year before, over 8 quarters' std"
    inputs = ("fundamentals",)

    def compute(self, x, t, snap, cols):
        return snap.sue


@FACTORS.register
class ProfitGrowth(Factor):
    name = "profit_growth"
    description = "TTM net profit growth year on year (latest report known at the signal close)"
    inputs = ("fundamentals",)

    def compute(self, x, t, snap, cols):
        return snap.growth


@FACTORS.register
class AnnouncementGap(Factor):
    name = "announcement_gap"
    description = "the open / pre_close - 1 of the first trading day after the latest report's announcement"
    inputs = ("fundamentals",)

    def compute(self, x, t, snap, cols):
        return pf.announcement_gap(x.market, t, snap.last_ann)


@FACTORS.register
class Amihud(Factor):
    name = "amihud"
    description = "log Amihud illiquidity: mean |daily return| / amount (CNY) over the last amihud_days"

    @dataclass(frozen=True)
    class Params(Section):
        amihud_days: int = key(20, "window of Amihud illiquidity", ge=5)

    def compute(self, x, t, snap, cols):
        a = pf.amihud(x.market, t, int(x.fcfg.amihud_days))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(a > 0, np.log(a), np.nan)


@FACTORS.register
class ResidualVol(Factor):
    name = "residual_vol"
    description = "Fama-French three-factor residual volatility over residual_vol_days, negated"

    @dataclass(frozen=True)
    class Params(Section):
        residual_vol_days: int = key(60, "window of the FF3 regression", ge=10)

    def compute(self, x, t, snap, cols):
        return -pf.residual_vol(x.market, t, int(x.fcfg.residual_vol_days), x.ff, cols)


@FACTORS.register
class Size(Factor):
    name = "size"
    description = "-log(total market cap): the smaller the cap, the higher"
    inputs = ("total_shares",)

    def compute(self, x, t, snap, cols):
        return value.size(x.market.market_cap[t])


def factors_needing(piece: str) -> list[str]:
    """The factors that drop without the table or bar column `piece`."""
    return [name for name, cls in ((n, FACTORS.get(n)) for n in FACTORS) if piece in cls.inputs]


def factor_inputs(name: str) -> tuple[str, ...]:
    return FACTORS.get(name).inputs
