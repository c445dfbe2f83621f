"""What one `data import` does, from its flags or a manifest, checked before any work.

A market = one main source (bars and what comes with them) + companion tables, each from a source
and a path. Flags:  --KIND SOURCE:PATH  (SOURCE may be left out for a file in our own column names,
the `table` source) and  --option KIND.KEY=VALUE  (KIND `source` = the main source). A manifest
(YAML) says the same; its relative paths are relative to `base:` (itself relative to the manifest's
folder; default the manifest's folder):

    base: ../../shared/real
    source: qlib
    path: ashare_daily_raw_2010_2026.parquet
    start: 2010-01-01
    bars: [{source: xbx, path: delisted_daily_raw.parquet}]
    fundamentals: {source: eastmoney, path: fundamentals_em_1995_2023.parquet}
    benchmark: {source: qlib, path: ashare_daily_raw_2010_2026.parquet, index: [SH000300, SH000905]}

Flags given beside --manifest replace the manifest's entries of the same kind.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ashare_sim.common.errors import UserError
from ashare_sim.common.text import did_you_mean
from ashare_sim.common.yamlfile import parse_yaml, read_yaml_file
from ashare_sim.data.importers.registry import IMPORTERS, importer_class, sources_giving
from ashare_sim.data.importers.writer import check_out

MAIN = "source"


@dataclass(frozen=True)
class Kind:
    """A companion table: its flag / manifest key, the importer tables it takes, its own settings."""
    name: str
    tables: tuple[str, ...]
    many: bool
    help: str
    settings: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("bars", ("bars",), True, "more bar sources, appended (where two give the same date and symbol, the "
                                  "earlier one wins)"),
    Kind("listing", ("listing", "instruments"), False, "listing and delisting dates (the earliest listing date "
                                                        "any source knows is kept)"),
    Kind("fundamentals", ("fundamentals",), False, "point-in-time statements"),
    Kind("st", ("st",), False, "ST / *ST / delisting spells"),
    Kind("shares", ("shares",), True, "share-count change points, carried forward; each later source continues "
                                      "where the earlier ones end"),
    Kind("amount", ("amount",), False, "traded amount (CNY) for bars that have none"),
    Kind("industry", ("industry_history",), False, "industry history; instruments.industry = the latest label"),
    Kind("dividends", ("dividends",), False, "cash and bonus shares per share on ex-dates"),
    Kind("benchmark", ("benchmark",), False, "index closes", settings=("index",)),
)}
MANIFEST_KEYS = ("base", MAIN, "path", "options", "start", "end", "out", *KINDS)


@dataclass
class Entry:
    kind: str                 # 'source' (the main one) or a companion kind
    source: str
    path: Path
    options: dict[str, Any] = field(default_factory=dict)      # the importer's options
    settings: dict[str, Any] = field(default_factory=dict)     # the kind's own (benchmark index)
    label: str = ""           # how the user wrote it, for messages

    def describe(self) -> dict:
        d = {"source": self.source, "path": str(self.path)}
        d.update({k: (str(v) if isinstance(v, Path) else v) for k, v in {**self.options, **self.settings}.items()
                  if k != "kind"})
        return d


@dataclass
class Plan:
    main: Entry
    companions: dict[str, list[Entry]]
    out: Path
    start: Optional[dt.date] = None
    end: Optional[dt.date] = None
    replace: bool = False

    def entries(self, kind: str) -> list[Entry]:
        return self.companions.get(kind, [])

    def describe(self) -> dict:
        d: dict = {MAIN: self.main.source, "path": str(self.main.path)}
        if self.main.options:
            d["options"] = dict(self.main.options)
        for k in ("start", "end"):
            if getattr(self, k):
                d[k] = getattr(self, k).isoformat()
        for kind, entries in self.companions.items():
            d[kind] = [e.describe() for e in entries] if KINDS[kind].many else entries[0].describe()
        return d


def build_plan(source: Optional[str], src: Optional[str], out: Optional[str], *, manifest: Optional[str] = None,
               start: Optional[str] = None, end: Optional[str] = None, companions: dict[str, list[str]] | None = None,
               options: list[str] | None = None, replace: bool = False, base: Optional[Path] = None) -> Plan:
    """The checked plan, or a UserError naming the flag / manifest key and the fix. `base` (--base)
    replaces the manifest's `base:` folder."""
    data: dict = _read_manifest(Path(manifest)) if manifest else {}
    folder = Path(manifest).resolve().parent if manifest else Path.cwd()
    base_flag = base is not None
    base = Path(base).resolve() if base_flag else _resolve(data.get("base", "."), folder)
    if manifest and not base.is_dir():
        raise UserError(f"{'--base' if base_flag else manifest + ': key base'}: {base}: no such folder")
    where = f"{manifest}: key" if manifest else "--"
    # Main source.
    src_label = f"--source {source}" if source else f"{where} 'source'"
    source = source or data.get(MAIN)
    path = src or data.get("path")
    if not source:
        raise UserError("no source: give --source NAME SRC (or 'source:' and 'path:' in the manifest); "
                        f"sources: {', '.join(IMPORTERS)}")
    if not path:
        raise UserError(f"--source {source}: give the source's files or folder (SRC, or 'path:' in the manifest)")
    main_opts = dict(data.get("options") or {})
    main = _entry(MAIN, str(source), _resolve(path, base if not src else Path.cwd()), main_opts, src_label, base)
    if "bars" not in importer_class(main.source).gives:
        raise UserError(f"--source {main.source}: gives no bars ({', '.join(importer_class(main.source).gives)}); "
                        f"use it as a companion (--{_kind_for(main.source)} {main.source}:PATH) beside a bar source: "
                        f"{', '.join(sources_giving('bars'))}")
    # Companions: the manifest's, then the flags' (a flag replaces that kind's manifest entries).
    entries: dict[str, list[Entry]] = {}
    for kind in KINDS:
        if kind in data:
            raw = data[kind]
            items = raw if isinstance(raw, list) else [raw]
            if len(items) > 1 and not KINDS[kind].many:
                raise UserError(f"{where} '{kind}': takes one source, got {len(items)}")
            entries[kind] = [_manifest_entry(kind, it, f"{where} '{kind}'", base) for it in items]
    for kind, values in (companions or {}).items():
        if not values:
            continue
        if len(values) > 1 and not KINDS[kind].many:
            raise UserError(f"--{kind}: given {len(values)} times; it takes one source")
        entries[kind] = [_flag_entry(kind, v) for v in values]
    for text in options or []:
        _apply_option(text, main, entries)
    for kind, es in entries.items():
        for e in es:
            _check_entry(e)
    _check_entry(main)
    plan = Plan(main, entries, Path(out or data.get("out") or ""), _date(start, "--start", data.get("start")),
                _date(end, "--end", data.get("end")), replace)
    if not out and not data.get("out"):
        raise UserError("--out DIR is required (the market data directory to write)")
    if plan.start and plan.end and plan.end < plan.start:
        raise UserError(f"--end {plan.end} is before --start {plan.start}")
    check_out(plan.out, replace)
    return plan


