"""The manual keeps up with the code: every command and option, config key, reason code, output file and
registered model is named in docs/, links resolve, and nothing points at files the project does not ship."""
import argparse
import re
from pathlib import Path

import pytest

from ashare_sim.cli.main import build_parser
from ashare_sim.common.registry import Registry
from ashare_sim.common.typed import field_paths
from ashare_sim.config import Config
from ashare_sim.execution.orders import Reason

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Notes of the people who wrote the project that it does not ship (spelled in pieces: this file names them).
UNSHIPPED = ("SPEC" + ".md", "SPEC" + " §", "PERF" + "_NOTES", "ASHARE" + "_RULES", "../shared/" + "SPEC")
PAGES = ["README.md"] + [f"docs/{p.name}" for p in sorted(DOCS.glob("*.md"))]


def page(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def all_docs() -> str:
    return "\n".join(page(p) for p in PAGES)


def commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(command path, its option strings) for every command and subcommand of the CLI."""
    options = [s for a in parser._actions for s in a.option_strings if s.startswith("--") and s != "--help"]
    yield prefix, options
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, prefix + (name,))


def test_every_command_and_option_is_in_the_commands_page():
    text = page("docs/commands.md")
    for path, options in commands(build_parser()):
        if path:
            assert " ".join(path) in text, f"command '{' '.join(path)}' is missing from docs/commands.md"
        for opt in options:
            assert opt in text, f"option {opt} of '{' '.join(path) or 'ashare-sim'}' is missing from docs/commands.md"


def test_every_config_key_is_in_the_configuration_page():
    text = page("docs/configuration.md")
    missing = [k for k in field_paths(Config) if f"`{k}`" not in text and f"{k}:" not in text]
    assert not missing, f"config keys missing from docs/configuration.md: {missing}"


def test_every_reason_code_is_documented():
    text = page("docs/execution.md") + page("docs/outputs.md")
    missing = [r.value for r in Reason if f"`{r.value}`" not in text]
    assert not missing, f"reason codes missing from docs/execution.md and docs/outputs.md: {missing}"


def test_every_registered_model_has_a_description_and_is_documented():
    import ashare_sim.config  # noqa: F401  (loads every registry of the execution core, factors, adapters)
    import ashare_sim.data.importers.registry  # noqa: F401

    text = all_docs()
    assert len(Registry.ALL) >= 9
    for registry in Registry.ALL:
        for cls in registry.classes():
            assert cls.description.strip(), f"{registry.what} '{cls.name}' has no description"
            assert f"`{cls.name}`" in text, f"{registry.what} '{cls.name}' is not named in the docs"


def test_every_output_file_is_in_the_outputs_page(tmp_path):
    import ashare_sim as sim

    sim.generate_market(tmp_path / "m", stocks=30, start="2020-01-01", end="2021-06-30", seed=2)
    cfg = sim.load_config(overrides={"data.path": str(tmp_path / "m"), "research.compare_neutral": "none",
                                     "backtest.start": "2021-01-01"})
    market = sim.open_market(cfg)
    sim.run_backtest(market, cfg, out=tmp_path / "out")
    sim.run_research(market, cfg, out=tmp_path / "out")
    written = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    names = {w.split("/")[-1] for w in written} | {"stress.csv", "episodes.csv", "stress.html", "stress.json"}
    text = page("docs/outputs.md") + page("docs/research.md") + page("docs/stress.md")
    missing = sorted(n for n in names if n not in text)
    assert not missing, f"output files missing from docs/outputs.md, research.md and stress.md: {missing}"


@pytest.mark.parametrize("name", PAGES)
def test_pages_link_to_files_that_exist_and_name_nothing_unshipped(name):
    text = page(name)
    for bad in UNSHIPPED + (".library",):
        assert bad not in text, f"{name} names '{bad}', which the project does not ship"
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        resolved = ((ROOT / name).parent / target).resolve()
        assert resolved.exists(), f"{name} links to {target}, which does not exist"


def test_code_and_tests_cite_no_unshipped_notes():
    for folder in ("ashare_sim", "tests", "bench"):
        for f in (ROOT / folder).rglob("*"):
            if f.suffix in (".py", ".yaml", ".md") and f.name != "test_docs.py":
                text = f.read_text(encoding="utf-8")
                for bad in UNSHIPPED:
                    assert bad not in text, f"{f.relative_to(ROOT)} cites '{bad}', which the project does not ship"


def test_the_documented_one_machine_dask_scheduler_listens_on_loopback_only():
    """`dask scheduler --no-dashboard`, as the docs once showed, opened its web server on every interface."""
    import os
    import shlex
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip("no dask command beside this interpreter")
    line = next(ln for ln in page("docs/stress.md").splitlines() if ln.startswith("dask scheduler --host 127.0.0.1"))
    argv = shlex.split(line.replace("--port 8786", "--port 0"))       # a free port: tests may run side by side
    proc = subprocess.Popen([str(dask), *argv[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=ROOT, start_new_session=True)
    try:
        seen: set[tuple[str, int]] = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(seen) < 2:      # the scheduler's port and its web server's
            seen |= {(c.laddr.ip, c.laddr.port) for c in psutil.Process(proc.pid).net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN}
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.2)
        time.sleep(2)
        seen |= {(c.laddr.ip, c.laddr.port) for c in psutil.Process(proc.pid).net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN}
        assert len(seen) >= 2, seen
        assert {ip for ip, _ in seen} == {"127.0.0.1"}, seen
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
