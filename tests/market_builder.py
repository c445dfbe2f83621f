"""Build small markets in code for tests: a few stocks, a few days, exact bars.

    b = MarketBuilder(start="2021-01-04", days=5)
    b.stock("600000.SH", close=[10, 10.5, 11, 11, 10.8])          # open=high=low=close
    b.bar("600000.SH", 2, open=11.55, high=11.55, low=11.55, close=11.55)
    b.suspend("600000.SH", 3)                                      # no row that day
    market = b.build()           # data.market.Market
    b.write(tmp_path)            # or a data directory (parquet or csv)
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from ashare_sim.data.market import Market, load_market


class MarketBuilder:
    def __init__(self, start: str = "2021-01-04", days: int = 10, dates: Sequence[str] | None = None):
        if dates is not None:
            self.dates = [pd.Timestamp(d) for d in dates]
        else:
            self.dates = list(pd.bdate_range(start, periods=days))
        self._instruments: dict[str, dict] = {}
        self._bars: dict[tuple[str, int], dict] = {}
        self._st: list[dict] = []
        self._fundamentals: list[dict] = []
        self._dividends: list[dict] = []
        self._benchmark: Optional[list[float]] = None

    # ----- stocks ----------------------------------------------------------
    def stock(self, symbol: str, close: Iterable[float | None], *, open: Iterable[float] | None = None,
              high: Iterable[float] | None = None, low: Iterable[float] | None = None,
              volume: float | Iterable[float] = 1_000_000, adj_factor: float | Iterable[float] = 1.0,
              total_shares: float = 1e8, float_shares: float | None = None, list_date: str | None = "2000-01-04",
              delist_date: str | None = None, name: str | None = None, industry: str = "ind0",
              first_day: int = 0, pre_close: Iterable[float] | None = None) -> "MarketBuilder":
        """Bars from `first_day` on; a None close means no row (suspended)."""
        closes = list(close)
        n = len(closes)
        opens = _seq(open, closes, n)
        highs = _seq(high, None, n)
        lows = _seq(low, None, n)
        vols = _seq(volume, None, n)
        adjs = _seq(adj_factor, None, n)
        pres = _seq(pre_close, None, n)
        self._instruments[symbol] = {"symbol": symbol, "name": name or symbol, "industry": industry,
                                     "list_date": list_date or str(self.dates[first_day].date()),
                                     "delist_date": delist_date}
        for i, c in enumerate(closes):
            if c is None:
                continue
            o = opens[i] if opens[i] is not None else c
            h = highs[i] if highs[i] is not None else max(o, c)
            lo = lows[i] if lows[i] is not None else min(o, c)
            row = {"open": o, "high": h, "low": lo, "close": c, "volume": vols[i], "amount": vols[i] * (o + c) / 2,
                   "adj_factor": adjs[i], "total_shares": total_shares,
                   "float_shares": float_shares if float_shares is not None else total_shares}
            if pres[i] is not None:
                row["pre_close"] = pres[i]
            self._bars[(symbol, first_day + i)] = row
        return self

    def bar(self, symbol: str, day: int, **fields: float) -> "MarketBuilder":
        """Set fields of one bar (creating it from the day before when missing)."""
        row = self._bars.get((symbol, day))
        if row is None:
            prev = self._bars[(symbol, day - 1)]
            row = dict(prev)
            row.pop("pre_close", None)
        row.update(fields)
        self._bars[(symbol, day)] = row
        return self

    def suspend(self, symbol: str, *days: int) -> "MarketBuilder":
        for d in days:
            self._bars.pop((symbol, d), None)
        return self

    def st(self, symbol: str, start: str, end: str | None = None, kind: str = "ST") -> "MarketBuilder":
        self._st.append({"symbol": symbol, "start_date": start, "end_date": end, "kind": kind})
        return self

    def fundamental(self, symbol: str, period_end: str, ann_date: str, total_equity: float, net_profit: float,
                    revenue: float | None = None) -> "MarketBuilder":
        self._fundamentals.append({"symbol": symbol, "period_end": period_end, "ann_date": ann_date,
                                   "total_equity": total_equity, "net_profit": net_profit, "revenue": revenue})
        return self

    def dividend(self, symbol: str, ex_date: str, cash_per_share: float = 0.0,
                 bonus_per_share: float = 0.0) -> "MarketBuilder":
        self._dividends.append({"symbol": symbol, "ex_date": ex_date, "cash_per_share": cash_per_share,
                                "bonus_per_share": bonus_per_share})
        return self

    def benchmark(self, close: Iterable[float]) -> "MarketBuilder":
        self._benchmark = list(close)
        return self

    def day(self, i: int) -> str:
        return str(self.dates[i].date())

    # ----- outputs -------------------------------------------------------------
    def frames(self) -> dict[str, pd.DataFrame | None]:
        rows = [{"date": self.dates[d], "symbol": s, **r} for (s, d), r in sorted(self._bars.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
        bars = pd.DataFrame(rows)
        inst = pd.DataFrame(list(self._instruments.values()))
        return {
            "instruments": inst,
            "bars": bars,
            "st": pd.DataFrame(self._st) if self._st else None,
            "fundamentals": pd.DataFrame(self._fundamentals) if self._fundamentals else None,
            "dividends": pd.DataFrame(self._dividends) if self._dividends else None,
            "benchmark": pd.DataFrame({"date": self.dates[: len(self._benchmark)], "close": self._benchmark})
            if self._benchmark else None,
            "calendar": pd.DataFrame({"date": self.dates}),
        }

    def build(self, rules=None) -> Market:
        f = self.frames()
        return Market.from_frames(f["instruments"], f["bars"], st=f["st"], fundamentals=f["fundamentals"],
                                  dividends=f["dividends"], benchmark=f["benchmark"], calendar=f["calendar"],
                                  rules=rules)

    def write(self, directory: Path, fmt: str = "parquet") -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, df in self.frames().items():
            if df is None:
                continue
            df = df.copy()
            for col in df.columns:
                if col.endswith("date") or col in ("period_end",):
                    df[col] = pd.to_datetime(df[col]).dt.strftime("%Y-%m-%d").where(df[col].notna(), None)
            if fmt == "parquet":
                df.to_parquet(directory / f"{name}.parquet", index=False)
            else:
                df.to_csv(directory / f"{name}.csv", index=False)
        return directory

    def load(self, directory: Path, fmt: str = "parquet") -> Market:
        return load_market(self.write(directory, fmt))


def _seq(value, fallback, n: int) -> list:
    if value is None:
        return list(fallback) if fallback is not None else [None] * n
    if np.isscalar(value):
        return [value] * n
    out = list(value)
    if len(out) != n:
        raise ValueError(f"expected {n} values, got {len(out)}")
    return out


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
