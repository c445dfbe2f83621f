"""Importers: other sources' files -> a market data directory (`python run.py data import`).

One module per source format (qlib, tushare, baostock, akshare, eastmoney, xbx, shenwan, table),
each a small `Importer` class registered by name in `data.importers.registry`; shared helpers in
`importers.common`; `plan` (what to import, checked before any work), `assemble` (merging the
sources into the data directory's tables) and `writer` (atomic output) do the rest.
"""
