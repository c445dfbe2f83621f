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
