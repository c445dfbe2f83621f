"""run_research on small random markets: every table, the page, and the comparison's variants."""
import numpy as np
import pytest
from loguru import logger

from ashare_sim.config import load_config
from ashare_sim.data.market import Market
from ashare_sim.report.research import SECTIONS, render
from ashare_sim.research import neutral
from ashare_sim.research.build import run_research
from ashare_sim.research.outputs import tables
from tests.signals.random_market import random_frames


def _market(industries: bool = True, **kw) -> Market:
    f = random_frames(n_stocks=60, n_days=330, start="2019-01-01", seed=4, **kw)
    inst = f["instruments"]
    if industries:
        inst = inst.assign(industry=np.array(["banks", "media", "steel"])[np.arange(len(inst)) % 3])
    else:
        inst = inst.drop(columns="industry")
    return Market.from_frames(inst, f["bars"], st=f["st"], fundamentals=f["fundamentals"], dividends=f["dividends"],
                              calendar=f["calendar"])


def _cfg(*extra):
    return load_config(None, ["backtest.start=2019-01-01", "backtest.end=2020-03-31", "strategy.top_n=8",
                              "strategy.factors.ic_min_periods=3", "strategy.factors.ic_window=6",
                              "research.size_groups=5", "research.smallest_n=10", "research.min_history_months=3",
                              *extra])


def test_every_table_and_a_page_with_every_section():
    r = run_research(_market(), _cfg("research.compare_neutral=ic"))
    for name, frame in tables(r).items():
        assert len(frame) > 0, name
    assert set(r.timings) >= {"scoring pipeline", "crowding"}
    assert r.neutral.variants == ["none", "industry"] and "composite" in r.neutral.ic.index
    assert len(r.neutral.backtest) == 0                     # ic only: no backtests
    page = render(r, _cfg())
    for sid, _ in SECTIONS:
        assert f'<section id="{sid}">' in page
    assert "not available" not in page


def test_sections_without_their_data_say_so():
    warned = []
    sink = logger.add(lambda m: warned.append(str(m)), level="WARNING")
    try:
        r = run_research(_market(industries=False, fundamentals=False, dividends=False), _cfg())
    finally:
        logger.remove(sink)
    assert len(r.valuation) == 0 and len(r.industry) == 0 and r.neutral is None
    assert r.crowding["pool_pe_percentile"].isna().all()
    assert any("no fundamentals table" in w for w in warned) and any("no 'industry' column" in w for w in warned)
    page = render(r, _cfg())
    assert "Pool valuations (needs a fundamentals table): not available" in page
    assert "Industry weights (instruments have no industry column): not available" in page


def test_the_comparison_runs_the_other_variant_and_both_backtests():
    m = _market()
    cfg = _cfg("strategy.neutralize=industry")
    from ashare_sim.signals.pipeline import build_targets

    base = build_targets(m, cfg)
    cmp_ = neutral.compare(m, cfg, base)
    assert cmp_.variants == ["industry", "none"]
    assert list(cmp_.backtest.index) == list(neutral.HEADLINE) and list(cmp_.backtest.columns) == ["industry", "none"]
    # the configured variant's ICs are the base run's; the other's come from its own scoring
    assert np.allclose(cmp_.ic[("mean", "industry")].to_numpy(), base.ic_summary["mean"].to_numpy(), equal_nan=True)
    assert not np.allclose(cmp_.ic[("mean", "none")].to_numpy(), base.ic_summary["mean"].to_numpy(), equal_nan=True)


def test_a_window_without_trading_days_is_one_clear_error():
    from ashare_sim.common.errors import UserError

    with pytest.raises(UserError, match="no trading day of the market"):
        run_research(_market(), _cfg("backtest.start=2030-01-01", "backtest.end=2030-12-31"))
