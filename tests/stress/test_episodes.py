"""Episodes: the book at an episode's start, what of it could not be sold, how long selling takes."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.config import load_config
from ashare_sim.stress.episodes import (
    Episode,
    book_episodes,
    days_to_liquidate,
    load_episodes,
    outside,
)
from tests.market_builder import MarketBuilder

A, B, C = "600000.SH", "600001.SH", "600002.SH"


@pytest.fixture(scope="module")
def market():
    b = MarketBuilder(start="2021-01-04", days=10)
    b.stock(A, close=[10] * 10, volume=1_000_000)
    b.stock(B, close=[20, 20, 20, None, None, 20, 20, 20, 20, 20], volume=1_000_000)       # halted days 3-4
    b.stock(C, close=[10, 10, 10, 9.0, 9.2, 9.2, 9.2, 9.2, 9.2, 9.2], volume=1_000_000)    # limit-down on day 3
    b.benchmark([1000, 1000, 1000, 1000, 950, 1000, 1000, 1000, 1000, 1000])
    m = b.build()
    m.builder = b
    return m


def inputs(market):
    dates = pd.DatetimeIndex(market.dates.astype("datetime64[ns]"))
    equity = pd.DataFrame({"date": dates, "value": [100, 100, 100, 90, 80, 85, 95, 100, 100, 100.0]})
    holdings = pd.DataFrame({"date": [dates[1]] * 3, "symbol": [A, B, C], "qty": [600_000, 50_000, 100_000]})
    pool = pd.Series([1, 1, 1, 0.95, 0.9, 0.9, 1, 1, 1, 1.0], index=dates)
    return equity, holdings, pool


def test_the_book_at_the_start_what_could_not_be_sold_and_the_drawdowns(market):
    b = market.builder
    ep = Episode("crash", dt.date.fromisoformat(b.day(3)), dt.date.fromisoformat(b.day(5)))
    rows, daily = book_episodes(market, load_config(None), *inputs(market), (ep,))
    (r,) = rows
    worth = {A: 6_000_000, B: 1_000_000, C: 1_000_000}          # qty x the eve's close
    total = sum(worth.values())
    assert r["skipped"] == "" and r["book_names"] == 3 and r["book_value"] == total
    assert r["book_date"] == b.day(2) and r["trading_days"] == 3
    assert [d["unsellable"] for d in daily] == pytest.approx([2 / 8, 1 / 8, 0.0])
    assert [d["suspended"] for d in daily] == pytest.approx([1 / 8, 1 / 8, 0.0])
    assert [d["limit_down"] for d in daily] == pytest.approx([1 / 8, 0.0, 0.0])
    assert (r["unsellable_first_day"], r["unsellable_max"], r["unsellable_max_date"]) == (0.25, 0.25, b.day(3))
    # 10%: A sells 100,000 a day -> 6 days; 25%: A 3 days, B (halted 2 days) 3, C (limit-down day 1) 2
    assert (r["days_to_liquidate_10"], r["days_to_liquidate_25"]) == (6, 3)
    assert r["return"] == pytest.approx(-0.15) and r["max_drawdown"] == pytest.approx(-0.20)
    assert r["pool_return"] == pytest.approx(-0.10) and r["pool_max_drawdown"] == pytest.approx(-0.10)
    assert r["drawdown_vs_pool"] == pytest.approx(0.80 / 0.90 - 1)
    assert r["index_return"] == pytest.approx(0.0) and r["index_max_drawdown"] == pytest.approx(-0.05)


def test_a_crowd_sells_a_share_of_the_volume_each(market):
    b = market.builder
    ep = Episode("crash", dt.date.fromisoformat(b.day(3)), dt.date.fromisoformat(b.day(5)))
    (r,), _ = book_episodes(market, load_config(None, ["broker.crowd=2"]), *inputs(market), (ep,))
    assert r["days_to_liquidate_25"] == 5                     # 12.5% of the volume each: A in 4.8 days
    assert r["days_to_liquidate_10"] is None                  # 5%: A needs 12 days, the data has 7 more


def test_episodes_outside_the_market_or_before_the_book_are_skipped_and_say_why(market):
    b = market.builder
    late = Episode("later", dt.date(2030, 1, 2), dt.date(2030, 2, 1))
    early = Episode("early", dt.date.fromisoformat(b.day(1)), dt.date.fromisoformat(b.day(2)))
    rows, daily = book_episodes(market, load_config(None), *inputs(market), (late, early))
    assert rows[0]["skipped"].startswith("outside the market's dates (2021-01-04..2021-01-15)")
    assert rows[1]["skipped"].startswith("no book before it")
    assert daily == []
    assert outside(market, (late, early)) == ["later (2030-01-02..2030-02-01)"]


def test_days_to_liquidate_counts_only_sellable_days(market):
    sids = np.array([market.symbol_index[B]])
    assert days_to_liquidate(market, 3, sids, np.array([100_000.0]), 0.10) == 3      # halted 2 days, then 1


def test_the_shipped_list_and_bad_lists(tmp_path):
    shipped = load_episodes(None)
    assert [(e.start.isoformat(), e.end.isoformat()) for e in shipped] == [
        ("2015-06-15", "2015-09-30"), ("2016-01-04", "2016-01-07"), ("2024-01-02", "2024-02-08")]
    assert load_episodes("none") == ()
    bad = tmp_path / "e.yaml"
    for text, message in [("- {name: a, start: 2015-06-15}\n", "episode 1: needs name, start and end"),
                          ("- {name: a, start: 2015-06-15, end: 2015-06-01}\n", "end 2015-06-01 is before start"),
                          ("- {name: a, start: 2015-13-01, end: 2015-06-01}\n", "episode 1 \\(a\\): config key 'start': got '2015-13-01'"),
                          ("- {name: a, start: 2015-06-15, end: 2015-07-01, when: x}\n", "unknown key 'when'"),
                          ("{name: a}\n", "expected a list of episodes")]:
        bad.write_text(text)
        with pytest.raises(UserError, match=message):
            load_episodes(str(bad))
    with pytest.raises(UserError, match="no such file"):
        load_episodes(str(tmp_path / "none.yaml"))
