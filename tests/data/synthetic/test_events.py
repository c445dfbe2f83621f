"""Suspensions (no row, spells of a day to months) and ST spells (with their limits)."""
import numpy as np
import pandas as pd

from ashare_sim.data.synthetic import stats


def test_suspensions_share_and_spell_lengths(market):
    s = stats.listing_stats(market)
    assert 0.01 <= s["suspended_share"] <= 0.04
    assert s["longest_suspension_days"] >= 40
    susp = market.is_suspended
    starts = susp & ~np.vstack([np.zeros((1, susp.shape[1]), bool), susp[:-1]])
    ends_next = np.vstack([susp[1:], np.zeros((1, susp.shape[1]), bool)])
    one_day = starts & ~ends_next
    assert one_day.sum() >= 0.3 * starts.sum()          # many one-day suspensions, some long ones
    assert not (market.has_bar & market.is_suspended).any()   # suspended = no row


def test_st_share_of_listed_stocks(market):
    s = stats.listing_stats(market)
    assert 0.015 <= s["st_share"] <= 0.07


def test_st_table_spells_are_well_formed(market_dir):
    st = pd.read_parquet(market_dir / "st.parquet")
    assert set(st["kind"]) <= {"ST", "*ST"}
    closed = st["end_date"].notna()
    assert (pd.to_datetime(st.loc[closed, "end_date"]) >= pd.to_datetime(st.loc[closed, "start_date"])).all()
    for _, g in st.groupby("symbol"):           # spells of a symbol do not overlap
        ends = pd.to_datetime(g["end_date"]).astype("datetime64[ns]").fillna(pd.Timestamp("2200-01-01"))
        assert (pd.to_datetime(g["start_date"]).iloc[1:].to_numpy() > ends.iloc[:-1].to_numpy()).all()


def test_loss_makers_become_star_st_after_the_annual_report(market_dir, market):
    st = pd.read_parquet(market_dir / "st.parquet")
    f = pd.read_parquet(market_dir / "fundamentals.parquet")
    annual = f[pd.to_datetime(f["period_end"]).dt.month == 12]
    star = st[st["kind"] == "*ST"]
    assert len(star) >= 3
    checked = 0
    for _, row in star.iterrows():
        if pd.Timestamp(row["start_date"]) <= pd.Timestamp(market.dates[1]):
            continue
        reports = annual[(annual["symbol"] == row["symbol"]) &
                         (pd.to_datetime(annual["ann_date"]) < pd.Timestamp(row["start_date"]))]
        assert (reports.sort_values("period_end")["net_profit"].iloc[-2:] < 0).all()
        checked += 1
    assert checked >= 1


def test_july_2015_mass_suspension(tmp_path):
    import datetime as dt

    from ashare_sim.data.market import load_market
    from ashare_sim.data.synthetic.generator import generate_market

    generate_market(tmp_path / "m", stocks=200, start=dt.date(2015, 6, 1), end=dt.date(2015, 8, 31), seed=4)
    m = load_market(tmp_path / "m")
    share = m.is_suspended.sum(axis=1) / m.is_listed.sum(axis=1)
    before, during = share[m.index_of("2015-06-15")], share[m.index_of("2015-07-10")]
    assert during > 0.15 and during > 3 * before


def test_chinext_has_no_st_spell_before_its_risk_warning_regime(market_dir, market):
    st = pd.read_parquet(market_dir / "st.parquet")
    start = market.rules.st_regime_start("chinext")
    chinext = st[st["symbol"].str.startswith(("300", "301"))]
    assert (pd.to_datetime(chinext["start_date"]).dt.date >= start).all()
    cols = market.board == "chinext"
    before = market.dates < np.datetime64(start)
    assert not market.is_st[before][:, cols].any()


def test_price_delisting_rule_ends_listings_after_20_closes_under_1_cny(tmp_path):
    import dataclasses
    import datetime as dt

    from ashare_sim.data.synthetic.generator import build_market
    from ashare_sim.data.synthetic.params import GeneratorParams

    base = GeneratorParams()
    cheap = dataclasses.replace(base, size=dataclasses.replace(base.size, price_median=1.3, price_log_sd=0.3))
    m = build_market(60, dt.date(2020, 6, 1), dt.date(2021, 12, 31), 3, cheap)
    close, traded, dates = m["path"].close, m["traded"], m["dates"]
    rule_from = np.searchsorted(dates, np.datetime64("2020-12-31"))
    assert m["price_delisted"] >= 1
    inst = m["instruments"].set_index("symbol")
    for sid, t in m["path"].price_delisted:
        days = np.flatnonzero(traded[:, sid] & (np.arange(len(dates)) >= rule_from))
        last20 = days[days <= t][-20:]
        assert len(last20) == 20 and (close[last20, sid] < 100).all()       # 20 straight closes under 1 CNY
        assert not traded[t + 1:, sid].any()                                  # no bar after the 20th
        assert inst.loc[m["symbols"][sid], "delist_date"] == dates[t]
    # Before the rule's date a run of sub-1 closes delists nobody.
    early = [t for _, t in m["path"].price_delisted if t < rule_from]
    assert not early
    # Nobody left trading with 20 straight sub-1 closes under the rule.
    for sid in range(len(m["symbols"])):
        days = np.flatnonzero(traded[:, sid] & (np.arange(len(dates)) >= rule_from))
        run = 0
        for d in days:
            run = run + 1 if close[d, sid] < 100 else 0
            assert run < 20 or d == days[-1]
