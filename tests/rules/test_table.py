"""One test per row family of the dated rules table (docs/rules.md)."""
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import yaml

from ashare_sim.common.errors import UserError
from ashare_sim.rules import RulesTable
from ashare_sim.rules.table import SHIPPED_TABLE

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def rules() -> RulesTable:
    return RulesTable.load()


@pytest.mark.parametrize("symbol, board, exchange", [
    ("600000.SH", "main", "SH"), ("601398.SH", "main", "SH"), ("603288.SH", "main", "SH"), ("605499.SH", "main", "SH"),
    ("000001.SZ", "main", "SZ"), ("002415.SZ", "main", "SZ"), ("003816.SZ", "main", "SZ"), ("001979.SZ", "main", "SZ"),
    ("300750.SZ", "chinext", "SZ"), ("301029.SZ", "chinext", "SZ"),
    ("688981.SH", "star", "SH"), ("689009.SH", "star", "SH"),
    ("830799.BJ", "bse", "BJ"), ("430047.BJ", "bse", "BJ"), ("873223.BJ", "bse", "BJ"), ("920002.BJ", "bse", "BJ"),
])
def test_board_from_code(rules, symbol, board, exchange):
    assert rules.board_and_exchange(symbol) == (board, exchange)


def test_unknown_code_is_a_user_error(rules):
    with pytest.raises(UserError, match="999999.SH"):
        rules.board_and_exchange("999999.SH")


@pytest.mark.parametrize("board, day, st, ratio", [
    ("main", "2015-06-01", False, 0.10),
    ("main", "2015-06-01", True, 0.05),            # ST main board
    ("chinext", "2020-08-21", False, 0.10),        # last day before the reform
    ("chinext", "2020-08-24", False, 0.20),        # reform day
    ("chinext", "2020-08-21", True, 0.10),         # pre-reform ChiNext had no ST regime: board ratio
    ("chinext", "2021-03-01", True, 0.20),         # ChiNext ST also 20% after the reform
    ("star", "2019-07-22", False, 0.20),
    ("bse", "2021-11-15", False, 0.30),
])
def test_limit_ratios_by_board_status_and_date(rules, board, day, st, ratio):
    assert rules.limit_ratio(board, D(day), st) == pytest.approx(ratio)


def test_boards_have_no_limit_rule_before_they_open(rules):
    assert rules.limit_ratio("star", D("2019-07-19")) is None
    assert rules.limit_ratio("bse", D("2021-11-12")) is None


@pytest.mark.parametrize("board, list_date, days", [
    ("star", "2019-07-22", 5), ("chinext", "2020-08-24", 5), ("chinext", "2020-08-21", 0),
    ("main", "2023-04-10", 5), ("main", "2023-04-07", 0), ("bse", "2021-11-15", 1),
])
def test_ipo_no_limit_days(rules, board, list_date, days):
    assert rules.ipo_no_limit_days(board, D(list_date)) == days


def test_old_main_board_ipo_band(rules):
    assert rules.ipo_first_day_band("main", D("2018-05-02")) == (0.44, 0.36)
    assert rules.ipo_first_day_band("main", D("2023-04-10")) is None
    assert rules.ipo_first_day_band("star", D("2020-01-02")) is None


@pytest.mark.parametrize("pre_close, ratio, high, low", [
    (10.05, 0.10, 11.06, 9.05),    # 11.055 rounds half up to 11.06; 9.045 to 9.05
    (10.00, 0.10, 11.00, 9.00),
    (3.33, 0.05, 3.50, 3.16),      # 3.4965 -> 3.50; 3.1635 -> 3.16
    (25.87, 0.20, 31.04, 20.70),   # 31.044 -> 31.04; 20.696 -> 20.70
    (0.05, 0.10, 0.06, 0.05),      # 0.055 -> 0.06; 0.045 -> 0.05
    (0.01, 0.10, 0.01, 0.01),      # floor at one tick
])
def test_limit_price_rounding_half_up_to_the_cent(rules, pre_close, ratio, high, low):
    assert rules.limit_prices(pre_close, ratio) == (pytest.approx(high), pytest.approx(low))


def test_limit_panels_match_scalar_lookups(rules):
    dates = np.array(["2020-08-21", "2020-08-24"], dtype="datetime64[D]")
    boards = np.array(["main", "chinext", "main"], dtype=object)
    st = np.array([[False, False, True], [False, False, True]])
    ratio = rules.limit_ratio_panel(dates, boards, st)
    assert ratio.tolist() == [[0.10, 0.10, 0.05], [0.10, 0.20, 0.05]]
    pre = np.full((2, 3), 10.05, dtype=np.float32)
    high, low = rules.limit_panels(pre, ratio)
    assert high[1].tolist() == pytest.approx([11.06, 12.06, 10.55])
    assert low[1].tolist() == pytest.approx([9.05, 8.04, 9.55])


