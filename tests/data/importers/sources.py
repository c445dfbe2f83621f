"""Tiny source files written in code, with each source's real column names and units."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ashare_sim.cli.main import main


def write_qlib(root: Path, calendar: list[str], series: dict[str, dict[str, list[float]]],
               start: dict[str, int] | None = None, instruments: dict[str, tuple[str, str]] | None = None) -> Path:
    """A qlib tree: calendars/day.txt, instruments/all.txt, features/<sym>/<field>.day.bin (float32 LE)."""
    (root / "calendars").mkdir(parents=True)
    (root / "calendars" / "day.txt").write_text("\n".join(calendar) + "\n")
    (root / "instruments").mkdir()
    spans = instruments or {s: (calendar[(start or {}).get(s, 0)], calendar[-1]) for s in series}
    (root / "instruments" / "all.txt").write_text("".join(f"{s}\t{a}\t{b}\n" for s, (a, b) in spans.items()))
    for sym, fields in series.items():
        d = root / "features" / sym.lower()
        d.mkdir(parents=True)
        for name, values in fields.items():
            np.array([(start or {}).get(sym, 0), *values], dtype="<f4").tofile(d / f"{name}.day.bin")
    return root


def write_csv(path: Path, df: pd.DataFrame, encoding: str = "utf-8", note: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = df.to_csv(index=False)
    path.write_bytes(((note + "\n") if note else "").encode(encoding) + text.encode(encoding))
    return path


def run(*argv: str, capsys=None) -> tuple[int, str, str]:
    code = main(list(argv))
    if capsys is None:
        return code, "", ""
    out = capsys.readouterr()
    return code, out.out, out.err


def read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / f"{name}.parquet")


def one_error(err: str) -> str:
    """The one `error:` line a refused command prints (log lines aside); no traceback."""
    lines = [l for l in err.splitlines() if l.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]
