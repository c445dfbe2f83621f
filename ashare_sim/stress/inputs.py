"""What a scenario's result depends on, as short hashes.

- `inputs_fingerprint(cfg, data)`: the whole config plus the data directory, the rules table and a
  targets file (each by file name, size and modification time, as make does). It is stored in each
  scenario's run.json (`stress.inputs`): a scenario whose folder holds a finished set with the same
  fingerprint is not run again, so an interrupted grid resumes where it stopped.
- `shared_key(cfg)`: the config without the execution keys (EXECUTION_KEYS). Scenarios with the same
  key have the same scores, targets and pool benchmark, which are computed once for all of them.
"""
from __future__ import annotations

from ashare_sim.common.cache import digest, file_stamp
from ashare_sim.common.typed import to_plain
from ashare_sim.config.schema import Config
from ashare_sim.rules.table import SHIPPED_TABLE

# Keys that change how lists are traded, not which lists or what they are measured against. Everything
# under broker.* is execution; the signal delay only moves the same lists in time (signals.delay), and
# output / logging / research keys do not enter a backtest's result at all.
EXECUTION_KEYS = ("broker", "strategy.signal_delay", "strategy.resize", "strategy.resize_drift",
                  "strategy.scores.n_drop", "strategy.scores.hold_thresh", "strategy.scores.risk_degree",
                  "output", "log_level", "research")


def data_fingerprint(cfg: Config) -> str:
    """The files a run reads besides its config: the data directory, the rules table, a targets file."""
    return digest({"data": file_stamp(cfg.data.path), "rules": file_stamp(cfg.rules.table or SHIPPED_TABLE),
                    "targets_file": file_stamp(cfg.strategy.targets_file),
                    "function": file_stamp(function_file(cfg.strategy.function)),
                    "scores_file": file_stamp(cfg.strategy.scores.file)})


def function_file(spec) -> str | None:
    """The source file of strategy.function (`file.py:name`, or a module's file), so an edited function
    runs its scenarios again."""
    if not spec:
        return None
    where = str(spec).rpartition(":")[0]
    if where.endswith(".py"):
        return where
    import importlib.util
    try:
        found = importlib.util.find_spec(where)
    except (ImportError, ValueError):
        return None
    return found.origin if found is not None else None


def inputs_fingerprint(cfg: Config, data: str) -> str:
    """Config and data together: equal fingerprints, equal results (the output folder and the log level
    change neither, so a grid resumes from the command line and from Python alike)."""
    plain = to_plain(cfg)
    plain.pop("log_level", None)
    plain.get("output", {}).pop("dir", None)
    return digest({"config": plain, "data": data})


def shared_key(cfg: Config) -> str:
    """The config without its execution keys, hashed. With a targets file the delay stays in: the run's
    window starts at the first (delayed) list, and the pool benchmark with it."""
    plain = to_plain(cfg)
    for key in EXECUTION_KEYS:
        if key == "strategy.signal_delay" and cfg.strategy.targets_file:
            continue
        node, parts = plain, key.split(".")
        for part in parts[:-1]:
            node = node.get(part, {})
        node.pop(parts[-1], None)
    return digest(plain)
