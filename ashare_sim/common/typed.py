"""Typed, immutable config sections that validate themselves, built from plain YAML data or in Python.

    @dataclass(frozen=True)
    class Params(Section):
        impact: float = key(0.3, "k in k x sigma x sqrt(qty / volume)", ge=0)

    Params(impact=-1)                  # ConfigError: config key 'impact': got -1; must be >= 0
    build(Params, {"impact": 0.5}, "broker.slippage")      # from YAML, errors name the whole key path

A small validator for the shapes the config uses: bool, int, float, str, date, Literal, Optional,
Union of those, list[...] (kept as tuples), dict[str, ...] and nested sections. Range limits come
from field metadata (`ge`, `gt`, `le`, `lt`), a set of allowed names from `choices` (a registry).
Unknown keys are errors with a did-you-mean hint. `section(...)` assembles a section from fields
that registered models declare in their own `Params`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import numbers
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import numpy as np

from ashare_sim.common.errors import ConfigError
from ashare_sim.common.text import did_you_mean


def doc(text: str, path: bool = False, choices: Any = None, **limits: float) -> dict[str, Any]:
    """Field metadata: the key's documentation, optional numeric limits, the allowed names (`choices`:
    a registry or any collection of names), and whether the value is a file system path (relative paths
    in a config file resolve against that file's folder)."""
    return {"doc": text, "path": path, "choices": choices, **limits}


# `key(path=CALLABLE)`: a `file.py:name` value whose file part resolves like a path (`module:name` stays).
CALLABLE = "callable"


def key(default: Any, text: str, path: bool | str = False, choices: Any = None, **limits: float) -> Any:
    """A config key: its default, one line of documentation, and its limits (a dataclass field)."""
    meta = doc(text, path, choices, **limits)
    if isinstance(default, (list, dict)) or callable(default):
        factory = default if callable(default) else (lambda d=default: type(d)(d))
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class Section:
    """Base of every config section: a frozen dataclass that converts and validates its fields when it is
    made, from YAML or in Python alike, and then runs its own `check()` (relations between keys).
    Errors name the key relative to the section; `build` puts the section's path in front."""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            converted = _convert(hints[f.name], value, f.name, f.metadata)
            if converted is not value:
                object.__setattr__(self, f.name, converted)
        self.check()

    def check(self) -> None:
        """Relations between keys; a ConfigError naming the key (relative to this section)."""


def section(name: str, doc_text: str, fields: list[tuple[str, Any, dataclasses.Field]], module: str) -> type:
    """A frozen Section class from (name, type, field) triples, e.g. a section's own keys followed by the
    keys its registered models declare (`model_fields`). A key declared twice must be declared alike.
    Assign it to `name` in `module`."""
    seen: dict[str, tuple[Any, dataclasses.Field]] = {}
    for fname, tp, f in fields:
        if fname in seen:
            tp0, f0 = seen[fname]
            if tp0 != tp or f0.default != f.default or f0.metadata.get("doc") != f.metadata.get("doc"):
                raise TypeError(f"{name}.{fname}: declared twice, differently")
            continue
        seen[fname] = (tp, f)
    cls = dataclasses.make_dataclass(name, [(n, tp, f) for n, (tp, f) in seen.items()], bases=(Section,),
                                     frozen=True)
    cls.__doc__ = doc_text
    cls.__module__ = module             # where it is defined under `name` (pickling finds it there)
    return cls


def model_fields(models: typing.Iterable[type]) -> list[tuple[str, Any, dataclasses.Field]]:
    """The (name, type, field) triples of the `Params` sections of `models` (classes without Params add none)."""
    out = []
    for m in models:
        params = getattr(m, "Params", None)
        if params is None:
            continue
        hints = _hints(params)
        for f in dataclasses.fields(params):
            copy = (dataclasses.field(default=f.default, metadata=f.metadata) if f.default is not dataclasses.MISSING
                    else dataclasses.field(default_factory=f.default_factory, metadata=f.metadata))
            out.append((f.name, hints[f.name], copy))
    return out


def params_of(model: type, section_obj: Any) -> Any:
    """The model's own `Params`, taken from the config section that holds its keys."""
    params = model.Params
    return params(**{f.name: getattr(section_obj, f.name) for f in dataclasses.fields(params)})


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    return hints


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

    def __str__(self) -> str:
        return self.raw

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
    """An instance of section `cls` from the mapping `data` (YAML), validated; errors name `path`.key."""
    if data is None:
        data = {}
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ConfigError(path or "<root>", f"expected a mapping of keys, got {_show(data)}")
    fields = {f.name for f in dataclasses.fields(cls)}
    for name in data:
        if name not in fields:
            raise ConfigError(_join(path, str(name)), "unknown key" + _hint(str(name), fields))
    try:
        return cls(**{str(k): v for k, v in data.items()})
    except ConfigError as exc:
        raise exc.within(path) from None


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
        elif f.metadata.get("path") == CALLABLE and isinstance(value, str):
            where, sep, name = value.rpartition(":")        # only a file's part is a path; a module is not
            if sep and where.endswith(".py") and not Path(where).is_absolute():
                out[f.name] = f"{base / where}:{name}"
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
        if isinstance(value, tp):
            return value
        return build(tp, value, path)
    if origin in (list, tuple):
        (item_tp, *_) = get_args(tp) or (Any,)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(path, f"got {_show(value)}; expected a list")
        items = tuple(_convert(item_tp, v, f"{path}[{i}]", {}) for i, v in enumerate(value))
        return value if isinstance(value, tuple) and all(a is b for a, b in zip(items, value)) else items
    if origin is dict:
        _, val_tp = get_args(tp) or (str, Any)
        if not isinstance(value, dict):
            raise ConfigError(path, f"got {_show(value)}; expected a mapping")
        return {str(k): _convert(val_tp, v, _join(path, str(k)), {}) for k, v in value.items()}
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise ConfigError(path, f"got {_show(value)}; expected true or false")
    if tp in (int, float):
        if isinstance(value, str):         # YAML 1.1 reads 1e7 and 1_000 as text: a number key wants the number
            try:
                value = float(value.replace("_", "")) if value.strip() else value
            except ValueError:
                pass
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ConfigError(path, f"got {_show(value)}; expected a number")
        if tp is int and float(value) != int(value):
            raise ConfigError(path, f"got {_show(value)}; expected a whole number")
        num = value if type(value) is tp else tp(value)
        _check_range(num, path, meta)
        return num
    if tp is str:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = value if type(value) is str else str(value)
            choices = meta.get("choices") if meta else None
            if choices is not None and text not in choices:
                raise ConfigError(path, f"got {_show(text)}; choose one of {', '.join(choices)}"
                                  f"{did_you_mean(text, choices)}")
            return text
        raise ConfigError(path, f"got {value!r}; expected text")
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
            raise ConfigError(path, f"got {num}; must be {word} {float(meta[key]):g}")


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
