"""Importers by name: every source module registers its class in `IMPORTERS` (data.importers.base);
importing this module loads them all. A new source is one module with one registered class, and its
name in the import below."""
from __future__ import annotations

from ashare_sim.common.errors import UserError
from ashare_sim.common.text import did_you_mean
from ashare_sim.data.importers import (  # noqa: F401  (each registers its importer)
    akshare,
    baostock,
    eastmoney,
    qlib,
    shenwan,
    table,
    tushare,
    xbx,
)
from ashare_sim.data.importers.base import IMPORTERS, Importer


def importer_class(name: str) -> type[Importer]:
    """The class registered as `name`; UserError with a did-you-mean for an unknown one."""
    if name not in IMPORTERS:
        raise UserError(f"unknown source '{name}'{did_you_mean(name, IMPORTERS)}; sources: {', '.join(IMPORTERS)}")
    return IMPORTERS.get(name)


def sources_giving(kind: str) -> list[str]:
    return [n for n in IMPORTERS if kind in importer_class(n).gives]
