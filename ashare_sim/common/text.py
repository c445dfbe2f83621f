"""Words shared by every message: the did-you-mean hint, written once."""
from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(word: object, known: Iterable[object]) -> str:
    """" (did you mean 'x'?)" for the closest of `known` to `word`, else ""."""
    close = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def pct_text(x: float, digits: int = 3) -> str:
    """A fraction as a percentage without trailing zeros: 0.0003 -> '0.03%', 0.1 -> '10%'."""
    text = f"{x * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"
