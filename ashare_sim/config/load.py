"""Loading a config: a YAML file or a shipped preset, plus `--set` overrides, into a validated `Config`.

    cfg = load_config()                                   # the defaults (config.yaml as shipped)
    cfg = load_config("study", ["backtest.start=2015-01-01"])
    cfg = load_config("my.yaml", {"broker.volume_cap": 0.05})
    cfg2 = with_overrides(cfg, {"broker.crowd": 10})      # a validated copy (stress grids)
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import yaml
from loguru import logger

from ashare_sim.common.errors import ConfigError, UserError
from ashare_sim.common.typed import CommandLineValue, build, resolve_paths, to_plain
from ashare_sim.common.yamlfile import load as load_yaml
from ashare_sim.common.yamlfile import read_yaml_file
from ashare_sim.config.schema import Config
from ashare_sim.data.open import is_embedded_market_path
from ashare_sim.resources import find, presets


def parse_override(text: str) -> tuple[str, Any]:
    """'a.b.c=value' -> ('a.b.c', CommandLineValue): the text and its YAML reading; the key's type picks."""
    if "=" not in text:
        raise UserError(f"--set '{text}': expected KEY=VALUE, e.g. --set broker.volume_cap=0.1")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise UserError(f"--set '{text}': the key is empty")
    try:
        value = load_yaml(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise UserError(f"--set '{text}': value is not valid YAML ({exc.__class__.__name__})") from None
    except ValueError as exc:           # a date-like value that is no date, e.g. 2020-02-30
        raise UserError(f"--set '{text}': {exc}; write a real date YYYY-MM-DD") from None
    return key, CommandLineValue(raw.strip(), value)


def apply_overrides(raw: dict, overrides: list[tuple[str, Any]]) -> dict:
    """Set dotted keys in a raw config mapping (validation happens in build)."""
    out = copy.deepcopy(raw)
    for key, value in overrides:
        node = out
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise ConfigError(".".join(parts[: depth + 1]), f"is a value, cannot set '{key}' below it")
            node = nxt
        node[parts[-1]] = value
    return out


def config_file(name: str | Path) -> tuple[Path, bool]:
    """(the config file `name` means, whether it ships with the package): an existing file, else a shipped
    preset by name (`study`, `study.yaml` or `configs/study.yaml`); a UserError listing them otherwise."""
    path, shipped = find(name, "config")
    if not shipped and not path.exists():
        raise UserError(f"{name}: no such config file; give a path, or a shipped preset: {', '.join(presets())}")
    return path, shipped


def read_yaml(path: Path) -> dict:
    """Read a config file's mapping, with errors naming the file."""
    raw = read_yaml_file(path, "config file", " (ashare-sim config init writes one; or pass -c PATH or a preset)")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of config keys at the top level")
    return raw


def load_config(path: str | Path | None = None, overrides: list[str] | Mapping[str, Any] | None = None) -> Config:
    """Config from a YAML file or a shipped preset's name (None: the shipped config.yaml, the defaults) plus
    --set overrides.

    Relative paths in a file resolve against the file's folder (so `-c /abs/config.yaml` from anywhere
    reads the same data); in a shipped preset, and given with --set, against the working directory."""
    file, shipped = config_file("default" if path is None else path)
    given = read_yaml(file)
    raw = resolve_paths(Config, given, Path.cwd() if shipped else file.resolve().parent)
    if not shipped:
        raw = _embedded_market_of_a_copy(given, raw, file)
    if isinstance(overrides, Mapping):          # from Python: values as they are, checked like YAML
        parsed = list(overrides.items())
    else:
        parsed = [parse_override(o) for o in overrides or []]
    try:
        return build(Config, apply_overrides(raw, parsed))
    except ConfigError as exc:
        given = [str(k) for k, _ in parsed]
        from_overrides = any(exc.key_path == k or exc.key_path.startswith((k + ".", k + "[")) or
                             k.startswith(exc.key_path + ".") for k in given)
        if not shipped and not from_overrides:      # the file's own value: name the file
            exc.args = (f"{path}: {exc}",)
        raise


def _embedded_market_of_a_copy(given: dict, raw: dict, file: Path) -> dict:
    """A copy of config.yaml keeps `data.path: data/synthetic`, which beside the copy names a folder that
    is not there: rather than generate a second embedded market (hundreds of MB) in silence, use the one
    already made in the working directory, and say so."""
    text = (given.get("data") or {}).get("path") if isinstance(given.get("data"), dict) else None
    if not isinstance(text, str) or Path(text).is_absolute() or not is_embedded_market_path(Path(text)):
        return raw
    beside, here = Path(raw["data"]["path"]), Path.cwd() / text
    if beside.exists() or not here.is_dir() or here.resolve() == beside.resolve():
        return raw
    logger.info(f"{file}: data.path {text} is not beside the file; using the embedded market already in the working "
                f"directory ({here}); give data.path as a full path to choose another")
    return {**raw, "data": {**raw["data"], "path": str(here)}}


def with_overrides(cfg: Config, overrides: dict[str, Any]) -> Config:
    """A validated copy of `cfg` with dotted-key overrides (for stress grids)."""
    return build(Config, apply_overrides(to_plain(cfg), list(overrides.items())))

