"""The columnar market: panels, derived flags and limits (docs/data.md, docs/rules.md)."""
import numpy as np
import pandas as pd
import pytest

from ashare_sim.common.errors import DataError
from ashare_sim.data.market import load_market
from tests.market_builder import MarketBuilder


def cell(m, panel, symbol, day):
    return panel[m.index_of(day), m.symbol_index[symbol]]


def test_panels_shape_and_nan_where_no_bar():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock("600000.SH", close=[10, 10.2, None, 10.4])
    b.stock("000001.SZ", close=[20, 20.2, 20.4, 20.6])
    m = b.build()
    assert m.close.shape == (4, 2) and m.close.dtype == np.float32
    assert np.isnan(cell(m, m.close, "600000.SH", "2021-03-03"))
    assert cell(m, m.is_suspended, "600000.SH", "2021-03-03")
    assert not cell(m, m.is_suspended, "000001.SZ", "2021-03-03")
    # The value of a held suspended stock is its last close.
    assert cell(m, m.last_close, "600000.SH", "2021-03-03") == pytest.approx(10.2)


def test_zero_volume_row_means_suspended():
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock("600000.SH", close=[10, 10, 10], volume=[1e6, 0, 1e6])
    m = b.build()
    assert m.is_suspended[:, 0].tolist() == [False, True, False]


def test_pre_close_derived_across_suspension_and_ex_rights():
    # adj_factor doubles on day 3 (a 10-for-10 bonus): pre_close = prev close x adj[prev]/adj[t].
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock("600000.SH", close=[10.0, 11.0, None, 5.6], adj_factor=[1, 1, 1, 2])
    m = b.build()
    assert cell(m, m.pre_close, "600000.SH", "2021-03-02") == pytest.approx(10.0)
    assert cell(m, m.pre_close, "600000.SH", "2021-03-04") == pytest.approx(5.5)
    assert any("derived from the previous close" in n for n in m.notes)   # and the user is told


def test_value_close_moves_to_the_ex_right_price_on_an_ex_date_the_stock_did_not_trade():
    # 600000 suspended days 2-3 through its ex-date (day 2: 0.5 cash + 1 bonus share per share): the last
    # close 10.0 becomes (10 - 0.5) / 2 = 4.75 from the ex-date until it trades again. 600001 trades on its
    # ex-date, so its own close is already ex-right and stays as it is.
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock("600000.SH", close=[10.0, 10.0, None, None, 4.8])
    b.stock("600001.SH", close=[8.0, 8.0, 3.9, 3.9, 3.9])
    b.dividend("600000.SH", b.day(2), cash_per_share=0.5, bonus_per_share=1.0)
    b.dividend("600001.SH", b.day(2), cash_per_share=0.2, bonus_per_share=1.0)
    m = b.build()
    assert m.value_close[:, 0].tolist() == pytest.approx([10.0, 10.0, 4.75, 4.75, 4.8])
    assert m.last_close[:, 0].tolist() == pytest.approx([10.0, 10.0, 10.0, 10.0, 4.8])   # unchanged
    assert m.value_close[:, 1].tolist() == pytest.approx([8.0, 8.0, 3.9, 3.9, 3.9])


def test_value_close_applies_two_ex_dates_inside_one_suspension_in_turn():
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock("600000.SH", close=[12.0, None, None, None, 2.5])
    b.dividend("600000.SH", b.day(1), bonus_per_share=1.0)        # 12 -> 6
    b.dividend("600000.SH", b.day(3), cash_per_share=1.0, bonus_per_share=1.0)   # 6 -> 2.5
    m = b.build()
    assert m.value_close[:, 0].tolist() == pytest.approx([12.0, 6.0, 6.0, 2.5, 2.5])


def test_given_pre_close_wins():
    b = MarketBuilder(start="2021-03-01", days=2)
    b.stock("600000.SH", close=[10.0, 10.5], pre_close=[9.9, 9.5])
    m = b.build()
    assert cell(m, m.pre_close, "600000.SH", "2021-03-02") == pytest.approx(9.5)
    assert cell(m, m.high_limit, "600000.SH", "2021-03-02") == pytest.approx(10.45)


@pytest.mark.parametrize("symbol, start, expect_high", [
    ("600000.SH", "2020-08-20", [11.0, 11.0]),          # main 10%
    ("300001.SZ", "2020-08-20", [11.0, 12.0]),          # ChiNext 10% on 08-21, 20% from 08-24
    ("688001.SH", "2020-08-20", [12.0, 12.0]),          # STAR 20%
    ("830001.BJ", "2021-11-16", [13.0, 13.0]),          # BSE 30%
])
def test_limits_by_board_and_reform_date(symbol, start, expect_high):
    b = MarketBuilder(start=start, days=3)
    b.stock(symbol, close=[10.0, 10.0, 10.0], list_date="2019-07-22")
    m = b.build()
    assert m.high_limit[1:, 0].tolist() == pytest.approx(expect_high)


def test_st_main_board_limit_is_5_percent_during_the_spell_only():
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock("600000.SH", close=[10.0, 10.0, 10.0, 10.0])
    b.st("600000.SH", "2021-03-02", "2021-03-03", kind="*ST")
    m = b.build()
    assert m.is_st[:, 0].tolist() == [False, True, True, False]
    assert m.high_limit[1:, 0].tolist() == pytest.approx([10.5, 10.5, 11.0])
    assert m.low_limit[1:, 0].tolist() == pytest.approx([9.5, 9.5, 9.0])


