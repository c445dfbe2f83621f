"""Build typed dataclasses from plain YAML data, naming the key path on error.

A small validator for the shapes the config uses: bool, int, float, str, date,
Literal, Optional, Union of those, list[...], dict[str, ...] and nested
dataclasses. Range limits come from field metadata (`ge`, `gt`, `le`, `lt`).
Unknown keys are errors with a did-you-mean hint.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from ashare_sim.common.errors import ConfigError
from ashare_sim.common.text import did_you_mean


def doc(text: str, path: bool = False, **limits: float) -> dict[str, Any]:
    """Field metadata: the key's documentation, optional numeric limits, and whether the value is a
    file system path (relative paths in a config file resolve against that file's folder)."""
    return {"doc": text, "path": path, **limits}


class CommandLineValue:
    """A `--set` value: its text as typed and its YAML reading, the type of the key decides which counts.

    YAML 1.1 reads `no` as false and `1e7` as text; a path key wants the text `no`, a number key the
    number 10,000,000."""

    __slots__ = ("raw", "parsed")

    def __init__(self, raw: str, parsed: Any):
        self.raw = raw
        self.parsed = parsed

    def __repr__(self) -> str:
        return f"CommandLineValue({self.raw!r})"

    def as_type(self, tp: Any) -> Any:
        if tp is str:
            return self.raw
        if tp in (int, float) and isinstance(self.parsed, str):
            try:
                return float(self.raw)
            except ValueError:
                return self.parsed
        return self.parsed


def build(cls: type, data: Any, path: str = "") -> Any:
    """Return an instance of dataclass `cls` from `data`, validated."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(path or "<root>", f"expected a mapping of keys, got {_show(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise ConfigError(_join(path, str(key)), "unknown key" + _hint(str(key), fields))
    hints = get_type_hints(cls)
    values = {}
    for name, f in fields.items():
        if name in data:
            values[name] = _convert(hints[name], data[name], _join(path, name), f.metadata)
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if callable(check):
        check(path)
    return obj


def to_plain(obj: Any) -> Any:
    """Dataclass tree -> YAML-able dict (dates as ISO strings)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj


def resolve_paths(cls: type, raw: Any, base: "Path") -> Any:
    """A copy of the raw mapping with relative values of path keys (metadata path=True) made absolute
    against `base`, the folder of the config file they came from."""
    if not isinstance(raw, dict):
        return raw
    out = dict(raw)
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in out:
            continue
        value, tp = out[f.name], hints[f.name]
        if dataclasses.is_dataclass(tp):
            out[f.name] = resolve_paths(tp, value, base)
        elif f.metadata.get("path") and isinstance(value, str) and value.strip() and not Path(value).is_absolute():
            out[f.name] = str(base / value)
    return out


def field_paths(cls: type, prefix: str = "") -> list[str]:
    """Every leaf key path of a config dataclass, for docs and tests."""
    out = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        p = _join(prefix, f.name)
        t = hints[f.name]
        if dataclasses.is_dataclass(t):
            out.extend(field_paths(t, p))
        else:
            out.append(p)
    return out


def _convert(tp: Any, value: Any, path: str, meta: Any) -> Any:
    origin = get_origin(tp)
    if isinstance(value, CommandLineValue) and origin not in (Union, types.UnionType):
        value = value.as_type(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if isinstance(value, CommandLineValue) and value.parsed is None:
            value = None
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError(path, f"must not be empty; expected {_type_name(tp)}")
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, path, meta)
            except ConfigError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        raise ConfigError(path, f"got {_show(value)}; expected {_type_name(tp)}")
    if origin is Literal:
        choices = get_args(tp)
        if isinstance(value, bool):
            # YAML 1.1 reads off/on/no/yes as booleans; map them back to the word choice.
            word = next((w for w in (("on", "yes", "true") if value else ("off", "no", "false")) if w in choices), None)
            if word is not None:
                return word
        if value in choices and not isinstance(value, bool):
            return value
        hint = ""
        if isinstance(value, str):
            hint = did_you_mean(value, choices)
        raise ConfigError(path, f"got {_show(value)}; choose one of {', '.join(map(str, choices))}{hint}")
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)
    if origin in (list, tuple):
        (item_tp, *_) = get_args(tp) or (Any,)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(path, f"got {_show(value)}; expected a list")
        return [_convert(item_tp, v, f"{path}[{i}]", {}) for i, v in enumerate(value)]
    if origin is dict:
        _, val_tp = get_args(tp) or (str, Any)
        if not isinstance(value, dict):
            raise ConfigError(path, f"got {_show(value)}; expected a mapping")
        return {str(k): _convert(val_tp, v, _join(path, str(k)), {}) for k, v in value.items()}
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(path, f"got {_show(value)}; expected true or false")
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, f"got {_show(value)}; expected a number")
        if tp is int and float(value) != int(value):
            raise ConfigError(path, f"got {_show(value)}; expected a whole number")
        num = tp(value)
        _check_range(num, path, meta)
        return num
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(path, f"got {_show(value)}; expected text")
    if tp is dt.date:
        return parse_date(value, path)
    raise TypeError(f"unsupported config type {tp!r} at {path}")


def parse_date(value: Any, path: str) -> dt.date:
    """A YAML date, a 'YYYY-MM-DD' string or a compact 20190301 (as text or as the number YAML reads)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    day = parse_date_text(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if day is not None:
        return day
    raise ConfigError(path, f"got {_show(value)}; expected a date YYYY-MM-DD")


def parse_date_text(text: str) -> dt.date | None:
    """'2019-03-01' or '20190301' as a date; None when it is neither (the one date reader of user input)."""
    text = text.strip()
    try:
        if len(text) == 8 and text.isdigit():
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _check_range(num: float, path: str, meta: Any) -> None:
    for key, op, word in (("ge", float.__ge__, ">="), ("gt", float.__gt__, ">"),
                          ("le", float.__le__, "<="), ("lt", float.__lt__, "<")):
        if meta and key in meta and not op(float(num), float(meta[key])):
            raise ConfigError(path, f"got {num}; must be {word} {meta[key]}")


def _hint(key: str, names: typing.Iterable[str]) -> str:
    return did_you_mean(key, names) or f"; known keys: {', '.join(names)}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None))
    if origin is Literal:
        return "/".join(map(str, get_args(tp)))
    return getattr(tp, "__name__", str(tp))
