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
    global _BARS
    _BARS = _LEVELS.index(level) <= _LEVELS.index("INFO")       # -q (warnings only) hides them too


def enable_logging(level: str = "INFO") -> None:
    """Show the simulator's log on stderr at `level` (DEBUG, INFO, WARNING, ERROR). A program that imports
    the package sees none of it until it calls this; it replaces loguru's handlers with one on stderr."""
    if str(level).upper() not in _LEVELS:
        raise ValueError(f"enable_logging: level {level!r}; choose one of {', '.join(_LEVELS)}")
    setup_logging(level)


def disable_logging() -> None:
    """Silence the simulator's messages again (the state right after `import ashare_sim`)."""
    global _BARS
    _BARS = False
    logger.disable(PACKAGE)


# Progress is shown once the log is on at INFO or below (the command line; a library user who asked).
_BARS = False


class Phase:
    """A long step's progress: a tqdm bar on a terminal, else one line when it starts and one when it ends
    (a log file or CI gets the phase and its time, not a bar's redraws). Quiet while the log is off.

        with Phase("backtest", total=3140, unit="day") as tick:
            for day in days:
                ...; tick(1)
    """

    def __init__(self, desc: str, total: int | None = None, unit: str = "it", start_text: str = ""):
        self.desc, self.total, self.unit, self.start_text = desc, total, unit, start_text
        self._bar = None
        self._began = 0.0

    def __enter__(self):
        import time

        self._began = time.perf_counter()
        if not _BARS:
            return self._none
        if sys.stderr.isatty():
            from tqdm import tqdm

            # Without a count, a bar says what runs and for how long (not "0it").
            fmt = None if self.total else "{desc} ({elapsed})"
            desc = self.desc if self.total or not self.start_text else f"{self.desc}: {self.start_text}"
            self._bar = tqdm(total=self.total, desc=desc, unit=self.unit, leave=False, file=sys.stderr,
                             mininterval=0.2, bar_format=fmt)
            return self._bar.update
        count = f" {self.total:,} {self.unit}(s)" if self.total else ""
        logger.info(f"{self.desc}:{count}{', ' + self.start_text if self.start_text and count else ' ' + self.start_text if self.start_text else ''} ...")
        return self._none

    def __exit__(self, kind, exc, tb) -> None:
        import time

        if self._bar is not None:
            self._bar.close()
        elif _BARS and kind is None and not sys.stderr.isatty():
            logger.info(f"{self.desc}: done in {time.perf_counter() - self._began:.1f} s")

    @staticmethod
    def _none(n: int = 1) -> None:
        return None


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """tqdm progress on a terminal; a plain iterator when stderr is not a TTY."""
    if not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, total=total, leave=False, file=sys.stderr)
