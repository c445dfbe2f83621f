"""stress.html draws every grid: axis values matched by value, numeric axes to scale with `none` apart,
a heat map per pair of axes, the capacity curve's halving point in words, and no empty chart.

The pages are rendered from made-up scenario results (no market data): the shipped grids and small
grids written here are loaded as `run.py stress` loads them, their results put through stress.outputs as
a run does, and every chart is decoded from its PNG to check each panel has something drawn in it."""
from __future__ import annotations

import base64
import io
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ashare_sim.config.schema import Config
from ashare_sim.report import stress_charts
from ashare_sim.report.stress import _axis, _heatmap, _slices, render
from ashare_sim.report.stress_charts import AXIS_METRICS, Series, _positions, axis_chart
from ashare_sim.report.tables import cny_short
from ashare_sim.stress.episodes import EPISODE_COLUMNS
from ashare_sim.stress.grid import load_grid
from ashare_sim.stress.outputs import (
    capacity_curves,
    episodes_table,
    reference_scenario,
    stress_table,
)
from ashare_sim.stress.scenarios import Outcome

INT_2X2 = "base: {broker.slippage.model: fixed_bps}\naxes:\n  broker.slippage.bps: [0, 30]\n  broker.volume_cap: [0.05, null]\n"
THREE_AXES = ("base: {broker.slippage.model: fixed_bps}\naxes:\n  broker.cash: [1e7, 1e9]\n"
              "  broker.slippage.bps: [0, 30]\n  broker.volume_cap: [null, 0.1]\n")


# ----- made-up results ---------------------------------------------------------------------------
def _metrics(cfg: Config) -> dict:
    """Figures that move with the scenario's keys, as a real grid's do (excess falls with capital and
    slippage), none of them zero everywhere so that every panel has a line off its axis."""
    b = cfg.broker
    capital = b.cash * b.crowd
    cap = 1.0 if b.volume_cap is None else b.volume_cap
    excess = (0.12 / (1 + capital / 2e9) - b.slippage.bps * 8e-5 + 0.01 * (1 - cap)
              - 0.004 * cfg.strategy.signal_delay + 0.001 * (len(b.deal_price) - 4) + 0.002 * (b.limit_rule == "locked"))
    return {"annual_return": excess + 0.1, "excess_annual_return": excess, "information_ratio": 20 * excess,
            "max_drawdown": -0.3 + excess, "annual_turnover": 3.0 - capital / 1e10, "total_costs": capital * 0.01,
            "costs_annual_pct": 0.005 + b.slippage.bps * 1e-4, "blocked_volume_cap": 0.05 + 0.5 * (1 - cap),
            "blocked_suspended": 0.03, "blocked_limit_up": 0.001, "blocked_limit_down": 0.002,
            "participation_p95": 0.02 + 0.08 * cap}


def _episodes() -> tuple[list[dict], list[dict]]:
    crash = {c: None for c in EPISODE_COLUMNS}
    crash.update(episode="2015 crash", start="2015-06-15", end="2015-09-30", book_names=50, book_value=1e7,
                 unsellable_first_day=0.04, unsellable_max=0.3, unsellable_max_date="2015-07-08",
                 unsellable_mean=0.12, days_to_liquidate_10=53, days_to_liquidate_25=None, skipped="",
                 **{k: -0.1 for k in ("return", "max_drawdown", "pool_max_drawdown", "drawdown_vs_pool",
                                      "index_max_drawdown", "drawdown_vs_index")})
    later = {c: None for c in EPISODE_COLUMNS}
    later.update(episode="2024 micro-cap liquidity crisis", start="2024-01-02", end="2024-02-08",
                 skipped="outside the market's dates (2015-01-05..2016-06-30)")
    days = pd.bdate_range("2015-06-15", periods=12)
    daily = [{"episode": "2015 crash", "date": str(d.date()), "suspended": 0.02 * i, "limit_down": 0.01 + 0.01 * (i % 3),
              "unsellable": 0.02 * i + 0.01 + 0.01 * (i % 3)} for i, d in enumerate(days)]
    return [crash, later], daily


