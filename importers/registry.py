"""Importers by name. A new source is one class and one line here."""
from __future__ import annotations

import importlib

from core.errors import UserError
from importers.base import Importer, hint

IMPORTERS: dict[str, str] = {
    "qlib": "importers.qlib:QlibImporter",
    "tushare": "importers.tushare:TushareImporter",
    "baostock": "importers.baostock:BaoStockImporter",
    "akshare": "importers.akshare:AKShareImporter",
    "eastmoney": "importers.eastmoney:EastMoneyImporter",
    "xbx": "importers.xbx:XbxImporter",
    "shenwan": "importers.shenwan:ShenwanImporter",
    "table": "importers.table:TableImporter",
}


def importer_class(name: str) -> type[Importer]:
    """The class registered as `name`; UserError with a did-you-mean for an unknown one."""
    target = IMPORTERS.get(name)
    if target is None:
        raise UserError(f"unknown source '{name}'{hint(name, IMPORTERS)}; sources: {', '.join(IMPORTERS)}")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def sources_giving(kind: str) -> list[str]:
    return [n for n in IMPORTERS if kind in importer_class(n).gives]