def _read_manifest(path: Path) -> dict:
    data = read_yaml_file(path, "--manifest") or {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: a manifest is a mapping of keys ({', '.join(MANIFEST_KEYS)})")
    for key in data:
        if key not in MANIFEST_KEYS:
            raise UserError(f"{path}: key '{key}': unknown{did_you_mean(str(key), MANIFEST_KEYS)}; "
                            f"keys: {', '.join(MANIFEST_KEYS)}")
    return data


def _manifest_entry(kind: str, item: Any, label: str, base: Path) -> Entry:
    if isinstance(item, str):
        item = _split(item)
    if not isinstance(item, dict) or "path" not in item:
        raise UserError(f"{label}: expected {{source: NAME, path: PATH, ...}} or 'SOURCE:PATH', got {item!r}")
    item = dict(item)
    source = str(item.pop("source", "table"))
    path = _resolve(item.pop("path"), base)
    settings = {k: item.pop(k) for k in KINDS[kind].settings if k in item}
    return _entry(kind, source, path, item, label, base, settings)


def _flag_entry(kind: str, value: str) -> Entry:
    item = _split(value)
    return _entry(kind, item["source"], _resolve(item["path"], Path.cwd()), {}, f"--{kind} {value}", Path.cwd())


def _split(text: str) -> dict:
    """'SOURCE:PATH' (SOURCE a registered name) or a bare PATH (source 'table')."""
    head, sep, rest = str(text).partition(":")
    if sep and head in IMPORTERS:
        return {"source": head, "path": rest}
    if sep and head and "/" not in head and "\\" not in head and not Path(text).exists():
        raise UserError(f"'{text}': unknown source '{head}'{did_you_mean(head, IMPORTERS)}; write SOURCE:PATH with a "
                        f"source of {', '.join(IMPORTERS)}")
    return {"source": "table", "path": text}


def _entry(kind: str, source: str, path: Path, options: dict, label: str, base: Path,
           settings: dict | None = None) -> Entry:
    try:
        cls = importer_class(source)
    except UserError as exc:
        raise UserError(f"{label}: {exc}") from None
    for key, value in list(options.items()):
        if key in getattr(cls, "path_options", ()):
            options[key] = _resolve(value, base)
    return Entry(kind, source, path, dict(options), dict(settings or {}), label)


def _apply_option(text: str, main: Entry, entries: dict[str, list[Entry]]) -> None:
    target, eq, value = text.partition("=")
    kind, dot, key = target.partition(".")
    if not eq or not dot or not key:
        raise UserError(f"--option {text}: write KIND.KEY=VALUE, e.g. industry.codes=codes.csv or "
                        "source.volume=lots")
    if kind != MAIN and kind not in KINDS:
        raise UserError(f"--option {text}: unknown kind '{kind}'{did_you_mean(kind, [MAIN, *KINDS])}; "
                        f"kinds: {MAIN}, {', '.join(KINDS)}")
    targets = [main] if kind == MAIN else entries.get(kind, [])
    if not targets:
        raise UserError(f"--option {text}: no --{kind} source is given to take it")
    parsed = parse_yaml(value, f"--option {text}") if value else None
    if isinstance(parsed, str) and "," in parsed:
        parsed = [p.strip() for p in parsed.split(",") if p.strip()]
    for e in targets:
        bucket = e.settings if kind in KINDS and key in KINDS[kind].settings else e.options
        cls = importer_class(e.source)
        bucket[key] = Path(parsed) if key in getattr(cls, "path_options", ()) else parsed


def _check_entry(e: Entry) -> None:
    cls = importer_class(e.source)
    if e.kind != MAIN:
        kind = KINDS[e.kind]
        if not set(kind.tables) & set(cls.gives):
            giving = sorted({s for t in kind.tables for s in sources_giving(t)})
            raise UserError(f"{e.label}: source '{e.source}' gives no {e.kind} table (it gives "
                            f"{', '.join(cls.gives)}); sources for {e.kind}: {', '.join(giving)}")
        if e.source == "table":
            e.options["kind"] = kind.tables[0]
    allowed = set(cls.options) | (set(KINDS[e.kind].settings) if e.kind in KINDS else set())
    for key in {**e.options, **e.settings}:
        if key not in allowed and not (key == "kind" and e.source == "table"):
            raise UserError(f"{e.label}: unknown option '{key}' for source '{e.source}'{did_you_mean(key, allowed)}; "
                            f"options: {', '.join(sorted(allowed)) or 'none'}")
    if not e.path.exists():
        raise UserError(f"{e.label}: {e.path}: no such file or directory")
    for key in getattr(cls, "path_options", ()):
        value = e.options.get(key)
        if value is not None and not Path(value).exists():
            raise UserError(f"{e.label}: option {key}: {value}: no such file")


def _kind_for(source: str) -> str:
    gives = importer_class(source).gives
    return next((k.name for k in KINDS.values() if set(k.tables) & set(gives)), "fundamentals")


def _resolve(path: Any, base: Path) -> Path:
    p = Path(str(path)).expanduser()
    return Path(os.path.normpath(p if p.is_absolute() else base / p))


def _date(flag: Optional[str], name: str, fallback: Any) -> Optional[dt.date]:
    value = flag if flag is not None else fallback
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserError(f"{name} {value!r}: not a date; write YYYY-MM-DD") from None
