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


def test_a_copied_config_uses_the_embedded_market_already_made_rather_than_a_second_one(tmp_path, monkeypatch):
    """A copy of config.yaml in a subfolder keeps `data.path: data/synthetic`; it once generated a second
    5,000-stock market beside the copy without a word."""
    monkeypatch.chdir(tmp_path)
    made = ensure_market(load_config(None, SMALL))
    copy = tmp_path / "configs" / "mine.yaml"
    copy.parent.mkdir()
    copy.write_text("data:\n  path: data/synthetic\n")
    said = []
    from loguru import logger
    sink = logger.add(lambda m: said.append(str(m)), level="INFO")
    try:
        cfg = load_config(copy, SMALL)
    finally:
        logger.remove(sink)
    assert ensure_market(cfg).resolve() == made.resolve()
    assert not (copy.parent / "data").exists()
    assert any("not beside the file" in s and str(made) in s for s in said)
    beside = copy.parent / "data" / "synthetic"        # a market beside the copy is the copy's own
    beside.mkdir(parents=True)
    assert load_config(copy, SMALL).data.path == str(beside)


def test_generating_the_embedded_market_is_announced_with_its_size(tmp_path, monkeypatch):
    """In the working directory (the quick start) at INFO; beside a config file elsewhere, a warning."""
    monkeypatch.chdir(tmp_path)
    said = []
    from loguru import logger
    sink = logger.add(lambda m: said.append((m.record["level"].name, str(m))), level="INFO")
    try:
        ensure_market(load_config(None, SMALL))
        other = tmp_path / "elsewhere" / "c.yaml"
        other.parent.mkdir()
        other.write_text("data:\n  path: data/synthetic\n")
        (tmp_path / "data" / "synthetic").rename(tmp_path / "moved")       # none in the working directory now
        ensure_market(load_config(other, SMALL))
    finally:
        logger.remove(sink)
    made = [(level, text) for level, text in said if "generating the embedded synthetic market" in text]
    assert [level for level, _ in made] == ["INFO", "WARNING"] and all("MB on disk" in t for _, t in made)
