"""report.html from synthetic inputs: self-contained, every section present, robust to missing inputs."""
from __future__ import annotations

import re
import types

import numpy as np
import pandas as pd
import pytest

from ashare_sim.metrics.performance import compute_metrics, ic_summary
from ashare_sim.metrics.report_data import report_data
from ashare_sim.report.html import SECTIONS, write_report

CASH = 1_000_000.0


def _inputs(bench: bool = True):
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2020-01-02", "2021-12-31")
    r = rng.normal(0.0008, 0.012, len(dates))
    b = rng.normal(0.0004, 0.011, len(dates))
    b[0] = 0.0
    eq = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "value": CASH * np.cumprod(1 + r), "cash": 1000.0})
    if bench:
        eq["benchmark"] = 1000 * np.cumprod(1 + b)
    reb = [dates[dates.to_period("M") == p][0] for p in sorted(set(dates.to_period("M")))]
    trades = pd.DataFrame([
        {"date": d.date().isoformat(), "symbol": f"{600000 + i}.SH", "side": "buy" if i % 2 else "sell",
         "qty": 1000, "price": 10.0, "commission": 5.0, "stamp_duty": 0.0 if i % 2 else 10.0,
         "transfer_fee": 0.1, "slippage": 1.0} for d in reb for i in range(4)])
    holdings = pd.DataFrame([
        {"date": d.date().isoformat(), "symbol": f"{600000 + i}.SH", "qty": 1000, "sellable_qty": 0,
         "close": 10.0 + i, "value": 1000 * (10.0 + i)} for d in reb for i in range(5)])
    orders = pd.DataFrame([
        {"date": d.date().isoformat(), "symbol": "600001.SH", "side": "buy", "requested_qty": 1000,
         "filled_qty": 0 if j else 1000, "price": 10.0, "status": "rejected" if j else "filled",
         "reason": "limit_up" if j else ""} for d in reb for j in range(2)])
    return eq, trades, holdings, orders


def _signal():
    months = pd.date_range("2020-01-31", periods=23, freq="ME")
    rng = np.random.default_rng(1)
    fic = pd.DataFrame({"size": rng.normal(0.05, 0.1, 23), "reversal_20d": rng.normal(0.03, 0.1, 23)}, index=months)
    fic["composite"] = rng.normal(0.08, 0.08, 23)
    q = pd.DataFrame({f"Q{i}": rng.normal(0.004 * i, 0.05, 23) for i in range(1, 6)}, index=months)
    return types.SimpleNamespace(factor_ic=fic, ic_summary=ic_summary(fic), quintile_returns=q,
                                 universe_size=pd.Series(300, index=months),
                                 factor_weights=pd.DataFrame({"size": 0.6, "reversal_20d": 0.4}, index=months))


def _check_self_contained(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "<script src" not in page and "<link" not in page
    assert "http://" not in page and "https://" not in page


def test_full_report_has_every_section_and_inline_charts(tmp_path):
    eq, trades, holdings, orders = _inputs()
    m = compute_metrics(eq, trades, orders, holdings, CASH)
    m["targets_source"] = {"kind": "pipeline"}
    m["execution"] = [["Deal price", "the day's VWAP"], ["Volume cap", "10% of the day's volume per stock"]]
    path = write_report(tmp_path, report_data(m, eq, trades, holdings, orders, _signal()))
    assert path == tmp_path / "report.html"
    page = path.read_text(encoding="utf-8")
    _check_self_contained(page)
    for _, title in SECTIONS:
        assert f">{title}</h2>" in page, title
    assert page.count('src="data:image/png;base64,') == 7  # equity, drawdown, years, IC, weights, quintiles, names
    assert "not available" not in page
    assert "Guosen small-cap study, 2010-2022Q1" in page and "39.16%" in page and "4.81" in page
    assert "the day&#x27;s VWAP" in page and "10% of the day&#x27;s volume per stock" in page
    assert "limit_up" in page and "Top holdings" in page


@pytest.mark.parametrize("bench", [True, False])
def test_report_without_signal_and_with_empty_trades(tmp_path, bench):
    eq, _, holdings, _ = _inputs(bench)
    empty = pd.DataFrame(columns=["date", "symbol", "side", "qty", "price", "commission", "stamp_duty",
                                  "transfer_fee", "slippage"])
    m = compute_metrics(eq, empty, None, holdings, CASH)
    page = write_report(tmp_path, report_data(m, eq, empty, holdings, None, None)).read_text(encoding="utf-8")
    _check_self_contained(page)
    for _, title in SECTIONS:
        assert f">{title}</h2>" in page, title
    assert "Composite RankIC series: not available" in page
    assert "Quintile returns: not available" in page


def test_report_with_partial_signal_and_no_holdings(tmp_path):
    eq, trades, _, orders = _inputs()
    m = compute_metrics(eq, trades, orders, None, CASH)
    signal = types.SimpleNamespace(factor_ic=_signal().factor_ic)  # no ic_summary, quintiles, weights
    page = write_report(tmp_path / "sub", report_data(m, eq, trades, None, orders, signal)).read_text(encoding="utf-8")
    assert "RankIC by factor" in page  # summary computed from factor_ic
    assert "Holdings: not available" in page and "Quintile returns: not available" in page


def test_report_and_research_pages_link_each_other_only_when_both_exist(tmp_path):
    from ashare_sim.report.html import link_pages

    eq, trades, holdings, orders = _inputs()
    (tmp_path / "research.html").write_text("<nav><!--links--><!--/links--></nav>")
    write_report(tmp_path, report_data(compute_metrics(eq, trades, orders, holdings, CASH), eq, trades, holdings, orders))
    link_pages(tmp_path)                 # the engine calls it once the run's set is in place
    assert 'href="research.html"' in (tmp_path / "report.html").read_text()
    assert 'href="report.html"' in (tmp_path / "research.html").read_text()
    (tmp_path / "research.html").unlink()
    link_pages(tmp_path)
    assert 'href="research.html"' not in (tmp_path / "report.html").read_text()
