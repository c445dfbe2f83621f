"""What a scenario's result depends on, as short hashes.

- `inputs_fingerprint(cfg, data)`: the whole config plus the data directory, the rules table and a
  targets file (each by file name, size and modification time, as make does). It is stored in each
  scenario's run.json (`stress.inputs`): a scenario whose folder holds a finished set with the same
  fingerprint is not run again, so an interrupted grid resumes where it stopped.
- `shared_key(cfg)`: the config without the execution keys (EXECUTION_KEYS). Scenarios with the same
  key have the same scores, targets and pool benchmark, which are computed once for all of them.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.config import Config
from core.typed import to_plain

# Keys that change how lists are traded, not which lists or what they are measured against. Everything
# under broker.* is execution; the signal delay only moves the same lists in time (engine.delay), and
# output / logging / research keys do not enter a backtest's result at all.
EXECUTION_KEYS = ("broker", "strategy.signal_delay", "output", "log_level", "research")
RULES_TABLE = Path(__file__).resolve().parents[1] / "rules" / "ashare_rules.yaml"


def file_stamp(path: str | Path | None) -> list:
    """[name, size, mtime_ns] of a file, of every file of a folder (sorted, hidden ones left out), or []."""
    if not path:
        return []
    p = Path(path)
    if p.is_file():
        st = p.stat()
        return [[p.name, st.st_size, st.st_mtime_ns]]
    if p.is_dir():
        return [row for child in sorted(p.iterdir()) if not child.name.startswith(".") for row in file_stamp(child)]
    return []


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def data_fingerprint(cfg: Config) -> str:
    """The files a run reads besides its config: the data directory, the rules table, a targets file."""
    return _digest({"data": file_stamp(cfg.data.path), "rules": file_stamp(cfg.rules.table or RULES_TABLE),
                    "targets_file": file_stamp(cfg.strategy.targets_file)})


def inputs_fingerprint(cfg: Config, data: str) -> str:
    """Config and data together: equal fingerprints, equal results."""
    return _digest({"config": to_plain(cfg), "data": data})


def shared_key(cfg: Config) -> str:
    """The config without its execution keys, hashed."""
    plain = to_plain(cfg)
    for key in EXECUTION_KEYS:
        node, parts = plain, key.split(".")
        for part in parts[:-1]:
            node = node.get(part, {})
        node.pop(parts[-1], None)
    return _digest(plain)
