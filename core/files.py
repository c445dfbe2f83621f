"""Writing a set of output files atomically.

`publish(out, fill)`: `fill(tmp)` writes every file into a temporary directory next to
`out`; only when it returns are they moved into `out` (the whole directory appears at
once when `out` is new). An error leaves `out` as it was. A folder of the set replaces
the one of an earlier run whole, so no file of that run is left beside the new ones.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


def publish(out: Path, fill: Callable[[Path], object]) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        fill(tmp)
        if not out.exists():
            os.rename(tmp, out)                 # the whole set appears at once
            return
        for f in sorted(tmp.iterdir()):
            target = out / f.name
            if f.is_dir() and target.is_dir():
                shutil.rmtree(target)           # a folder is replaced whole, never merged with an old run's
            os.replace(f, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
