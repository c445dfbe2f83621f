"""The stress grid file: which scenarios to run, each a set of dotted config overrides.

    axes:                              # scenarios = the cross product of the values, in file order
      broker.slippage.bps: [0, 10, 30, 50]
      broker.volume_cap: [null, 0.25, 0.10, 0.05]
    # or, instead of axes, an explicit list (each with a unique name):
    scenarios:
      - {name: base}
      - {name: costly, broker.slippage.bps: 50, broker.deal_price: vwap}
    base: {broker.slippage.model: fixed_bps}   # optional: applied to every scenario before its own keys
    description: slippage x volume cap         # optional: shown on stress.html

Every key is validated like `--set` (`config.load.with_overrides` on the run's config), each axis
value on its own and then every scenario whole, before anything runs: a bad grid is one
UserError naming the file and the entry. Values read like `--set` values (`1e9` is a number for
a number key); relative paths resolve against the grid file's folder, as in a config file.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ashare_sim.common.errors import ConfigError, UserError
from ashare_sim.common.text import did_you_mean, short_labels, value_text
from ashare_sim.common.typed import CommandLineValue, resolve_paths, to_plain
from ashare_sim.common.yamlfile import read_yaml_file
from ashare_sim.config import Config, with_overrides
from ashare_sim.resources import find, grids

TOP_KEYS = ("axes", "scenarios", "base", "description")
# A scenario's name is its output folder under DIR/scenarios/.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=,+-]{0,119}$")


@dataclass(frozen=True)
class Scenario:
    name: str
    overrides: dict[str, Any]      # the grid's keys for this scenario, base keys first
    cfg: Config                    # the validated config it runs with


@dataclass
class Grid:
    path: Path
    scenarios: list[Scenario]
    varied: list[str]                                   # keys that differ between scenarios (stress.csv columns)
    axes: dict[str, list[Any]] = field(default_factory=dict)   # axes grids: key -> values in file order
    description: str = ""
    label: str = ""                                     # how it is shown: the path given, or grids/<name>.yaml

    def __post_init__(self) -> None:
        self.label = self.label or str(self.path)

    def value(self, scenario: Scenario, key: str) -> Any:
        """The scenario's effective value of a dotted key (from its built config)."""
        return lookup(to_plain(scenario.cfg), key)


def load_grid(path: str | Path, cfg: Config) -> Grid:
    """Read and validate a grid file (or a shipped grid by name) against the run's config; UserError naming
    the entry when bad."""
    given = path
    path, shipped = find(path, "grid")
    label = f"grids/{path.name}" if shipped else str(given)
    raw = _read(path)
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        hint = did_you_mean(unknown[0], TOP_KEYS) or f"; a grid has {', '.join(TOP_KEYS)}"
        raise UserError(f"{path}: unknown top-level key '{unknown[0]}'{hint}")
    has_axes, has_list = "axes" in raw, "scenarios" in raw
    if has_axes == has_list:
        raise UserError(f"{path}: give either 'axes:' (a cross product) or 'scenarios:' (an explicit list), "
                        f"{'not both' if has_axes else 'found neither'}")
    folder = path.resolve().parent
    base = _mapping(raw.get("base") or {}, path, "base")
    base = {k: _value(k, v, folder) for k, v in base.items()}
    _build(cfg, base, path, "base")
    description = str(raw.get("description") or "")
    if has_axes:
        axes = _axes(raw["axes"], path, folder, cfg, base)
        scenarios = _cross(axes, base, path, cfg)
        varied = [k for k, vals in axes.items() if len(vals) > 1] or list(axes)
        return Grid(path, scenarios, varied, {k: [_plain(v) for v in vals] for k, vals in axes.items()}, description,
                    label)
    scenarios = _explicit(raw["scenarios"], base, path, folder, cfg)
    keys = list(dict.fromkeys(k for s in scenarios for k in s.overrides if k not in base))
    plain = [to_plain(s.cfg) for s in scenarios]
    varied = [k for k in keys if len({repr(lookup(p, k)) for p in plain}) > 1] or keys
    return Grid(path, scenarios, varied, {}, description, label)


# ----- pieces -----------------------------------------------------------------
def _read(path: Path) -> dict:
    raw = read_yaml_file(path, "--grid", f"; give a path, or a shipped grid: {', '.join(grids())}")
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping with 'axes:' or 'scenarios:' at the top level, got "
                        f"{type(raw).__name__ if raw is not None else 'an empty file'}")
    return raw


