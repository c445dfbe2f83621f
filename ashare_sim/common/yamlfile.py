"""Reading YAML files the user wrote: one error naming the file (and line) when they are not valid YAML."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ashare_sim.common.errors import UserError


def parse_yaml(text: str, path: Path | str) -> Any:
    """YAML text of file `path`; a UserError naming the file (and line) when it is not valid YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except ValueError as exc:           # a date-like scalar that is no date, e.g. 2015-13-01
        raise UserError(f"{path}: not valid YAML: {exc}") from None
