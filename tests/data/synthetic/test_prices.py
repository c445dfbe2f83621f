"""Raw prices on ticks, OHLC consistent, inside the loader's limits; limit events and IPO days."""
import numpy as np
import pandas as pd

from ashare_sim.data.synthetic import stats
from ashare_sim.rules import RulesTable


def test_bars_are_sane_and_inside_the_limits_the_loader_computes(market, bse_market):
    for m in (market, bse_market):
        assert stats.price_sanity(m) == {"ohlc_disorder": 0, "off_tick": 0, "outside_limits": 0,
                                         "vwap_outside_range": 0, "nonpositive_volume": 0}


def test_limit_events_at_a_realistic_frequency(market):
    s = stats.limit_stats(market)
    assert 0.006 <= s["limit_up_share"] <= 0.03
    assert 0.001 <= s["limit_up_locked_share"] < s["limit_up_share"]
    assert 0.002 <= s["limit_down_share"] < s["limit_up_share"]
    assert 0.0 < s["limit_down_locked_share"] < s["limit_down_share"]


def test_st_main_board_bars_use_the_five_percent_limit(market):
    rules = RulesTable.load()
    st_main = market.has_bar & market.is_st & (market.board == "main")[None, :] & (market.days_listed > 5)
    assert st_main.sum() > 100
    t, n = np.nonzero(st_main)
    ratio = rules.limit_ratio("main", market.date_at(int(t[0])), st=True)
    pc = market.pre_close[t, n].astype(float)
    expected = rules.round_price(np.round(pc / rules.tick) * rules.tick * (1 + ratio))
    assert np.allclose(market.high_limit[t, n], expected, atol=0.006)
    moves = np.abs(market.close[t, n] / pc - 1)
    assert moves.max() < ratio + 0.01


def _ipo_days(m, board_filter):
    inst = m.instruments
    rows = []
    for i in np.flatnonzero(board_filter(inst)):
        li = int(m.list_index[i])
        if 0 <= li < m.n_days - 10:
            rows.append((i, li))
    return rows


def test_old_main_board_ipos_pop_44_percent_then_one_price_limit_ups(market):
    rules = RulesTable.load()
    ipos = _ipo_days(market, lambda inst: (inst["board"] == "main").to_numpy())
    assert len(ipos) >= 5
    runs = []
    for i, li in ipos:
        band = rules.ipo_first_day_band("main", market.date_at(li))
        assert band is not None
        pc = float(market.pre_close[li, i])
        assert market.close[li, i] == market.high_limit[li, i]
        assert abs(market.close[li, i] / pc - 1 - band[0]) < 0.01
        locked = 0
        for t in range(li + 1, min(li + 30, market.n_days)):
            bar = [market.open[t, i], market.high[t, i], market.low[t, i], market.close[t, i]]
            if not market.has_bar[t, i] or len(set(bar)) != 1 or bar[0] != market.high_limit[t, i]:
                break
            locked += 1
        runs.append(locked)
    assert np.mean(runs) >= 2 and max(runs) >= 4


def test_registration_ipos_trade_five_days_without_limits(market):
    rules = RulesTable.load()
    ipos = _ipo_days(market, lambda inst: inst["board"].isin(["star", "chinext"]).to_numpy())
    free = [(i, li) for i, li in ipos if rules.ipo_no_limit_days(market.board[i], market.date_at(li)) == 5]
    assert len(free) >= 3
    pops = []
    for i, li in free:
        assert np.isnan(market.high_limit[li:li + 5, i][market.has_bar[li:li + 5, i]]).all()
        assert not np.isnan(market.high_limit[li + 5:li + 10, i][market.has_bar[li + 5:li + 10, i]]).any()
        pops.append(market.close[li, i] / market.pre_close[li, i] - 1)
    assert np.median(pops) > 0.3


def test_bse_first_day_has_no_limit_then_thirty_percent(bse_market):
    m = bse_market
    ipos = _ipo_days(m, lambda inst: (inst["board"] == "bse").to_numpy())
    assert ipos
    for i, li in ipos:
        assert np.isnan(m.high_limit[li, i])
        later = m.has_bar[li + 1:, i] & ~np.isnan(m.high_limit[li + 1:, i])
        ratio = (m.high_limit[li + 1:, i][later] / m.pre_close[li + 1:, i][later] - 1)
        assert np.allclose(ratio, 0.30, atol=0.01)


def test_chinext_limit_switches_to_twenty_percent_at_the_reform(market):
    rules = RulesTable.load()
    cols = (market.board == "chinext") & ~market.is_st.any(axis=0)
    ratios = [rules.limit_ratio("chinext", market.date_at(t)) for t in range(market.n_days)]
    t_switch = ratios.index(max(ratios))
    assert 0 < t_switch < market.n_days - 20
    for t_range, ratio in ((slice(0, t_switch), 0.10), (slice(t_switch + 10, None), 0.20)):
        hb = market.has_bar[t_range][:, cols] & ~np.isnan(market.high_limit[t_range][:, cols])
        r = market.high_limit[t_range][:, cols][hb] / market.pre_close[t_range][:, cols][hb] - 1
        assert np.allclose(np.median(r), ratio, atol=0.002)


def test_pre_close_is_previous_close_times_adj_ratio(market):
    prev = pd.DataFrame(market.close).ffill().shift(1).to_numpy()
    adj_prev = pd.DataFrame(market.adj_factor).ffill().shift(1).to_numpy()
    ok = market.has_bar & (market.days_listed > 0) & np.isfinite(prev)
    expect = prev[ok] * adj_prev[ok] / market.adj_factor[ok]
    assert np.allclose(market.pre_close[ok], expect, rtol=1e-5, atol=0.006)


def test_stocks_listed_just_before_the_start_get_no_ipo_rule():
    # Registration IPOs a few days before --start: the loader applies no IPO rule to stocks
    # listed before the calendar, so the generator may not either.
    import datetime as dt
    from types import SimpleNamespace

    from ashare_sim.data.synthetic import listings, prices, returns
    from ashare_sim.data.synthetic.calendar import trading_days
    from ashare_sim.data.synthetic.generator import _streams
    from ashare_sim.data.synthetic.params import GeneratorParams

    rules, params = RulesTable.load(), GeneratorParams()
    dates = trading_days(dt.date(2020, 9, 7), dt.date(2020, 9, 30))
    lst = listings.make_listings(dates, 3000, rules, params, _streams(2, 10)[0])
    recent = ~lst.is_ipo & (lst.list_idx > -5) & np.isin(lst.board, ["star", "chinext"])
    assert recent.any()
    traits = returns.firm_traits(lst, params, np.random.default_rng(0))
    ipo = prices.ipo_setup(SimpleNamespace(lst=lst, rules=rules, params=params, traits=traits),
                           np.random.default_rng(0))
    assert (ipo["no_limit"][~lst.is_ipo] == 0).all() and np.isnan(ipo["band_up"][~lst.is_ipo]).all()
    assert (ipo["no_limit"][lst.is_ipo & (lst.board == "star")] == 5).all()
