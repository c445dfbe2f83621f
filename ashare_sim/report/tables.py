"""Report tables: number formatting and small HTML table builders (escaped, no external assets)."""
from __future__ import annotations

import html
import math
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np
import pandas as pd

NA = '<span class="na">—</span>'


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def pct(x: Any, decimals: int = 1, signed: bool = False) -> str:
    """0.1234 -> '12.3%'; negatives get the `neg` class; None -> dash."""
    v = _f(x)
    if v is None:
        return NA
    if round(v * 100, decimals) == 0:
        v = 0.0  # no '-0.0%'
    s = f"{v:+.{decimals}%}" if signed else f"{v:.{decimals}%}"
    return f'<span class="neg">{s}</span>' if v < 0 else s


def num(x: Any, decimals: int = 2) -> str:
    v = _f(x)
    if v is None:
        return NA
    s = f"{v:,.{decimals}f}"
    return f'<span class="neg">{s}</span>' if v < 0 else s


def cny(x: Any) -> str:
    """Amount in CNY with thousands separators, no decimals."""
    v = _f(x)
    return NA if v is None else f"¥{v:,.0f}"


def text(x: Any) -> str:
    return NA if x is None or (isinstance(x, float) and math.isnan(x)) else html.escape(str(x))


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "",
          first_col_text: bool = True) -> str:
    """An HTML table from already formatted cells (headers are escaped, cells are trusted HTML)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            tag_cls = ' class="t"' if (i == 0 and first_col_text) else ""
            cells.append(f"<td{tag_cls}>{c}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def heat_color(v: float | None, scale: float) -> str:
    """Background for a monthly return cell: green above 0, red below, intensity by |v| / scale."""
    if v is None or not math.isfinite(v) or scale <= 0:
        return "#f6f7f9"
    a = min(1.0, abs(v) / scale)
    base = (46, 139, 87) if v >= 0 else (192, 57, 43)
    r, g, b = (round(255 + (c - 255) * a * 0.85) for c in base)
    return f"rgb({r},{g},{b})"


def _cell_pct(v: float | None) -> str:
    """Heat-map cell text: one decimal percent, empty when missing, never '-0.0%'."""
    if v is None:
        return ""
    return f"{0.0 if round(v * 100, 1) == 0 else v:.1%}"


def heatmap_table(monthly: pd.Series, yearly: dict[int, float | None], label: str) -> str:
    """Years x months table of `monthly` (index Period 'M'), with a year column from `yearly`."""
    if monthly is None or monthly.dropna().empty:
        return ""
    s = monthly.dropna()
    scale = float(np.nanpercentile(np.abs(s.to_numpy()), 95)) or 0.01
    years = sorted({p.year for p in s.index})
    head = "".join(f"<th>{m}</th>" for m in
                   ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"))
    rows = []
    for y in years:
        cells = [f'<td class="t">{y}</td>']
        for m in range(1, 13):
            p = pd.Period(year=y, month=m, freq="M")
            v = _f(s.get(p))
            cells.append(f'<td style="background:{heat_color(v, scale)}">{_cell_pct(v)}</td>')
        yv = _f(yearly.get(y))
        cells.append(f'<td class="yr" style="background:{heat_color(yv, scale * 3)}">'
                     f'{_cell_pct(yv)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="heat"><thead><tr><th>{html.escape(label)}</th>{head}<th>Year</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def frame_table(df: pd.DataFrame, formats: dict[str, Callable[[Any], str]], index_label: str = "",
                cls: str = "") -> str:
    """A DataFrame as a table, one formatter per column (missing formatter = escaped text)."""
    headers = ([index_label] if index_label is not None else []) + [str(c) for c in df.columns]
    rows = []
    for idx, row in df.iterrows():
        cells = [text(idx)] + [formats.get(c, text)(row[c]) for c in df.columns]
        rows.append(cells)
    return table(headers, rows, cls)


def cny_short(x: Optional[float]) -> str:
    """10000000 -> '10 M', 1.5e9 -> '1.5 bn' (CNY)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if abs(x) >= 1e9:
        return f"{x / 1e9:.3g} bn"
    if abs(x) >= 1e6:
        return f"{x / 1e6:.3g} M"
    return f"{x:,.0f}"