def _page(grid_file, failed: tuple[str, ...] = ()) -> tuple[object, pd.DataFrame, list, str]:
    grid = load_grid(grid_file, Config())
    episodes, daily = _episodes()
    outcomes = {s.name: Outcome(s.name, "failed", "boom: the scenario raised") if s.name in failed else
                Outcome(s.name, "ok", metrics=_metrics(s.cfg), episodes=episodes, daily=daily)
                for s in grid.scenarios}
    table = stress_table(grid, outcomes)
    ep, days = episodes_table(grid, outcomes)
    curves = capacity_curves(grid, table)
    info = {"runner": "test", "seconds": 1.0, "reference": reference_scenario(table), "data": []}
    return grid, table, curves, render(grid, table, curves, ep, days, info)


# ----- what a chart has drawn ---------------------------------------------------------------------
@pytest.fixture
def drawn(monkeypatch):
    """Every (figure, PNG data URI) the page's charts produce."""
    figures = []
    real = stress_charts._png

    def keep(fig, rect=None):
        uri = real(fig, rect)
        figures.append((fig, uri))
        return uri

    monkeypatch.setattr(stress_charts, "_png", keep)
    return figures


def coloured_pixels(fig, uri: str) -> list[int]:
    """Per panel of the figure, how many pixels of the decoded PNG inside the panel's frame are coloured:
    lines, markers, bars and heat-map cells are; the grid, spines, ticks and text are grey or black."""
    png = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")
    img = np.asarray(png).astype(int)
    height = fig.bbox.height                                              # panel boxes count from the bottom
    assert abs(img.shape[0] - height) <= 1 and abs(img.shape[1] - fig.bbox.width) <= 1
    counts = []
    for ax in fig.axes:
        box = ax.get_window_extent()
        inside = img[int(height - box.y1) + 2:int(height - box.y0) - 2, int(box.x0) + 2:int(box.x1) - 2]
        counts.append(int((inside.max(axis=2) - inside.min(axis=2) > 60).sum()))
    return counts


def assert_nothing_empty(drawn: list, page: str) -> None:
    assert page.count("data:image/png;base64,") == len(drawn)         # every image on the page was checked
    for fig, uri in drawn:
        counts = coloured_pixels(fig, uri)
        empty = [ax.get_title(loc="left") for ax, n in zip(fig.axes, counts) if n < 30]
        assert not empty, f"empty panels: {empty}"


# ----- the tests ----------------------------------------------------------------------------------
def test_integer_axis_values_match_the_decimals_of_the_table():
    grid = SimpleNamespace(axes={"broker.slippage.bps": [0, 30]}, varied=["broker.slippage.bps"])
    table = pd.DataFrame({"scenario": ["bps=0", "bps=30"], "broker.slippage.bps": [0.0, 30.0], "status": "ok",
                          **{m: [0.25, 0.22] for m, _, _ in AXIS_METRICS}})
    axis, series = _slices(grid, table, "broker.slippage.bps")
    assert axis.labels == ["0", "30"] and axis.numeric
    assert series[0].values["annual_return"] == [0.25, 0.22]              # both points drawn, none empty


def test_the_checker_sees_an_empty_chart(drawn):
    axis = _axis("broker.slippage.bps", pd.DataFrame({"broker.slippage.bps": [0.0, 30.0]}))
    empty = Series("", {m: [None, None] for m, _, _ in AXIS_METRICS})
    full = Series("", {m: [0.1, 0.2] for m, _, _ in AXIS_METRICS})
    uri_empty, uri_full = axis_chart(axis, [empty]), axis_chart(axis, [full])
    assert max(coloured_pixels(drawn[0][0], uri_empty)) == 0
    assert min(coloured_pixels(drawn[1][0], uri_full)) > 100


