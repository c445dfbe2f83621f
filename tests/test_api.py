"""The public API as a notebook uses it: the documented ten lines run, config objects are immutable and
validated on construction, and the library is silent until asked."""
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ashare_sim as sim
from ashare_sim.config import BrokerConfig, Config

ROOT = Path(__file__).resolve().parents[1]


def notebook_code() -> str:
    """The first python block of docs/python-api.md (the page promises it runs as shown)."""
    text = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block, "docs/python-api.md has no python block"
    return block.group(1)


def test_the_documented_notebook_script_runs_in_ten_lines_or_fewer(tmp_path):
    code = notebook_code()
    assert len([ln for ln in code.splitlines() if ln.strip()]) <= 10
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"-?\d+\.\d% a year, IR -?\d+\.\d\d\n", proc.stdout), proc.stdout
    shown = re.search(r"```\n(-?\d+\.\d% a year, IR -?\d+\.\d\d)\n```", (ROOT / "docs" / "python-api.md").read_text())
    assert shown and shown.group(1) == proc.stdout.strip()          # the page shows the real output
    assert {"metrics.json", "equity.csv", "report.html"} <= {p.name for p in (tmp_path / "demo-out").iterdir()}
    assert proc.stderr == ""                                          # silent: logging is off until asked


def test_the_library_logs_only_when_asked(tmp_path):
    code = ("import ashare_sim as sim\n"
            "sim.generate_market('m', stocks=30, start='2020-01-01', end='2020-06-30', seed=1)\n"
            "cfg = sim.load_config(overrides={'data.path': 'm'})\n"
            "sim.run_backtest(sim.open_market(cfg), cfg)\n"
            "sim.enable_logging('INFO')\n"
            "sim.run_backtest(sim.open_market(cfg), cfg)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines and all("INFO" in ln or "WARNING" in ln for ln in lines)
    assert sum("backtest 2020" in ln for ln in lines) == 1           # only the run after enable_logging


def test_config_objects_are_immutable_and_validated_when_made():
    with pytest.raises(sim.ConfigError, match="config key 'volume_cap': got 5.0; must be <= 1"):
        BrokerConfig(volume_cap=5.0)
    with pytest.raises(sim.ConfigError, match="'deal_price': got 'midpoint'; choose one of open, close, vwap"):
        BrokerConfig(deal_price="midpoint")
    with pytest.raises(sim.ConfigError, match="'broker.slippage.model'.*'sqrt_impactt'.*did you mean 'sqrt_impact'"):
        sim.load_config(overrides={"broker.slippage.model": "sqrt_impactt"})
    cfg = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.broker.cash = 1.0                                                    # type: ignore[misc]
    changed = dataclasses.replace(cfg, broker=dataclasses.replace(cfg.broker, crowd=4))
    assert changed.broker.crowd == 4 and cfg.broker.crowd == 1
    with pytest.raises(sim.ConfigError, match="'crowd': got 0; must be >= 1"):
        dataclasses.replace(cfg.broker, crowd=0)


def test_load_config_takes_a_file_a_preset_and_overrides_as_strings_or_a_mapping(tmp_path):
    study = sim.load_config("study")
    assert study.broker.deal_price == "open" and study.broker.volume_cap is None
    assert sim.load_config("configs/study.yaml") == study
    (tmp_path / "c.yaml").write_text("broker:\n  crowd: 3\n")
    assert sim.load_config(tmp_path / "c.yaml", ["broker.cash=1e6"]).broker.cash == 1e6
    assert sim.load_config(None, {"broker.cash": 2e6, "strategy.top_n": 10}).strategy.top_n == 10
    with pytest.raises(sim.UserError, match="no such config file; give a path, or a shipped preset: default, study"):
        sim.load_config("nope.yaml")


def test_open_market_refuses_a_path_that_is_not_a_market(tmp_path):
    with pytest.raises(sim.UserError, match="no such market data directory"):
        sim.open_market(tmp_path / "missing")


def test_the_package_exports_what_its_docs_page_documents():
    page = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    missing = [name for name in sim.__all__ if name != "__version__" and f"`{name}" not in page]
    assert not missing, f"names of ashare_sim.__all__ not documented in docs/python-api.md: {missing}"