@pytest.mark.parametrize("board, lot_min, step, qty, rounded", [
    ("main", 100, 100, 250, 200), ("chinext", 100, 100, 99, 0),
    ("star", 200, 1, 250, 250), ("star", 200, 1, 150, 0), ("bse", 100, 1, 123, 123),
])
def test_lots(rules, board, lot_min, step, qty, rounded):
    lot = rules.lot(board)
    assert (lot.min, lot.step) == (lot_min, step)
    assert lot.round_down(qty) == rounded


def test_star_250_valid_150_not(rules):
    assert rules.lot("star").is_valid_buy(250)
    assert not rules.lot("star").is_valid_buy(150)
    assert not rules.lot("main").is_valid_buy(150)


@pytest.mark.parametrize("day, side, rate", [
    ("2007-06-01", "buy", 0.003), ("2008-05-05", "buy", 0.001), ("2008-09-19", "buy", 0.0),
    ("2008-09-19", "sell", 0.001), ("2023-08-25", "sell", 0.001), ("2023-08-28", "sell", 0.0005),
    ("2023-08-28", "buy", 0.0),
])
def test_stamp_duty_schedule(rules, day, side, rate):
    assert rules.stamp_duty(D(day), side) == pytest.approx(rate)


@pytest.mark.parametrize("day, exchange, rate, per_share", [
    ("2014-01-02", "SH", 0.0, 0.0003), ("2014-01-02", "SZ", 0.0, 0.0),
    ("2022-04-28", "SH", 0.00002, 0.0), ("2022-04-28", "SZ", 0.00002, 0.0),
    ("2022-04-29", "SH", 0.00001, 0.0), ("2022-04-29", "BJ", 0.00001, 0.0),
])
def test_transfer_fee_schedule(rules, day, exchange, rate, per_share):
    fee = rules.transfer_fee(D(day), exchange)
    assert (fee.rate, fee.per_share) == (pytest.approx(rate), pytest.approx(per_share))


def test_the_table_holds_no_commission(rules):
    # Commission is the broker's, not the market's: it is configured (broker.commission), never tabled.
    assert "commission" not in Path(rules.source).read_text()


@pytest.mark.parametrize("held, rate", [(10, 0.20), (30, 0.20), (31, 0.10), (365, 0.10), (366, 0.0)])
def test_dividend_tax_by_holding_period(rules, held, rate):
    assert rules.dividend_tax(D("2020-06-01"), held) == pytest.approx(rate)


@pytest.mark.parametrize("period_end, deadline", [
    ("2020-03-31", "2020-04-30"), ("2020-06-30", "2020-08-31"), ("2020-09-30", "2020-10-31"),
    ("2020-12-31", "2021-04-30"),
])
def test_report_deadlines(rules, period_end, deadline):
    assert rules.report_deadline(D(period_end)) == D(deadline)


def test_unverified_rows_are_listed(rules):
    names = {name for name, _ in rules.unverified_rows()}
    assert "transfer_fee" in names


def test_user_table_overrides_the_shipped_one(tmp_path):
    raw = yaml.safe_load(SHIPPED_TABLE.read_text())
    raw["stamp_duty"] = [{"side": "sell", "rate": 0.002}]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert RulesTable.load(path).stamp_duty(D("2023-09-01"), "sell") == 0.002


def test_bad_table_names_file_and_row(tmp_path):
    raw = yaml.safe_load(SHIPPED_TABLE.read_text())
    raw["price_limits"][0]["ratio"] = "ten percent"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(UserError, match=r"price_limits\[0\]\.ratio"):
        RulesTable.load(path)
    raw = yaml.safe_load(SHIPPED_TABLE.read_text())
    del raw["lots"]
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(UserError, match="lacks 'lots'"):
        RulesTable.load(path)


def test_limit_panels_are_exact_for_float32_pre_close(rules):
    # float32(62.35) = 62.349998...; the exchange computes 62.35 x 1.1 = 68.585 -> 68.59.
    pre = np.array([[62.35, 10.05, 33.45]], dtype=np.float32)
    high, low = rules.limit_panels(pre, np.full((1, 3), 0.10))
    assert high[0].tolist() == pytest.approx([68.59, 11.06, 36.80])
    assert low[0].tolist() == pytest.approx([56.12, 9.05, 30.11])


@pytest.mark.parametrize("tick", [0.01, 0.001, 0.05, 0.03])
def test_on_tick_gives_the_scalar_rounding_of_every_element(tick):
    from ashare_sim.rules.table import on_tick, round_to_tick

    rng = np.random.default_rng(7)
    prices = np.concatenate([rng.random(20_000) * 300, np.round(rng.random(5_000) * 300, 2),
                             (np.arange(5_000) + 0.5) * tick, [np.nan, 0.0]])
    got = on_tick(prices, tick)
    want = [np.nan if np.isnan(p) else round_to_tick(float(p), tick) for p in prices]
    assert [x.hex() for x in got.tolist()] == [float(x).hex() for x in want]
