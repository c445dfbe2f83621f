"""An exclusive lock on a file beside a resource, held for as long as a long task runs (a live trading
session commits many small transactions and must not let another process in between them).

    with exclusive(Path("acct.db.lock"), "--account acct.db", "a paper run is trading it"):
        ...

The operating system drops the lock when the process ends, kill -9 included: a crash never leaves a
stale lock behind. fcntl on POSIX, msvcrt on Windows (where miniQMT runs).
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from ashare_sim.common.errors import UserError


@contextlib.contextmanager
def exclusive(path: Path, what: str, holder: str) -> Iterator[None]:
    """Hold `path` exclusively, or refuse at once (UserError naming `what` and who holds it)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UserError(f"{what}: cannot open its lock file {path} ({exc.strerror}); choose a writable folder") \
            from None
    try:
        try:
            _lock(fd)
        except OSError:
            raise UserError(f"{what}: {holder} in another process; wait for it to end (or end it), then run "
                            "again") from None
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if os.name == "nt":                                 # pragma: no cover (Windows)
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
