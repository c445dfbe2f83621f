"""Listings: boards from codes, board openings from the rules table, IPO waves, delistings."""
import numpy as np
import pandas as pd

from ashare_sim.data.synthetic.params import ListingParams
from ashare_sim.rules import RulesTable
from tests.data.synthetic.conftest import SMALL


def test_codes_map_to_their_board_by_the_rules_table(market, bse_market):
    rules = RulesTable.load()
    for m in (market, bse_market):
        boards, _ = rules.boards_of(m.symbols)
        assert list(boards) == list(m.instruments["board"])
        assert all(s[-3:] in (".SH", ".SZ", ".BJ") and len(s) == 9 for s in m.symbols)


def test_no_board_lists_before_it_opens(market, bse_market):
    rules = RulesTable.load()
    for m in (market, bse_market):
        inst = m.instruments
        for board, opened in rules.board_open.items():
            dates = pd.to_datetime(inst.loc[inst["board"] == board, "list_date"])
            assert (dates.dt.date >= opened).all(), board
    assert (market.instruments["board"] == "star").any()          # STAR opens inside 2019-2020
    assert (bse_market.instruments["board"] == "bse").any()       # BSE opens inside 2021-2022
    assert not (market.instruments["board"] == "bse").any()


def test_listed_at_start_and_ipo_count_follow_the_wave(market):
    weights = ListingParams().ipo_share_by_year
    expected_ipos = SMALL["stocks"] * (weights[2019] + weights[2020])
    ipos = (market.instruments["list_date"] >= pd.Timestamp(market.dates[0])).sum()
    assert abs(ipos - expected_ipos) <= 0.15 * expected_ipos + 3
    assert market.is_listed[0].sum() == SMALL["stocks"] - ipos            # everyone else listed before
    assert market.is_listed[-1].sum() > market.is_listed[0].sum()


def test_delisted_stocks_stop_after_their_last_bar(market):
    inst = market.instruments
    gone = inst["delist_date"].notna().to_numpy()
    assert 1 <= gone.sum() <= 8
    for i in np.flatnonzero(gone):
        last = market.index_of(inst["delist_date"].iloc[i])
        assert market.has_bar[last, i]
        assert not market.has_bar[last + 1:, i].any()


def test_industries_cover_most_of_thirty_labels(market):
    labels = market.instruments["industry"]
    assert labels.notna().all()
    assert 25 <= labels.nunique() <= 30
