"""Targets file: validation with errors naming the file and row; default equal weights."""
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.signals.targets import read_targets_file
from tests.market_builder import MarketBuilder


@pytest.fixture
def market():
    b = MarketBuilder(start="2021-03-01", days=5)
    for s in ("600000.SH", "000001.SZ", "300001.SZ"):
        b.stock(s, close=[10.0] * 5)
    return b.build()


def write(tmp_path, text):
    p = tmp_path / "targets.csv"
    p.write_text(text)
    return p


def test_weights_default_to_equal_and_a_blank_beside_given_weights_is_refused(tmp_path, market):
    p = write(tmp_path, "rebalance_date,symbol,weight\n2021-03-02,600000.SH,\n2021-03-02,000001.SZ,\n"
                        "2021-03-03,600000.SH,0.5\n2021-03-03,000001.SZ,0.3\n")
    t = read_targets_file(p, market)
    assert t[t.rebalance_date == "2021-03-02"]["weight"].tolist() == [0.5, 0.5]
    assert t[t.rebalance_date == "2021-03-03"]["weight"].tolist() == [0.5, 0.3]          # the rest is cash
    p = write(tmp_path, "rebalance_date,symbol,weight\n2021-03-03,600000.SH,0.3\n2021-03-03,000001.SZ,\n")
    with pytest.raises(UserError, match="on 2021-03-03 000001.SZ has no weight while other rows of that date give one"):
        read_targets_file(p, market)            # it used to take the rest silently: 0.7 of the book in one name


def test_no_weight_column(tmp_path, market):
    t = read_targets_file(write(tmp_path, "rebalance_date,symbol\n2021-03-02,600000.SH\n"), market)
    assert t["weight"].tolist() == [1.0]


@pytest.mark.parametrize("body,needle", [
    ("2021-03-02,999999.SH\n", "row 2: unknown symbol '999999.SH' (999999.SH) is not in the market's instruments"),
    ("2021-03-02,600001.SH\n", "unknown symbol '600001.SH' (600001.SH) is not in the market's instruments "
                               "(did you mean '600000.SH'?)"),
    ("2021-03-02,ABC\n", "row 2: unknown symbol 'ABC' is not a stock code"),
    ("2021-03-02,600000.SH\n2021-03-06,600000.SH\n", "row 3: rebalance_date 2021-03-06 is not a trading day"),
    ("2021-13-02,600000.SH\n", "row 2: rebalance_date '2021-13-02' is not a date"),
    ("20211302,600000.SH\n", "row 2: rebalance_date '20211302' is not a date; write YYYY-MM-DD (or 20190301)"),
])
def test_bad_rows_are_named(tmp_path, market, body, needle):
    p = write(tmp_path, "rebalance_date,symbol\n" + body)
    with pytest.raises(UserError) as err:
        read_targets_file(p, market)
    assert needle in str(err.value) and str(p) in str(err.value)


def test_weights_above_one_are_an_error(tmp_path, market):
    p = write(tmp_path, "rebalance_date,symbol,weight\n2021-03-02,600000.SH,0.7\n2021-03-02,000001.SZ,0.6\n")
    with pytest.raises(UserError, match="sum to 1.3 > 1"):
        read_targets_file(p, market)


def test_missing_file_and_missing_column(tmp_path, market):
    with pytest.raises(UserError, match="strategy.targets_file"):
        read_targets_file(tmp_path / "nope.csv", market)
    with pytest.raises(UserError, match="missing column 'symbol'"):
        read_targets_file(write(tmp_path, "rebalance_date,code\n2021-03-02,600000.SH\n"), market)


def test_symbols_in_any_spelling_and_compact_dates(tmp_path, market):
    p = write(tmp_path, "rebalance_date,symbol\n20210302,000001\n20210302,sh600000\n2021-03-03,SZ300001\n"
                        "2021-03-03,000001.XSHE\n2021-03-04,sz000001\n2021-03-04,600000.sh\n")
    t = read_targets_file(p, market)
    assert t["symbol"].tolist() == ["000001.SZ", "600000.SH", "300001.SZ", "000001.SZ", "000001.SZ", "600000.SH"]
    assert [str(d.date()) for d in t["rebalance_date"]] == ["2021-03-02"] * 2 + ["2021-03-03"] * 2 + ["2021-03-04"] * 2


def test_the_same_stock_in_two_spellings_on_one_date_is_a_duplicate(tmp_path, market):
    with pytest.raises(UserError, match="000001.SZ appears twice on 2021-03-02"):
        read_targets_file(write(tmp_path, "rebalance_date,symbol\n2021-03-02,000001\n2021-03-02,SZ000001\n"),
                          market)


@pytest.mark.parametrize("text", ["", "rebalance_date,symbol,weight\n"])
def test_an_empty_or_header_only_file_is_refused_not_run_as_years_of_cash(tmp_path, market, text):
    with pytest.raises(UserError, match="the targets file has no rows, so there is nothing to trade"):
        read_targets_file(write(tmp_path, text), market)


def test_a_targets_file_saved_in_gbk_reads(tmp_path):
    """Excel on a Chinese Windows saves CSV as GBK; a names column once made the file a codec error."""
    from ashare_sim.signals.targets import read_targets_file
    from tests.market_builder import MarketBuilder
    b = MarketBuilder(start="2021-03-01", days=4)
    b.stock("600000.SH", close=[10.0, 10.1, 10.2, 10.3])
    p = tmp_path / "t.csv"
    p.write_bytes(f"rebalance_date,symbol,weight,名称\n{b.day(1)},600000.SH,0.5,浦发银行\n".encode("gbk"))
    t = read_targets_file(p, b.build())
    assert t["symbol"].tolist() == ["600000.SH"] and t["weight"].tolist() == [0.5]
