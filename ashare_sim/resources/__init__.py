"""Files shipped inside the package: the default config and presets, the rules table, the historical
stress episodes and the example grids. `resource(name)` is a file's path; `presets()` and `grids()`
name what ships, so `-c study` and `--grid capacity` work in a checkout and in an installed wheel alike.
"""
from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
DEFAULT_CONFIG = FOLDER / "config.yaml"
RULES_TABLE = FOLDER / "ashare_rules.yaml"
EPISODES = FOLDER / "episodes.yaml"


def resource(name: str) -> Path:
    return FOLDER / name


def presets() -> dict[str, Path]:
    """Shipped configs by name: `default` (config.yaml) and each file of configs/."""
    return {"default": DEFAULT_CONFIG, **{p.stem: p for p in sorted((FOLDER / "configs").glob("*.yaml"))}}


def grids() -> dict[str, Path]:
    """Shipped stress grids by name."""
    return {p.stem: p for p in sorted((FOLDER / "grids").glob("*.yaml"))}


def find(name: str | Path, kind: str) -> tuple[Path, bool]:
    """(the file `name` means, whether it ships with the package) for kind "config" or "grid": an existing
    file wins; else a shipped one by its name (`study`, `study.yaml`, `configs/study.yaml`; `capacity`,
    `grids/capacity.yaml`); else the path as given (its reader says it is missing)."""
    path = Path(name)
    if path.is_file():
        return path, False
    shipped, folder = (presets(), "configs") if kind == "config" else (grids(), "grids")
    named = path.suffix in ("", ".yaml", ".yml") and (len(path.parts) == 1 or
                                                      (len(path.parts) == 2 and path.parts[0] == folder))
    if named and path.stem in shipped:
        return shipped[path.stem], True
    return path, False
