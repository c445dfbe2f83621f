"""Words shared by every message: the did-you-mean hint, written once."""
from __future__ import annotations

import difflib
import math
from typing import Any, Iterable


def did_you_mean(word: object, known: Iterable[object]) -> str:
    """" (did you mean 'x'?)" for the closest of `known` to `word`, else ""."""
    names = [str(k) for k in known]
    lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(str(word).lower(), list(lower), n=1, cutoff=0.6)
    return f" (did you mean '{lower[close[0]]}'?)" if close else ""


def pct_text(x: float, digits: int = 3) -> str:
    """A fraction as a percentage without trailing zeros: 0.0003 -> '0.03%', 0.1 -> '10%'."""
    text = f"{x * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def short_labels(keys: list[str]) -> dict[str, str]:
    """The shortest dotted suffix of each key that tells it from the others (broker.slippage.bps -> bps)."""
    out = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            label = ".".join(parts[-n:])
            if not any(o != key and o.split(".")[-n:] == parts[-n:] for o in keys):
                break
        out[key] = label
    return out


def value_text(v: Any) -> str:
    """A value as a scenario name shows it: none, true, 0.05, 1e9 (text as written)."""
    v = getattr(v, "raw", v)             # a --set value: its text as typed
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)) and math.isfinite(v) and abs(v) >= 1e6 and float(f"{v:g}") == v:
        return f"{v:g}".replace("e+0", "e").replace("e+", "e")          # 1e9, 1.5e9: cash as written
    return str(v)


def shown_path(path) -> str:
    """A path as the user reads it: relative to the working directory when it lies inside it."""
    from pathlib import Path

    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve())) if p.is_absolute() else str(p)
    except ValueError:
        return str(p)