def _mapping(obj: Any, path: Path, where: str) -> dict:
    if not isinstance(obj, dict):
        raise UserError(f"{path}: {where}: expected a mapping of dotted config keys to values, got {obj!r}")
    for k in obj:
        if not isinstance(k, str) or not k.strip():
            raise UserError(f"{path}: {where}: key {k!r} is not a dotted config key such as broker.slippage.bps")
    return obj


def _value(key: str, value: Any, folder: Path) -> Any:
    """A grid value as --set reads one (text keeps its spelling, so `1e9` can be a number) with a relative
    path made absolute against the grid's folder."""
    nested: dict = {}
    node = nested
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    try:
        resolved = resolve_paths(Config, nested, folder)
        for part in parts:
            resolved = resolved[part]
        value = resolved
    except (KeyError, TypeError, AttributeError):
        pass                         # an unknown key: with_overrides names it
    return CommandLineValue(value, value) if isinstance(value, str) else value


def _build(cfg: Config, overrides: dict[str, Any], path: Path, where: str) -> Config:
    try:
        return with_overrides(cfg, overrides)
    except ConfigError as exc:
        raise UserError(f"{path}: {where}: {exc}") from None


def _axes(obj: Any, path: Path, folder: Path, cfg: Config, base: dict) -> dict[str, list[Any]]:
    axes = _mapping(obj, path, "axes")
    if not axes:
        raise UserError(f"{path}: axes: no axis given; add e.g. broker.slippage.bps: [0, 10, 30]")
    out = {}
    for key, values in axes.items():
        if not isinstance(values, list):
            raise UserError(f"{path}: axes {key}: expected a list of values, e.g. [0, 10], got {values!r}")
        if not values:
            raise UserError(f"{path}: axes {key}: the list is empty; give at least one value")
        if key in base:
            raise UserError(f"{path}: axes {key}: also set in base; keep it in one place")
        vals = [_value(key, v, folder) for v in values]
        for i, v in enumerate(vals):
            _build(cfg, {**base, key: v}, path, f"axes {key}[{i}] = {_plain(v)!r}")
        shown = [repr(_plain(v)) for v in vals]
        dup = next((s for s in shown if shown.count(s) > 1), None)
        if dup is not None:
            raise UserError(f"{path}: axes {key}: value {dup} appears twice")
        out[key] = vals
    return out


def _cross(axes: dict[str, list[Any]], base: dict, path: Path, cfg: Config) -> list[Scenario]:
    labels = short_labels(list(axes))
    out = []
    for combo in itertools.product(*axes.values()):
        keys = dict(zip(axes, combo))
        name = ",".join(f"{labels[k]}={value_text(v)}" for k, v in keys.items()) if keys else "base"
        name = re.sub(r"[^A-Za-z0-9._=,+-]", "_", name)[:120]
        overrides = {**base, **keys}
        out.append(Scenario(name, overrides, _build(cfg, overrides, path, f"scenario {name}")))
    _unique([s.name for s in out], path, "axes")
    return out


def _explicit(obj: Any, base: dict, path: Path, folder: Path, cfg: Config) -> list[Scenario]:
    if not isinstance(obj, list) or not obj:
        raise UserError(f"{path}: scenarios: expected a non-empty list, e.g. - {{name: base}}")
    out = []
    for i, entry in enumerate(obj):
        where = f"scenarios[{i}]"
        entry = _mapping(entry, path, where)
        name = entry.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise UserError(f"{path}: {where}: name {name!r}: give each scenario a name of letters, digits and "
                            "._=,+- (it names its output folder)")
        where = f"{where} ({name})"
        keys = {k: _value(k, v, folder) for k, v in entry.items() if k != "name"}
        both = sorted(set(keys) & set(base))
        if both:
            raise UserError(f"{path}: {where}: {both[0]} is also set in base; keep it in one place")
        overrides = {**base, **keys}
        out.append(Scenario(name, overrides, _build(cfg, overrides, path, where)))
    _unique([s.name for s in out], path, "scenarios")
    return out


def _unique(names: list[str], path: Path, where: str) -> None:
    seen = set()
    for n in names:
        if n in seen:
            raise UserError(f"{path}: {where}: scenario name '{n}' appears twice; names must be unique")
        seen.add(n)


def _plain(v: Any) -> Any:
    return v.raw if isinstance(v, CommandLineValue) else v


def lookup(plain: dict, key: str) -> Any:
    node: Any = plain
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
