"""Output directories written as one set: checked before any work, staged, then switched in at once.

    check_output_dir(out)                          # before loading anything: exit 2 with the fix
    with output_set(out, "run.json", meta) as stage:
        (stage / "metrics.json").write_text(...)   # every file of the set, folders included
    # here `out` holds exactly this set (plus other kinds' sets, e.g. research/ beside a backtest)

A set's manifest (`run.json` for a backtest) lists its files; a directory is "ours" when it holds a
manifest, and only then may a new set replace an old one. Nothing of an earlier set of the same kind
is ever left beside the new one.

The switch is one step. The new set is staged as a complete copy of `out` beside it (the new files,
plus hard links to everything else already in `out`: other kinds' sets, files the user put there),
then exchanged with `out` in one system call (renameat2 RENAME_EXCHANGE), so at every instant `out`
is the whole old directory or the whole new one, kill -9 included. Where the kernel or file system
cannot exchange, `out` is renamed aside and the stage renamed in (a kill between the two leaves the
old directory aside, and the next run puts it back). When `out` does not exist yet, one rename makes
it appear whole. Entries of an old manifest are never used to delete anything: the old set simply is
not carried over. Only when `out` is a mount point (its parent on another file system) are the files
moved in one by one, manifest last.
"""
from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from ashare_sim.common.errors import UserError

# Manifests of the sets this project writes; any of them marks a directory as ours.
MANIFESTS = ("run.json", "research.json", "stress.json", "tca.json")
STAGING_PREFIX = ".staging-"
TRASH_PREFIX = ".replaced-"
TOOL = "ashare-sim"
RENAME_EXCHANGE = 2                   # renameat2 flag (Linux 3.15+)


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
        parent = out.absolute().parent
        if not os.path.ismount(out) and not os.access(parent, os.W_OK | os.X_OK):
            raise UserError(f"{flag} {out}: its folder {parent} is not writable, and a new set is made beside "
                            "the old one and switched in whole; choose a directory in a folder you can write to")
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
    recover(out)
    check_output_dir(out)
    existed = out.is_dir()
    in_place = existed and os.path.ismount(out)
    if in_place:                      # a mount point cannot be exchanged: stage inside it, move files in
        _remove_stale(out, STAGING_PREFIX)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(out.parent, f"{STAGING_PREFIX}{out.name}-")
        stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{out.name}-", dir=out.parent))
    try:
        yield stage
        files = sorted(p.name for p in stage.iterdir())
        record = {"tool": TOOL, "written": dt.datetime.now().isoformat(timespec="seconds"), "files": files,
                  **(meta or {})}
        (stage / manifest).write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
        if in_place:
            _move_in(out, stage, manifest, files)
            return
        _readable(stage)
        if existed:
            _carry_over(out, stage, manifest, set(files) | {manifest})
            stage = _switch(out, stage)
        else:
            os.rename(stage, out)
            stage = None
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)


def recover(out: Path, markers: tuple[str, ...] = MANIFESTS) -> None:
    """A run killed between the two renames of the fallback switch left `out` missing and the old folder
    aside: put it back (the new one never arrived). `markers`: files that make a folder ours."""
    out = Path(out)
    if out.exists() or out.is_symlink() or not out.parent.is_dir():
        return
    aside = sorted(out.parent.glob(f"{TRASH_PREFIX}{out.name}-*"), key=lambda p: p.stat().st_mtime)
    if aside and any((aside[-1] / m).is_file() for m in markers):
        os.rename(aside[-1], out)


def switch_dir(out: Path, stage: Path) -> None:
    """Make the complete folder `stage` (a sibling of `out`) the folder `out` in one step, and remove the old
    one: an atomic exchange where the system has one, else out aside then stage in (recover() undoes a
    kill between the two)."""
    old = _switch(Path(out), Path(stage))
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(out: Path, manifest: str) -> dict[str, Any] | None:
    try:
        return json.loads((Path(out) / manifest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _carry_over(out: Path, stage: Path, manifest: str, new: set[str]) -> None:
    """Hard-link into the stage everything of `out` that stays: every entry but the old set of this kind
    (the names its manifest lists, when they are plain names inside `out`), the names the new set writes,
    and our own staging folders."""
    old = read_manifest(out, manifest) or {}
    listed = old.get("files", []) if isinstance(old.get("files"), list) else []
    old_set = {n for n in listed if _plain_name(n)} | {manifest}
    for entry in os.scandir(out):
        name = entry.name
        if name in new or name in old_set or name.startswith((STAGING_PREFIX, TRASH_PREFIX)):
            continue
        _link_tree(Path(entry.path), stage / name)


def _plain_name(name: object) -> bool:
    """A manifest entry is a file or folder directly in the set's directory, nothing else."""
    return (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name
            and not os.path.isabs(name))


def _link_tree(src: Path, dst: Path) -> None:
    """`cp -al`: folders made anew, files hard-linked (copied where links are refused), links kept as links."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        dst.mkdir()
        shutil.copystat(src, dst)
        for entry in os.scandir(src):
            _link_tree(Path(entry.path), dst / entry.name)
    else:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


def _switch(out: Path, stage: Path) -> Path:
    """Make the stage `out` in one step; returns the path now holding the old directory (to be removed)."""
    if _exchange(stage, out):
        return stage
    aside = Path(tempfile.mkdtemp(prefix=f"{TRASH_PREFIX}{out.name}-", dir=out.parent))
    os.rmdir(aside)
    os.rename(out, aside)             # a kill here: recover() puts the old directory back
    os.rename(stage, out)
    return aside


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux renameat2); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _move_in(out: Path, stage: Path, manifest: str, files: list[str]) -> None:
    """The mount-point case: the new files moved in one by one, the old set's other files removed (plain
    names inside `out` only), the manifest last."""
    old = read_manifest(out, manifest) or {}
    listed = old.get("files", []) if isinstance(old.get("files"), list) else []
    for name in files:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)           # a folder is replaced whole, never merged with an old run's
        os.replace(stage / name, target)
    for name in set(n for n in listed if _plain_name(n)) - set(files) - {manifest}:
        stale = out / name
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        elif stale.exists() or stale.is_symlink():
            stale.unlink()
    os.replace(stage / manifest, out / manifest)     # last: the manifest names a complete set


def _readable(folder: Path) -> None:
    """mkdtemp makes folders 0700; a set is shared like any folder the user makes (umask applies)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(folder, 0o777 & ~mask)


def _remove_stale(folder: Path, prefix: str) -> None:
    """Staging and replaced folders left by killed runs (a day old: never a live run's)."""
    for p in list(folder.glob(f"{prefix}*")) + list(folder.glob(TRASH_PREFIX + prefix[len(STAGING_PREFIX):] + "*")):
        with contextlib.suppress(OSError):
            if p.is_dir() and (dt.datetime.now().timestamp() - p.stat().st_mtime) > 24 * 3600:
                shutil.rmtree(p, ignore_errors=True)


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p
