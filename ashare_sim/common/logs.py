"""Logging set-up (loguru) and progress bars that stay quiet off a terminal."""
from __future__ import annotations

import sys
from typing import Iterable, Iterator, TypeVar

from loguru import logger

T = TypeVar("T")
_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")


def setup_logging(level: str = "INFO") -> None:
    """Send loguru to stderr at `level` with a compact format."""
    level = level.upper()
    if level not in _LEVELS:
        level = "INFO"
    logger.remove()
    # A sink that finds sys.stderr when it writes: tests and embedding programs swap the stream.
    logger.add(lambda message: sys.stderr.write(message), level=level, colorize=sys.stderr.isatty(),
               format="<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message}")


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """tqdm progress on a terminal; a plain iterator when stderr is not a TTY."""
    if not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, total=total, leave=False, file=sys.stderr)
