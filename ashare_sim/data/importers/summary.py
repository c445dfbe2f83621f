"""The summary an import prints: tables, rows, symbols, dates; what was left out and why; what is missing."""
from __future__ import annotations

import os

import numpy as np

from ashare_sim.data.importers.assemble import Assembled
from ashare_sim.data.importers.base import ImportLog


def facts(result: Assembled) -> dict[str, str]:
    b, t = result.bars, result.tables
    out = {"tables": ", ".join(sorted(["bars", *t]))}
    n_days = len(np.unique(b.day))
    out["bars"] = f"{len(b):,} rows, {len(b.symbols):,} symbols, {b.day.min()} .. {b.day.max()} ({n_days:,} days)"
    inst = t["instruments"]
    extra = f", industry for {int(inst['industry'].notna().sum()):,}" if "industry" in inst.columns else ""
    out["instruments"] = f"{len(inst):,} ({int(inst['delist_date'].notna().sum()):,} delisted){extra}"
    if "st" in t:
        kinds = t["st"]["kind"].value_counts()
        out["st"] = f"{len(t['st']):,} spells ({', '.join(f'{k} {v:,}' for k, v in kinds.items())})"
    if "fundamentals" in t:
        f = t["fundamentals"]
        out["fundamentals"] = (f"{len(f):,} rows, {f['symbol'].nunique():,} symbols, announced "
                               f"{f['ann_date'].min().date()} .. {f['ann_date'].max().date()}") if len(f) else "0 rows"
    if "dividends" in t:
        out["dividends"] = f"{len(t['dividends']):,} ex-dates"
    if "benchmark" in t:
        bm = t["benchmark"]
        out["benchmark"] = f"{len(bm):,} rows ({', '.join(map(str, dict.fromkeys(bm['index'])))})"
    if "industry_history" in t:
        out["industry_history"] = f"{len(t['industry_history']):,} dated labels"
    if "calendar" in t:
        out["calendar"] = f"{len(t['calendar']):,} days"
    return out


def render(out: str, seconds: float, result: Assembled, log: ImportLog) -> str:
    f = facts(result)
    width = max(len(k) for k in f)
    lines = [f"{out}: imported in {seconds:.1f} s"] + [f"  {k:<{width}}  {v}" for k, v in f.items()]
    if log.skipped:
        lines.append("left out (rows, by cause and file):")
        rows = grouped(log)
        for where, cause, n in rows[:25]:
            lines.append(f"  {n:>12,}  {where}: {cause}")
        if len(rows) > 25:
            rest = rows[25:]
            lines.append(f"  {sum(r[2] for r in rest):>12,}  ... {len(rest)} more (all in import.json)")
    if log.notes:
        lines.append("derived or estimated:")
        lines += [f"  {n}" for n in log.notes]
    if log.missing:
        lines.append("missing (what it switches off):")
        lines += [f"  {m}" for m in log.missing]
    lines.append(f"next: python run.py data validate {out}")
    return "\n".join(lines)


def stamp(plan_description: dict, result: Assembled, log: ImportLog, seconds: float) -> dict:
    return {"importer": "ashare-smallcap-sim data import", "plan": plan_description, "summary": facts(result),
            "seconds": round(seconds, 1),
            "left_out": [{"file": w, "cause": c, "rows": n} for (w, c), n in sorted(log.skipped.items())],
            "derived": list(log.notes), "missing": list(log.missing)}


def grouped(log: ImportLog) -> list[tuple[str, str, int]]:
    """(where, cause, rows), largest first; one cause over many files of a folder is one line."""
    by_cause: dict[str, list[tuple[str, int]]] = {}
    for (where, cause), n in log.skipped.items():
        by_cause.setdefault(cause, []).append((where, n))
    out = []
    for cause, items in by_cause.items():
        if len(items) <= 3:
            out += [(w, cause, n) for w, n in items]
        else:
            parent = os.path.commonpath([w for w, _ in items])
            out.append((f"{len(items):,} files under {parent}", cause, sum(n for _, n in items)))
    return sorted(out, key=lambda r: (-r[2], r[0], r[1]))