def test_registration_ipo_has_no_limit_for_five_days():
    dates = pd.bdate_range("2021-03-01", periods=8)
    b = MarketBuilder(dates=[str(d.date()) for d in dates])
    b.stock("688001.SH", close=[30, 40, 50, 45, 48, 50, 52, 53], list_date="2021-03-01")
    m = b.build()
    hl = m.high_limit[:, 0]
    assert np.isnan(hl[:5]).all()
    assert hl[5] == pytest.approx(57.6)   # 48 x 1.2


def test_old_main_board_ipo_day_one_band_then_ten_percent():
    b = MarketBuilder(start="2018-05-02", days=3)
    b.stock("603999.SH", close=[14.4, 15.84, 17.42], pre_close=[10.0, 14.4, 15.84], list_date="2018-05-02")
    m = b.build()
    assert m.high_limit[:, 0].tolist() == pytest.approx([14.4, 15.84, 17.42])
    assert m.low_limit[0, 0] == pytest.approx(6.4)


def test_data_limits_win_over_computed_ones():
    b = MarketBuilder(start="2021-03-01", days=2)
    b.stock("600000.SH", close=[10.0, 10.0])
    b.bar("600000.SH", 1, high_limit=10.9, low_limit=9.1)
    m = b.build()
    assert m.high_limit[1, 0] == pytest.approx(10.9) and m.low_limit[1, 0] == pytest.approx(9.1)


def test_listing_spells_and_days_listed():
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock("600000.SH", close=[10, 10, 10, None, None], list_date="2010-01-04", delist_date="2021-03-03")
    b.stock("603001.SH", close=[20, 20, 20], first_day=2, list_date="2021-03-03")
    m = b.build()
    old, new = m.symbol_index["600000.SH"], m.symbol_index["603001.SH"]
    assert m.is_listed[:, old].tolist() == [True, True, True, False, False]
    assert m.is_listed[:, new].tolist() == [False, False, True, True, True]
    assert m.days_listed[2:, new].tolist() == [0, 1, 2]
    assert m.days_listed[0, old] > 1000      # listed long before the calendar
    assert not m.is_suspended[3:, old].any()  # delisted, not suspended


def test_board_from_instruments_wins_and_unknown_code_needs_it():
    b = MarketBuilder(start="2021-03-01", days=2)
    b.stock("999999.SH", close=[10, 10])
    f = b.frames()
    with pytest.raises(DataError, match="cannot tell its board"):
        b.build()
    from ashare_sim.data.market import Market
    inst = f["instruments"].assign(board="main")
    m = Market.from_frames(inst, f["bars"], calendar=f["calendar"])
    assert m.board.tolist() == ["main"]


def test_parquet_and_csv_load_identically(tmp_path):
    b = MarketBuilder(start="2021-03-01", days=5)
    b.stock("600000.SH", close=[10, 10.5, None, 10.8, 11])
    b.stock("300750.SZ", close=[100, 104, 110, 108, 109], list_date="2018-06-11")
    b.st("600000.SH", "2021-03-02")
    b.dividend("300750.SZ", b.day(3), cash_per_share=0.5)
    a = b.load(tmp_path / "p", "parquet")
    c = b.load(tmp_path / "c", "csv")
    for name in a.panels:
        np.testing.assert_array_equal(a.panels[name], c.panels[name], err_msg=name)
    np.testing.assert_array_equal(a.is_st, c.is_st)
    assert a.dividends[["symbol", "cash_per_share"]].equals(c.dividends[["symbol", "cash_per_share"]])


def test_duplicate_rows_and_unknown_symbols_are_data_errors(tmp_path):
    b = MarketBuilder(start="2021-03-01", days=2)
    b.stock("600000.SH", close=[10, 10])
    f = b.frames()
    from ashare_sim.data.market import Market
    with pytest.raises(DataError, match="duplicate"):
        Market.from_frames(f["instruments"], pd.concat([f["bars"], f["bars"].iloc[[0]]]))
    with pytest.raises(DataError, match="not in instruments"):
        Market.from_frames(f["instruments"], f["bars"].assign(symbol="000001.SZ"))
    with pytest.raises(DataError, match="not found"):
        load_market(tmp_path / "missing")


def test_benchmark_table_with_several_indices(tmp_path):
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock("600000.SH", close=[10.0, 10.1, 10.2])
    d = b.write(tmp_path / "m")
    pd.DataFrame({"index": ["000905.SH"] * 3 + ["000300.SH"] * 2,
                  "date": [b.day(0), b.day(1), b.day(2), b.day(0), b.day(2)],
                  "close": [6000.0, 6100.0, 6200.0, 5000.0, 5100.0]}).to_parquet(d / "benchmark.parquet", index=False)
    m = load_market(d)
    assert list(m.benchmarks.columns) == ["000905.SH", "000300.SH"]      # file order; the first is `benchmark`
    assert m.benchmark.tolist() == [6000.0, 6100.0, 6200.0]
    assert m.benchmarks["000300.SH"].tolist() == [5000.0, 5000.0, 5100.0]   # forward-filled


def test_delisting_period_is_not_investable_but_keeps_the_ordinary_limit():
    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock("600001.SH", close=[10.0, 10.0, 10.0])
    b.stock("600002.SH", close=[10.0, 10.0, 10.0])
    b.st("600001.SH", b.day(1), kind="delisting")
    b.st("600002.SH", b.day(1), kind="ST")
    m = b.build()
    assert m.is_st[1:, 0].all() and m.is_st[1:, 1].all()
    assert m.high_limit[1, 0] == np.float32(11.0)        # ordinary 10% on the main board
    assert m.high_limit[1, 1] == np.float32(10.5)        # ST 5%
