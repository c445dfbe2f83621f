"""Reading YAML files the user wrote: one error naming the file (and line) when they are not valid YAML."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ashare_sim.common.errors import UserError, unopenable


def read_yaml_file(path: Path | str, what: str, missing_hint: str = "") -> Any:
    """The YAML of a file the user named (`what` says which: "--grid", "rules table", ...): one UserError
    naming the file for a missing, unreadable, non-UTF-8 or invalid file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{what} {path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise unopenable(what, path, exc, "a YAML file", missing_hint) from None
    return parse_yaml(text, path)


class _Loader(yaml.SafeLoader):
    """Safe YAML as a config needs it: a key given twice is an error (not "the last one wins"), aliases
    are refused (no config needs them, and nested ones expand to gigabytes), and date-like scalars that
    are no date (2020-02-30) stay text, so the config's own checks name the key."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, f"alias *{event.anchor}: aliases are not accepted here; write the value out",
                event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
            except TypeError:
                continue
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice in one mapping; keep one", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def load(text: str) -> Any:
    """YAML as the simulator reads it (safe; impossible dates kept as text)."""
    return yaml.load(text, Loader=_Loader)


def parse_yaml(text: str, path: Path | str) -> Any:
    """YAML text of file `path`; a UserError naming the file (and line) when it is not valid YAML."""
    try:
        return load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except ValueError as exc:           # a date-like scalar that is no date, e.g. 2015-13-01
        raise UserError(f"{path}: not valid YAML: {exc}") from None
