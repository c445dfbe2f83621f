"""Importers by name. A new source is one class and one line here."""
from __future__ import annotations

import importlib

from ashare_sim.common.text import did_you_mean
from ashare_sim.common.errors import UserError
from ashare_sim.data.importers.base import Importer

IMPORTERS: dict[str, str] = {
    "qlib": "ashare_sim.data.importers.qlib:QlibImporter",
    "tushare": "ashare_sim.data.importers.tushare:TushareImporter",
    "baostock": "ashare_sim.data.importers.baostock:BaoStockImporter",
    "akshare": "ashare_sim.data.importers.akshare:AKShareImporter",
    "eastmoney": "ashare_sim.data.importers.eastmoney:EastMoneyImporter",
    "xbx": "ashare_sim.data.importers.xbx:XbxImporter",
    "shenwan": "ashare_sim.data.importers.shenwan:ShenwanImporter",
    "table": "ashare_sim.data.importers.table:TableImporter",
}


def importer_class(name: str) -> type[Importer]:
    """The class registered as `name`; UserError with a did-you-mean for an unknown one."""
    target = IMPORTERS.get(name)
    if target is None:
        raise UserError(f"unknown source '{name}'{did_you_mean(name, IMPORTERS)}; sources: {', '.join(IMPORTERS)}")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def sources_giving(kind: str) -> list[str]:
    return [n for n in IMPORTERS if kind in importer_class(n).gives]
