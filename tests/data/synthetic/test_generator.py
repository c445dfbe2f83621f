"""generate_market: the files of docs/data.md, `data validate` passes, same seed same bytes, atomic writes."""
import datetime as dt
import hashlib

import pandas as pd
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.data.synthetic import writer
from ashare_sim.data.synthetic.generator import generate_market
from tests.data.synthetic.conftest import SMALL

TABLES = ("bars", "instruments", "st", "fundamentals", "dividends", "benchmark")


def digests(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_writes_every_table_of_the_spec(market_dir):
    assert sorted(p.name for p in market_dir.iterdir()) == sorted([f"{t}.parquet" for t in TABLES] + ["generator.json"])
    bars = pd.read_parquet(market_dir / "bars.parquet")
    assert list(bars.columns) == ["date", "symbol", "open", "high", "low", "close", "pre_close", "volume", "amount",
                                  "adj_factor", "total_shares", "float_shares"]
    key = pd.DataFrame({"d": pd.to_datetime(bars["date"]), "s": bars["symbol"].astype(str)})
    assert not key.duplicated().any()
    assert key.equals(key.sort_values(["d", "s"]).reset_index(drop=True))       # sorted by (date, symbol)
    inst = pd.read_parquet(market_dir / "instruments.parquet")
    assert {"symbol", "name", "industry", "board", "list_date", "delist_date"} <= set(inst.columns)


def test_data_validate_passes(market_dir):
    validate = pytest.importorskip("ashare_sim.data.validate")
    report = validate.validate_directory(market_dir)
    assert report.ok, report.render()


def test_same_seed_same_bytes_other_seed_other_bytes(market_dir, tmp_path):
    generate_market(tmp_path / "again", **SMALL)
    assert digests(tmp_path / "again") == digests(market_dir)
    generate_market(tmp_path / "other", **{**SMALL, "seed": SMALL["seed"] + 1})
    other = digests(tmp_path / "other")
    assert other["bars.parquet"] != digests(market_dir)["bars.parquet"]


def test_refuses_a_non_empty_output_directory(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "keep.txt").write_text("x")
    with pytest.raises(UserError, match="--out"):
        generate_market(tmp_path / "m", stocks=20, start=dt.date(2021, 1, 1), end=dt.date(2021, 3, 31), seed=1)
    assert (tmp_path / "m" / "keep.txt").exists()


def test_an_error_leaves_no_half_written_directory(tmp_path, monkeypatch):
    def boom(path, df):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "write_frame", boom)
    with pytest.raises(RuntimeError):
        generate_market(tmp_path / "m", stocks=20, start=dt.date(2021, 1, 1), end=dt.date(2021, 3, 31), seed=1)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, name", [
    (dict(stocks=5), "--stocks"),
    (dict(start=dt.date(1999, 1, 1)), "--start"),
    (dict(end=dt.date(2020, 12, 1)), "--end"),
    (dict(seed=-1), "--seed"),
])
def test_bad_arguments_are_user_errors_naming_the_argument(tmp_path, kwargs, name):
    args = dict(stocks=20, start=dt.date(2021, 1, 1), end=dt.date(2021, 3, 31), seed=1) | kwargs
    with pytest.raises(UserError, match=name):
        generate_market(tmp_path / "m", **args)
    assert not (tmp_path / "m").exists()
