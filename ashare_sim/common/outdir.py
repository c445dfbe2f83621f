"""Output directories written as one set: checked before any work, staged, then moved in at once.

    check_output_dir(out)                          # before loading anything: exit 2 with the fix
    with output_set(out, "run.json", meta) as stage:
        (stage / "metrics.json").write_text(...)   # every file of the set, folders included
    # here `out` holds exactly this set (plus other kinds' sets, e.g. research/ beside a backtest)

A set's manifest (`run.json` for a backtest) lists its files; a directory is "ours" when it holds a
manifest, and only then may a new set replace an old one. Files of the earlier set that the new one
does not write are removed, so nothing of an earlier run is ever listed as this run's.

Staging happens beside `out` when it does not exist yet (one rename makes it appear whole) and
inside `out` when it does, so moving the files in never crosses file systems even when `out` is a
mount point.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from ashare_sim.common.errors import UserError

# Manifests of the sets this project writes; any of them marks a directory as ours.
MANIFESTS = ("run.json", "research.json", "stress.json")
STAGING_PREFIX = ".staging-"
TOOL = "ashare-smallcap-sim"


def check_output_dir(out: Path, flag: str = "--out") -> None:
    """Refuse, before any work, an output path that cannot take a new set of files."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{flag} {out}: is a file, not a directory; give a directory path")
    if out.is_dir():
        if not os.access(out, os.W_OK | os.X_OK):
            raise UserError(f"{flag} {out}: not writable; choose a directory you can write to")
        foreign = [p.name for p in out.iterdir() if not p.name.startswith(STAGING_PREFIX)]
        if foreign and not any((out / m).is_file() for m in MANIFESTS):
            shown = ", ".join(sorted(foreign)[:3]) + (" ..." if len(foreign) > 3 else "")
            raise UserError(f"{flag} {out}: not empty ({shown}) and not written by this simulator (no "
                            f"{' / '.join(MANIFESTS)}); give a new or empty directory")
        return
    parent = _existing_ancestor(out)
    if not parent.is_dir():
        raise UserError(f"{flag} {out}: {parent} is a file, so the directory cannot be made; choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {out}: cannot create it ({parent} is not writable); choose another path")


@contextlib.contextmanager
def output_set(out: Path, manifest: str, meta: dict[str, Any] | None = None) -> Iterator[Path]:
    """Yield a staging folder; on success its contents become the set `manifest` of `out`."""
    if manifest not in MANIFESTS:
        raise ValueError(f"unknown manifest {manifest!r}; add it to common.outdir.MANIFESTS")
    out = Path(out)
    check_output_dir(out)
    existed = out.is_dir()
    if existed:
        _remove_stale_staging(out)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{out.name}-", dir=out.parent))
    try:
        yield stage
        files = sorted(p.name for p in stage.iterdir())
        record = {"tool": TOOL, "written": dt.datetime.now().isoformat(timespec="seconds"), "files": files,
                  **(meta or {})}
        (stage / manifest).write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
        if existed:
            _replace_set(out, stage, manifest, files)
        else:
            _move(stage, out)
            stage = None
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)


def read_manifest(out: Path, manifest: str) -> dict[str, Any] | None:
    try:
        return json.loads((Path(out) / manifest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _replace_set(out: Path, stage: Path, manifest: str, files: list[str]) -> None:
    old = read_manifest(out, manifest) or {}
    for name in files:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)           # a folder is replaced whole, never merged with an old run's
        _move(stage / name, target)
    for name in set(old.get("files", [])) - set(files) - {manifest}:
        stale = out / name
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        elif stale.exists():
            stale.unlink()
    _move(stage / manifest, out / manifest)     # last: the manifest names a complete set


def _move(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(str(src), str(dst))      # another file system after all: copy, then delete


def _remove_stale_staging(out: Path) -> None:
    """Staging folders left by a killed run (never a live one: those belong to running processes)."""
    for p in out.glob(f"{STAGING_PREFIX}*"):
        with contextlib.suppress(OSError):
            if p.is_dir() and (dt.datetime.now().timestamp() - p.stat().st_mtime) > 24 * 3600:
                shutil.rmtree(p, ignore_errors=True)


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p
