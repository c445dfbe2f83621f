"""A bar the data cannot have is refused by the loader (or dropped and counted when asked) and never
written by an import: one definition (data.checks), the same as `data validate` reports."""
import datetime as dt
import re

import pandas as pd
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.checks import bar_faults
from ashare_sim.data.market import load_market
from ashare_sim.data.synthetic.generator import generate_market
from ashare_sim.data.validate import validate_directory
from tests.data.importers.sources import run, write_qlib


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("bad") / "m"
    generate_market(out, stocks=20, start=dt.date(2020, 1, 1), end=dt.date(2020, 3, 31), seed=4)
    return out


def spoil(clean, tmp_path, edit) -> "Path":  # noqa: F821
    import shutil

    out = tmp_path / "m"
    shutil.copytree(clean, out)
    bars = pd.read_parquet(out / "bars.parquet")
    traded = bars.index[bars["volume"] > 0]
    edit(bars, traded)
    bars.to_parquet(out / "bars.parquet")
    return out


@pytest.mark.parametrize("name, edit, message", [
    ("negative price", lambda b, i: b.__setitem__("open", b["open"].where(b.index != i[3], -1.0)), "open: price must be > 0"),   # (and so low above min(open, close))
    ("high below low", lambda b, i: b.__setitem__("high", b["high"].where(b.index != i[4], 0.5)),
     "high: high below max(open, close)"),
    ("close above high", lambda b, i: b.__setitem__("close", b["close"].where(b.index != i[5], 1e4)),
     "high: high below max(open, close)"),
    ("negative volume", lambda b, i: b.__setitem__("volume", b["volume"].where(b.index != i[6], -100.0)),
     "volume: must be >= 0"),
])
def test_the_loader_refuses_what_validate_calls_an_error_and_drops_it_only_when_asked(clean, tmp_path, name, edit,
                                                                                      message):
    path = spoil(clean, tmp_path, edit)
    report = validate_directory(path)
    assert not report.ok                                            # validate says it is an error ...
    with pytest.raises(DataError, match=re.escape(f"1 bar(s) the data cannot have ({message} 1")):
        load_market(path)                                           # ... and the loader refuses it
    dropped = load_market(path, bad_bars="drop")
    baseline = load_market(clean)
    assert int(baseline.has_bar.sum()) - int(dropped.has_bar.sum()) == 1
    assert any("1 bad bar(s) left out as days without a bar" in n for n in dropped.notes)


def test_a_backtest_on_bad_data_is_exit_2_with_the_bar_named(clean, tmp_path, capsys):
    path = spoil(clean, tmp_path, lambda b, i: b.__setitem__("low", b["low"].where(b.index != i[2], 1e4)))
    from ashare_sim.cli.main import main

    code = main(["-q", "backtest", "--set", f"data.path={path}", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "the data cannot have (low: low above min(open, close) 1)" in err
    assert "data.bad_bars: drop" in err and not (tmp_path / "o").exists()
    code = main(["-q", "backtest", "--set", f"data.path={path}", "--set", "data.bad_bars=drop",
                 "--out", str(tmp_path / "o")])
    assert code == 0


def test_an_import_never_writes_a_bad_bar(tmp_path, capsys):
    cal = ["2021-03-01", "2021-03-02", "2021-03-03"]
    series = {"SH600000": {"open": [10.0, 10.0, 10.0], "high": [10.1, 9.0, 10.1], "low": [9.9, 9.9, 9.9],
                           "close": [10.0, 10.0, 10.0], "volume": [1e6, 1e6, 1e6], "factor": [1, 1, 1]}}
    src = write_qlib(tmp_path / "q", cal, series)
    code, _, err = run("data", "import", "--source", "qlib", str(src), "--out", str(tmp_path / "m"), capsys=capsys)
    assert code == 2 and "bar(s) the sources give that a market cannot have" in err
    assert "600000.SH on 2021-03-02: high" in err and not (tmp_path / "m").exists()


def test_one_definition_serves_rows_and_panels():
    import numpy as np

    rows = {"open": [10, 10], "high": [11, 9], "low": [9, 9], "close": [10, 10], "volume": [5, 5]}
    assert [(f.column, f.mask.tolist()) for f in bar_faults(rows)] == [("high", [False, True])]
    panel = {k: np.array(v, dtype=np.float32).reshape(1, 2) for k, v in rows.items()}
    assert bar_faults(panel)[0].mask.shape == (1, 2)


def test_a_stock_whose_bars_stop_long_before_the_end_without_a_delisting_is_named(tmp_path):
    from ashare_sim.data.coverage import STALE_DAYS, stale_listings

    out = tmp_path / "m"
    generate_market(out, stocks=15, start=dt.date(2019, 1, 1), end=dt.date(2020, 12, 31), seed=6)
    bars = pd.read_parquet(out / "bars.parquet")
    inst = pd.read_parquet(out / "instruments.parquet")
    victim = inst.loc[inst["delist_date"].isna(), "symbol"].iloc[0]
    days = sorted(bars["date"].unique())
    cut = days[len(days) - STALE_DAYS - 20]
    bars = bars[~((bars["symbol"] == victim) & (bars["date"] > cut))]       # the source forgot it
    bars.to_parquet(out / "bars.parquet")
    market = load_market(out)
    assert [s for s, _ in stale_listings(market)] == [victim]
    report = validate_directory(out)
    assert any("stale" in w and victim in w for w in report.render().splitlines())
    from ashare_sim.cli.main import main

    assert main(["-q", "backtest", "--set", f"data.path={out}", "--out", str(tmp_path / "o")]) == 0
    import json

    stale = json.loads((tmp_path / "o" / "metrics.json").read_text())["data"]["stale"]
    assert stale["count"] == 1 and victim in stale["examples"][0]
    assert "Stale listings" in (tmp_path / "o" / "report.html").read_text()
