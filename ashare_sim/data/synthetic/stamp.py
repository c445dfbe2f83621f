"""The stamp a generated market carries: which generator and arguments made it.

`generator.json` in the market directory lets `make run` tell a market made by
this code from one made by an older generator (or other arguments) and
regenerate its own default market instead of silently reusing stale data.
The fingerprint covers the generator parameters and the rules table, the two
inputs besides the arguments that shape every byte.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Optional

import yaml

from ashare_sim.data.synthetic.params import GeneratorParams
from ashare_sim.rules import RulesTable

STAMP_FILE = "generator.json"


def fingerprint(params: GeneratorParams | None = None, rules: RulesTable | None = None) -> str:
    params = params or GeneratorParams()
    rules = rules or RulesTable.load()
    text = json.dumps(dataclasses.asdict(params), sort_keys=True, default=str)
    # The table's content, not its text: a comment or a re-ordered key does not make a market stale.
    table = json.dumps(yaml.safe_load(Path(rules.source).read_text(encoding="utf-8")), sort_keys=True, default=str)
    return hashlib.sha256((text + "\n" + table).encode()).hexdigest()[:16]


def stamp(stocks: int, start: dt.date, end: dt.date, seed: int, params: GeneratorParams | None = None) -> dict:
    return {"stocks": int(stocks), "start": start.isoformat(), "end": end.isoformat(), "seed": int(seed),
            "fingerprint": fingerprint(params)}


def write_stamp(directory: Path, content: dict) -> None:
    (Path(directory) / STAMP_FILE).write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_stamp(directory: Path) -> Optional[dict]:
    """The stamp of a generated market, or None (not ours, or unreadable)."""
    try:
        return json.loads((Path(directory) / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
