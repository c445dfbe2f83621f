"""Logging set-up (loguru) and progress bars that stay quiet off a terminal."""
from __future__ import annotations

import sys
from typing import Iterable, Iterator, TypeVar

from loguru import logger

T = TypeVar("T")
_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")


PACKAGE = "ashare_sim"


def setup_logging(level: str = "INFO") -> None:
    """Send loguru to stderr at `level` with a compact format, this package's messages included (they are
    off for a program that imports the package until it asks for them)."""
    level = level.upper()
    if level not in _LEVELS:
        level = "INFO"
    logger.enable(PACKAGE)
    logger.remove()
    # A sink that finds sys.stderr when it writes: tests and embedding programs swap the stream.
    logger.add(lambda message: sys.stderr.write(message), level=level, colorize=sys.stderr.isatty(),
               format="<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message}")


def enable_logging(level: str = "INFO") -> None:
    """Show the simulator's log on stderr at `level` (DEBUG, INFO, WARNING, ERROR). A program that imports
    the package sees none of it until it calls this; it replaces loguru's handlers with one on stderr."""
    if str(level).upper() not in _LEVELS:
        raise ValueError(f"enable_logging: level {level!r}; choose one of {', '.join(_LEVELS)}")
    setup_logging(level)


def disable_logging() -> None:
    """Silence the simulator's messages again (the state right after `import ashare_sim`)."""
    logger.disable(PACKAGE)


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """tqdm progress on a terminal; a plain iterator when stderr is not a TTY."""
    if not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, total=total, leave=False, file=sys.stderr)