def test_numeric_axes_are_to_scale_with_none_apart_and_log_when_they_span_decades():
    caps = _axis("broker.volume_cap", pd.DataFrame({"broker.volume_cap": [None, 0.25, 0.1, 0.05]}))
    assert caps.values == [0.05, 0.1, 0.25, None] and caps.labels == ["0.05", "0.1", "0.25", "none"]
    x, separator = _positions(caps)
    assert (x[1] - x[0]) / (x[2] - x[0]) == pytest.approx(0.25)           # 0.05 -> 0.10 is a quarter of 0.05 -> 0.25
    assert x[2] < separator < x[3]                                        # none past a separator, at the right
    cash = _axis("broker.cash", pd.DataFrame({"broker.cash": [1e7, 1e8, 1e9, 5e9, 1e10]}))
    assert cash.log and cash.labels == ["10 M", "100 M", "1 bn", "5 bn", "10 bn"]
    assert not _axis("broker.slippage.bps", pd.DataFrame({"broker.slippage.bps": [0, 10, 30, 50]})).log
    deal = _axis("broker.deal_price", pd.DataFrame({"broker.deal_price": ["vwap", "open", "close"]}))
    assert not deal.numeric and deal.labels == ["vwap", "open", "close"]   # categories keep grid order


@pytest.mark.parametrize("name, charts", [("capacity", 3), ("crowding", 3), ("execution", 6),
                                          ("slippage_volume_cap", 4)])
def test_every_chart_of_the_shipped_grids_has_data(drawn, name, charts):
    grid, table, curves, page = _page(name)
    assert len(drawn) == charts
    assert_nothing_empty(drawn, page)
    for key in grid.varied:                                               # every point of every axis drawn
        _, series = _slices(grid, table, key)
        for m, _, _ in AXIS_METRICS:
            assert any(v is not None for s in series for v in s.values[m])
    if curves:
        c = curves[0]
        assert c.half_at and f"at about <b>{cny_short(c.half_at)} CNY</b>" in page
        assert "interpolated linearly in log capital" in page
    assert "Skipped: 2024 micro-cap liquidity crisis" in page              # under the table, not a wide row


def test_an_integer_2x2_grid_with_none_draws_every_chart_and_an_annotated_heat_map(drawn, tmp_path):
    (tmp_path / "g.yaml").write_text(INT_2X2)
    _, table, _, page = _page(tmp_path / "g.yaml")
    assert len(drawn) == 4                                                # two axes, one heat map, the episodes
    assert_nothing_empty(drawn, page)
    h = _heatmap(table, "broker.slippage.bps", "broker.volume_cap")
    assert h.rows.labels == ["0", "30"] and h.cols.labels == ["0.05", "none"]
    assert np.isfinite(h.excess).all() and np.isfinite(h.ir).all()
    heat = next(fig for fig, _ in drawn if len(fig.axes) == 2 and fig.axes[1].get_title(loc="left") == "Information ratio")
    texts = [t.get_text() for t in heat.axes[0].texts]
    ok = table.set_index("scenario")
    assert f"{ok.at['bps=30,volume_cap=none', 'excess_annual_return']:+.1%}" in texts and len(texts) == 4
    assert f"{ok.at['bps=0,volume_cap=0.05', 'information_ratio']:.2f}" in [t.get_text() for t in heat.axes[1].texts]


def test_three_axes_give_a_heat_map_per_pair_and_a_failed_scenario_leaves_a_gap(drawn, tmp_path):
    (tmp_path / "g.yaml").write_text(THREE_AXES)
    _, _, curves, page = _page(tmp_path / "g.yaml", failed=("cash=1e7,bps=30,volume_cap=0.1",))
    assert page.count("<h3>broker.") == 3 + 3                             # three pairs, three axes
    assert len(curves) == 4 and "failed: boom" in page
    assert_nothing_empty(drawn, page)
