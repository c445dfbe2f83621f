"""Shenwan (申万) industry classification history.

    history   symbol, start_date, industry_code      (6-digit codes; SW2014 before 2021, SW2021 after)
    codes     行业代码, 一级行业名称[, 二级行业名称, 三级行业名称]   (option codes=PATH; default
              industry_sw2021_codes.csv beside the history)

Gives industry_history (each dated code with its level-1 name); the instruments `industry` column is
the latest level-1 name of each stock.
"""
from __future__ import annotations

from pathlib import Path

from ashare_sim.common.errors import DataError
from ashare_sim.data.importers.base import IMPORTERS, Importer, ImportLog, Tables
from ashare_sim.data.importers.common.files import (
    Col,
    drop_exact_duplicates,
    read_mapped,
)
from ashare_sim.data.importers.common.industry import level1_names

HISTORY = [Col.of("symbol", kind="symbol"), Col.of("start_date", kind="date"),
           Col.of("industry_code", kind="text")]
CODES = [Col.of("code", "行业代码", kind="text"), Col.of("level1", "一级行业名称", kind="text")]
DEFAULT_CODES = "industry_sw2021_codes.csv"


@IMPORTERS.register
class ShenwanImporter(Importer):
    name = "shenwan"
    description = "Shenwan (申万) industry classification history"
    gives = ("industry_history",)
    path_options = ("codes",)
    options = {"codes": f"the code table (行业代码, 一级行业名称); default {DEFAULT_CODES} beside the history"}
    expects = "symbol, start_date, industry_code (+ a 行业代码 / 一级行业名称 code table)"

    def read(self, path: Path, log: ImportLog) -> Tables:
        hist = read_mapped(path, HISTORY, "shenwan history")
        hist = drop_exact_duplicates(hist, ["symbol", "start_date"], str(path), log, "industry")
        codes_path = Path(str(self.option("codes") or path.with_name(DEFAULT_CODES)))
        if not codes_path.exists():
            raise DataError(f"{codes_path}: no Shenwan code table (行业代码, 一级行业名称) for the level-1 names; "
                            "give it with the option codes=PATH")
        codes = read_mapped(codes_path, CODES, "shenwan codes", language="zh")
        hist["industry"] = level1_names(hist["industry_code"], codes)
        unnamed = int(hist["industry"].isna().sum())
        if unnamed:
            log.note(f"{path}: {unnamed:,} dated code(s) whose level-1 group is not in {codes_path.name} "
                     "(older Shenwan scheme): kept with an empty industry name")
        return {"industry_history": hist}
