"""Progress of long steps: one line when a phase starts and one when it ends off a terminal, nothing while
the log is off or at -q, a bar on a terminal."""
import io
import sys

import pytest

from ashare_sim.common import logs


@pytest.fixture
def stderr(monkeypatch):
    """A StringIO as sys.stderr, set when the test asks (pytest's capture resets sys.stderr between phases)."""
    buf = io.StringIO()
    yield lambda: monkeypatch.setattr(sys, "stderr", buf) or buf
    logs.disable_logging()                   # the suite's own state: the package's log on, no bars
    from loguru import logger
    logger.enable("ashare_sim")


def test_a_phase_off_a_terminal_is_one_line_at_its_start_and_one_at_its_end(stderr):
    stderr = stderr()
    logs.setup_logging("INFO")
    with logs.Phase("backtest", total=3, unit="day", start_text="2020-01-02..2020-01-06") as tick:
        for _ in range(3):
            tick(1)
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("backtest: 3 day(s), 2020-01-02..2020-01-06 ...")
    assert "backtest: done in" in lines[1]


@pytest.mark.parametrize("quiet", ["WARNING", None])
def test_a_phase_is_quiet_at_warning_level_and_for_a_library_user(stderr, quiet):
    stderr = stderr()
    if quiet:
        logs.setup_logging(quiet)
    else:
        logs.disable_logging()
    with logs.Phase("market cache", start_text="writing 5 MB") as tick:
        tick(1)
    assert stderr.getvalue() == ""


def test_a_phase_on_a_terminal_draws_a_bar_and_clears_it(stderr, monkeypatch):
    stderr = stderr()
    logs.setup_logging("INFO")
    monkeypatch.setattr(stderr, "isatty", lambda: True, raising=False)
    with logs.Phase("backtest", total=4, unit="day") as tick:
        for _ in range(4):
            tick(1)
    text = stderr.getvalue()
    assert "backtest:" in text and "/4 [" in text and "day/s" in text        # drawn (redrawn at most 5 times a s)
    assert text.endswith(" \r") and "INFO" not in text                      # then cleared, no log lines
