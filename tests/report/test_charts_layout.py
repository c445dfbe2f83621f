"""The charts every run draws (report.charts: equity, drawdown, years, names) are laid out by charts._fit, not
tight_layout: each still draws something, and nothing they hold (tick and axis labels, titles, legends,
annotations) is cut by the canvas, whatever the width of their y labels."""
import base64
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ashare_sim.report import charts

DAYS = pd.bdate_range("2015-01-05", periods=600)
RISE = pd.Series(np.geomspace(1.0, 40.0, len(DAYS)), index=DAYS)      # a log axis: 1, 2, 5, 10, 20
FLAT = pd.Series(np.linspace(1.0, 1.3, len(DAYS)), index=DAYS)
DRAWDOWN = pd.Series(-np.abs(np.sin(np.linspace(0.0, 6.0, len(DAYS)))), index=DAYS)  # down to -100%
MONTHS = pd.date_range("2015-01-31", periods=24, freq="ME")
YEARS = [{"year": 2015 + i, "portfolio_return": (-1) ** i * 0.35 * i, "benchmark_return": None if i == 1 else 0.1,
          "excess_return": 12.0 if i == 3 else -0.2} for i in range(5)]

CASES = {
    "equity, log axis and excess curve": lambda: charts.equity_chart(RISE, RISE ** 0.5, RISE / RISE ** 0.5, "Pool"),
    "equity, values of 10,000,000": lambda: charts.equity_chart(FLAT * 1e7, FLAT * 1.1e7, None),
    "drawdown, trough on the last day": lambda: charts.drawdown_chart(DRAWDOWN.where(DAYS != DAYS[-1], -1.2),
                                                                      DRAWDOWN / 2, str(DAYS[-1].date())),
    "years, -35% to 1200%": lambda: charts.yearly_bars(YEARS, "Pool"),
    "names, 50 and a universe of millions": lambda: charts.names_chart(
        pd.Series(50.0, index=MONTHS), pd.Series(np.linspace(1e6, 3.4e6, len(MONTHS)), index=MONTHS)),
    "names, no universe": lambda: charts.names_chart(pd.Series(np.arange(24.0) * 1000, index=MONTHS)),
}


@pytest.fixture
def drawn(monkeypatch):
    """Every (figure, PNG data URI) the charts produce."""
    figures = []
    real = charts._fitted_png

    def keep(fig):
        uri = real(fig)
        figures.append((fig, uri))
        return uri

    monkeypatch.setattr(charts, "_fitted_png", keep)
    return figures


@pytest.mark.parametrize("case", CASES)
def test_a_chart_draws_and_nothing_is_cut_at_the_canvas_edge(case, drawn):
    uri = CASES[case]()
    assert uri.startswith("data:image/png;base64,") and len(drawn) == 1
    fig, _ = drawn[0]
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")).astype(int)
    assert img.shape[:2] == (round(fig.bbox.height), round(fig.bbox.width))
    assert (img.min(axis=2) < 200).mean() > 0.01                           # lines, bars, text on it
    # matplotlib's own measure of what each axes draws around it (tick and axis labels, titles, legend, texts)
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height, (case, box)
    # and in the pixels: the white margin tight_layout left (about 16 px at 110 dpi) is still there
    frame = np.concatenate([img[:8].reshape(-1, 3), img[-8:].reshape(-1, 3),
                            img[:, :8].reshape(-1, 3), img[:, -8:].reshape(-1, 3)])
    assert (frame == 255).all(), case


def test_the_png_is_the_canvas_pixels():
    rgba = np.random.default_rng(0).integers(0, 256, (7, 5, 4), dtype=np.uint8)
    png = Image.open(io.BytesIO(charts._png_bytes(rgba, 110)))
    assert png.mode == "RGBA" and png.info["dpi"] == pytest.approx((110, 110), abs=0.01)
    assert (np.asarray(png) == rgba).all()
