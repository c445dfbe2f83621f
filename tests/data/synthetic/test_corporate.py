"""Dividends, bonus shares, pre_close and adj_factor on ex-dates, share counts."""
import numpy as np
import pandas as pd

from ashare_sim.data.synthetic import stats


def test_dividends_mostly_in_may_to_july_for_most_profitable_firms(market):
    s = stats.dividend_stats(market)
    assert s["ex_may_jul_share"] >= 0.6
    assert 0.5 <= s["profitable_payer_share"] <= 0.95
    assert s["bonus_events"] >= 5


def test_ex_dates_set_pre_close_and_adj_factor_exactly(market_dir):
    bars = pd.read_parquet(market_dir / "bars.parquet").sort_values(["symbol", "date"])
    bars["prev_close"] = bars.groupby("symbol")["close"].shift()
    bars["prev_adj"] = bars.groupby("symbol")["adj_factor"].shift()
    bars["prev_total"] = bars.groupby("symbol")["total_shares"].shift()
    div = pd.read_parquet(market_dir / "dividends.parquet")
    ex = div.merge(bars, left_on=["symbol", "ex_date"], right_on=["symbol", "date"], how="left")
    assert ex["close"].notna().all()                       # every ex-date is a trading day of the stock
    ex = ex[ex["prev_close"].notna()]
    expected = np.floor((ex["prev_close"] - ex["cash_per_share"]) / (1 + ex["bonus_per_share"]) * 100 + 0.5) / 100
    assert np.allclose(ex["pre_close"], expected, atol=1e-9)
    assert np.allclose(ex["adj_factor"] / ex["prev_adj"], ex["prev_close"] / ex["pre_close"], rtol=1e-12)
    bonus = ex[ex["bonus_per_share"] > 0]
    assert np.allclose(bonus["total_shares"], np.round(bonus["prev_total"] * (1 + bonus["bonus_per_share"])))
    plain = bars[bars["prev_close"].notna() & ~bars.set_index(["symbol", "date"]).index.isin(
        div.set_index(["symbol", "ex_date"]).index)]
    assert (plain["pre_close"] == plain["prev_close"]).all()    # no corporate action: pre_close = previous close
    assert (plain["adj_factor"] == plain["prev_adj"]).all()


def test_float_shares_rise_as_lockups_expire(market):
    ratio = market.float_shares / market.total_shares
    ok = market.has_bar
    assert (ratio[ok] <= 1.0 + 1e-6).all() and (ratio[ok] > 0.1).all()
    ipo = np.flatnonzero((market.list_index >= 0) & (market.list_index < market.n_days - 260))
    assert len(ipo) >= 3
    first = np.array([ratio[market.list_index[i], i] for i in ipo])
    later = np.array([np.nanmax(ratio[market.list_index[i] + 250:, i]) for i in ipo])
    assert (later > first + 0.05).mean() > 0.8


def test_dividends_of_two_years_on_one_ex_date_are_one_event():
    # A long suspension pushes two years' dividends to the resumption day: one event pays both.
    import datetime as dt

    from ashare_sim.data.synthetic import (
        corporate,
        events,
        fundamentals,
        listings,
        returns,
    )
    from ashare_sim.data.synthetic.calendar import trading_days
    from ashare_sim.data.synthetic.params import GeneratorParams
    from ashare_sim.rules import RulesTable

    rules, params, rng = RulesTable.load(), GeneratorParams(), np.random.default_rng(0)
    dates = trading_days(dt.date(2015, 1, 1), dt.date(2018, 12, 31))
    lst = listings.make_listings(dates, 60, rules, params, rng)
    traits = returns.firm_traits(lst, params, rng)
    fund = fundamentals.make_fundamentals(dates, lst, traits.cap_ref, rules, params, rng, dt.date(2018, 12, 31))
    traded = events.listed_mask(len(dates), lst)
    halted = (dates >= np.datetime64("2015-06-01")) & (dates <= np.datetime64("2017-09-01"))
    traded[halted] = False
    shares = corporate.share_structure(lst, traits.cap_ref, traits.price_ref, params, rng)
    ev = corporate.dividend_events(dates, lst, fund, traded, shares, params, rng)
    resumed = np.flatnonzero(~halted & (dates > np.datetime64("2017-09-01")))[0]
    assert (ev.t == resumed).sum() >= 5
    assert not pd.DataFrame({"s": ev.sid, "t": ev.t}).duplicated().any()
    assert (np.diff(ev.t) >= 0).all()
