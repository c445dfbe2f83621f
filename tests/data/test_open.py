"""`make run`'s default market: generated when missing, regenerated when stale, never someone else's data."""
import json

import pytest

from ashare_sim.config import load_config
from ashare_sim.data.open import ensure_market
from ashare_sim.data.synthetic.stamp import STAMP_FILE

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
SMALL = ["data.generate.stocks=20", "data.generate.start=2021-01-01", "data.generate.end=2021-03-31"]


def test_generated_once_then_reused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = ensure_market(load_config(None, SMALL))
    stamp = json.loads((path / STAMP_FILE).read_text())
    assert stamp["stocks"] == 20 and stamp["seed"] == 20240101 and len(stamp["fingerprint"]) == 16
    mtime = (path / "bars.parquet").stat().st_mtime_ns
    ensure_market(load_config(None, SMALL))
    assert (path / "bars.parquet").stat().st_mtime_ns == mtime


def test_other_arguments_or_generator_regenerate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = ensure_market(load_config(None, SMALL))
    ensure_market(load_config(None, SMALL + ["data.generate.seed=5"]))
    assert json.loads((path / STAMP_FILE).read_text())["seed"] == 5
    stale = json.loads((path / STAMP_FILE).read_text())
    stale["seed"], stale["fingerprint"] = 20240101, "0" * 16       # as an older generator would have left it
    (path / STAMP_FILE).write_text(json.dumps(stale))
    ensure_market(load_config(None, SMALL))
    assert json.loads((path / STAMP_FILE).read_text())["fingerprint"] != "0" * 16


def test_a_directory_without_our_stamp_is_never_touched(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    own = tmp_path / "data" / "synthetic"
    own.mkdir(parents=True)
    (own / "bars.csv").write_text("mine")
    ensure_market(load_config(None, SMALL))
    assert (own / "bars.csv").read_text() == "mine" and not (own / STAMP_FILE).exists()


def test_a_configured_path_is_never_generated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ensure_market(load_config(None, SMALL + [f"data.path={tmp_path / 'elsewhere'}"]))
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "data").exists()
