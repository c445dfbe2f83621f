"""tca.html and the TCA output set (report.tca): every file written as one set, the figures in tca.json, and
charts that draw something."""
import base64
import dataclasses
import datetime as dt
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import ashare_sim as sim
from ashare_sim.common.errors import UserError
from ashare_sim.metrics.tca import FILL_COLUMNS, analyse, read_trades
from ashare_sim.report.tca import day_chart, k_chart, participation_chart, render, write_tca
from tests.conftest import generated_market

FILES = {"tca_fills.csv", "tca_by_day.csv", "tca_by_name.csv", "tca_by_participation.csv", "tca_by_side.csv",
         "tca.html", "tca.json"}


@pytest.fixture(scope="module")
def tca(tmp_path_factory):
    market_dir = generated_market(tmp_path_factory, "tca_page", stocks=60, start=dt.date(2020, 1, 1),
                                  end=dt.date(2020, 12, 31), seed=3)
    cfg = sim.load_config(overrides={"data.path": str(market_dir)})
    market = sim.open_market(cfg)
    out = tmp_path_factory.mktemp("bt") / "out"
    sim.run_backtest(market, cfg, out=out)
    return analyse(read_trades(out / "trades.csv"), market, cfg)


def drawn(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")


def assert_not_empty(uri: str) -> None:
    """A chart with data on it: many colours, not a blank frame with axes."""
    img = np.asarray(drawn(uri)).astype(np.int32)
    assert img.shape[0] > 200 and img.shape[1] > 800
    colours = (img[..., 0] << 16) | (img[..., 1] << 8) | img[..., 2]
    assert len(np.unique(colours)) > 50
    assert (img.min(axis=2) < 200).mean() > 0.02            # ink on at least 2% of the pixels


def test_the_set_is_written_whole_with_the_figures_in_tca_json(tca, tmp_path):
    out = tmp_path / "tca"
    names = write_tca(out, tca)
    assert set(names) == FILES == {p.name for p in out.iterdir()}
    meta = json.loads((out / "tca.json").read_text())
    assert meta["tool"] == "ashare-sim" and meta["kind"] == "tca" and set(meta["files"]) == FILES - {"tca.json"}
    k = meta["k_estimate"]
    assert k["k"] == pytest.approx(tca.k.k) and k["ci_low"] <= 0.3 <= k["ci_high"]
    assert k["n"] == tca.k.n > 100 and k["configured_k"] == 0.3 and k["configured_model"] == "sqrt_impact"
    assert k["excluded"] == tca.k.excluded and set(meta["exclusion_reasons"]) == set(tca.k.excluded)
    assert "maximum likelihood" in k["method"] and meta["backtest_comparison"] is None
    assert meta["summary"]["fills"] == len(tca.fills) and meta["summary"]["first_date"] == str(tca.fills["date"].min())
    fills = pd.read_csv(out / "tca_fills.csv")
    assert list(fills.columns) == FILL_COLUMNS and len(fills) == len(tca.fills)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", fills["date"].iloc[0])
    buckets = pd.read_csv(out / "tca_by_participation.csv")
    assert buckets["participation_bucket"].tolist() == ["<1%", "1-2.5%", "2.5-5%", "5-10%", ">=10%"]
    assert buckets["fills"].sum() == len(tca.fills)
    assert pd.read_csv(out / "tca_by_side.csv")["notional"].sum() == pytest.approx(tca.fills["notional"].sum())
    # Run again: the set is replaced (tca.json marks the folder as ours), not refused.
    assert set(write_tca(out, tca)) == FILES


def test_a_folder_of_other_files_is_refused_before_anything_is_written(tca, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty .* and not written by this simulator"):
        write_tca(tmp_path, tca)
    assert {p.name for p in tmp_path.iterdir()} == {"notes.txt"}


def test_the_page_has_its_sections_and_three_charts_that_draw_something(tca):
    page = render(tca)
    for title in ("Square-root impact: k from the fills", "By participation", "By side", "By day", "By name",
                  "The backtest with the estimated k", "Definitions"):
        assert f"<h2>{title}</h2>" in page
    images = re.findall(r'<img src="(data:image/png;base64,[^"]+)"', page)
    assert len(images) == 3
    for uri in images:
        assert_not_empty(uri)
    assert "http://" not in page and "https://" not in page           # self-contained
    assert f"{tca.k.k:.4f}" in page and "cut_for_cash" in page and "Not run" in page


def test_each_chart_draws_its_data(tca):
    assert_not_empty(k_chart(tca.fills, tca.k.k, tca.k.configured_k))
    assert_not_empty(participation_chart(tca.by_participation))
    assert_not_empty(day_chart(tca.by_day))                              # bars: a few days
    days = pd.DataFrame({"date": pd.date_range("2015-01-05", periods=300, freq="B").date, "fills": 3,
                         "notional": 1e6, "is_decision_bp": np.sin(np.arange(300)) * 50,
                         "slippage_bp": np.full(300, 8.0)})
    assert_not_empty(day_chart(days))                                    # points and their mean: many days
    assert k_chart(tca.fills.assign(used_for_k=False), None, 0.3) is None
    assert day_chart(tca.by_day.iloc[:0]) is None


def test_the_backtest_comparison_is_shown_side_by_side(tca):
    tca_with = dataclasses.replace(tca, comparison={
        "runs": [{"label": "configured k", "k": 0.3, "annual_return": 0.12, "excess_annual_return": 0.02,
                  "information_ratio": 0.5, "max_drawdown": -0.2, "final_value": 1.1e7, "slippage": 12345.0,
                  "total_costs": 23456.0},
                 {"label": "estimated k", "k": 0.31, "annual_return": 0.11, "excess_annual_return": 0.01,
                  "information_ratio": 0.4, "max_drawdown": -0.21, "final_value": 1.09e7, "slippage": 13000.0,
                  "total_costs": 24000.0}],
        "notes": ["both runs: the configured backtest"]})
    page = render(tca_with)
    section = page[page.index('<section id="backtest">'):page.index('<section id="definitions">')]
    assert "configured k" in section and "estimated k" in section and "0.3100" in section
    assert "¥12,345" in section and "¥13,000" in section and "12.0%" in section and "Not run" not in section
