"""`data validate`: a clean directory passes; each kind of defect is named."""
import pandas as pd
import pytest

from ashare_sim.cli.main import main
from ashare_sim.data.validate import validate_directory
from tests.market_builder import MarketBuilder


def clean_builder() -> MarketBuilder:
    b = MarketBuilder(start="2021-03-01", days=6)
    b.stock("600000.SH", close=[10.0, 10.5, 10.8, 10.6, 10.7, 10.9], list_date="2010-01-04")
    b.stock("300750.SZ", close=[100.0, 104.0, 110.0, 108.0, 109.0, 111.0], list_date="2018-06-11")
    b.stock("688981.SH", close=[50.0, 52.0, 55.0, 57.0, 56.0, 58.0], list_date="2020-07-16")
    b.st("600000.SH", "2021-03-01", kind="ST")
    b.stock("600000.SH", close=[10.0, 10.5, 10.5, 10.6, 10.5, 10.4], list_date="2010-01-04")
    b.fundamental("600000.SH", "2020-12-31", "2021-03-02", 1e9, 1e8)
    b.dividend("300750.SZ", b.day(3), cash_per_share=0.5)
    b.benchmark([1000, 1010, 1020, 1005, 1010, 1030])
    return b


def write(tmp_path, b: MarketBuilder, fmt="parquet", edit=None):
    d = b.write(tmp_path / "m", fmt)
    if edit:
        name, fn = edit
        path = d / f"{name}.{fmt}"
        df = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path, dtype=str)
        df = fn(df)
        if fmt == "parquet":
            df.to_parquet(path, index=False)
        else:
            df.to_csv(path, index=False)
    return d


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_clean_directory_passes_with_a_summary(tmp_path, fmt, capsys):
    d = write(tmp_path, clean_builder(), fmt)
    report = validate_directory(d)
    assert report.ok, report.render()
    assert main(["data", "validate", str(d)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "18 rows, 3 symbols" in out


def _set(col, row, value):
    def fn(df):
        df = df.copy()
        df[col] = df[col].astype(object)
        df.loc[row, col] = value
        return df
    return fn


DEFECTS = [
    ("missing_column", ("bars", lambda df: df.drop(columns=["close"])), "schema", "missing column(s) close"),
    ("bad_number", ("bars", _set("open", 2, "ten")), "type", "not a number"),
    ("bad_date", ("bars", _set("date", 1, "2021-02-30x")), "type", "not a date"),
    ("duplicate_bar", ("bars", lambda df: pd.concat([df, df.iloc[[4]]], ignore_index=True)), "duplicate",
     "duplicate (date, symbol)"),
    ("non_positive", ("bars", _set("close", 3, -1.0)), "non_positive", "price must be > 0"),
    ("high_below", ("bars", _set("high", 5, 1.0)), "ohlc", "high below max(open, close)"),
    ("low_above", ("bars", _set("low", 6, 1000.0)), "ohlc", "low above min(open, close)"),
    ("nan_traded", ("bars", _set("close", 7, None)), "nan", "empty value on a traded day"),
    ("outside_spell", ("instruments", _set("list_date", 0, "2021-03-03")), "listing_spell",
     "bar outside the listing spell"),
    ("unknown_symbol", ("bars", _set("symbol", 0, "600999.SH")), "unknown_symbol", "symbol not in instruments"),
    ("no_ann_date", ("fundamentals", _set("ann_date", 0, None)), "ann_date", "without ann_date"),
    ("extra_table_symbol", ("dividends", _set("symbol", 0, "000002.SZ")), "unknown_symbol", "not in instruments"),
    ("bad_code", ("instruments", _set("symbol", 0, "999999.SH")), "symbol", "no board for this code"),
]


@pytest.mark.parametrize("name, edit, check, message", DEFECTS, ids=[d[0] for d in DEFECTS])
def test_each_defect_is_named(tmp_path, name, edit, check, message, capsys):
    fmt = "csv" if name.startswith("bad_") and name != "bad_code" else "parquet"   # parquet cannot hold mixed types
    d = write(tmp_path, clean_builder(), fmt, edit)
    report = validate_directory(d)
    assert not report.ok
    assert check in report.error_counts, report.render()
    assert message in report.render()
    assert main(["data", "validate", str(d)]) == 2
    out = capsys.readouterr().out
    assert f"[{check}]" in out


def test_csv_rows_are_reported_with_row_number(tmp_path):
    d = write(tmp_path, clean_builder(), "csv", ("bars", _set("open", 2, "ten")))
    text = validate_directory(d).render()
    assert "bars.csv row 3 column 'open' value 'ten'" in text


def test_bars_outside_limits_are_a_warning_not_an_error(tmp_path):
    b = clean_builder()
    b.bar("300750.SZ", 2, open=130.0, high=130.0, low=130.0, close=130.0)   # +18% on a 10% ChiNext day (2021: 20%)
    b.bar("600000.SH", 2, close=11.5, high=11.5)                              # ST main board: +9.5% > 5%
    d = write(tmp_path, b)
    report = validate_directory(d)
    assert report.ok, report.render()
    text = report.render()
    assert "outside_limits" in text and "main 1" in text


def test_many_problems_are_cut_with_a_count(tmp_path):
    def many(df):
        df = df.copy()
        df["close"] = -1.0
        return df
    d = write(tmp_path, clean_builder(), "parquet", ("bars", many))
    text = validate_directory(d).render()
    assert "... and" in text and "non_positive 18" in text


def test_missing_directory_is_a_user_error(tmp_path, capsys):
    assert main(["data", "validate", str(tmp_path / "nope")]) == 2
    assert "no such data directory" in capsys.readouterr().err


def test_missing_optional_tables_are_warnings_naming_what_is_off(tmp_path):
    from tests.market_builder import MarketBuilder

    b = MarketBuilder(start="2021-03-01", days=3)
    b.stock("600000.SH", close=[10.0, 10.1, 10.2])
    report = validate_directory(b.write(tmp_path / "m"))
    assert report.ok
    text = report.render()
    assert "ST/*ST exclusion and the ST price limit" in text and "no fundamentals table" in text
    assert "no dividends table" in text


def test_trading_on_after_the_price_delisting_rule_is_a_warning(tmp_path):
    from tests.market_builder import MarketBuilder

    b = MarketBuilder(start="2021-03-01", days=25)
    b.stock("600000.SH", close=[0.95] * 25, pre_close=[0.95] * 25)
    b.stock("600004.SH", close=[0.95] * 19 + [1.05] + [0.95] * 5, pre_close=[0.95] * 25)
    report = validate_directory(b.write(tmp_path / "m"))
    assert report.ok
    assert report.warning_counts.get("price_delisting") == 1
    assert "1 stock(s) kept trading after the price delisting rule" in report.render()
    assert "600000.SH (20th close under 1 CNY on 2021-03-26, 5 bars after)" in report.render()


def test_share_count_and_pre_close_gaps_are_warnings_with_their_consequence(tmp_path):
    def gaps(df):
        df = df.copy()
        df.loc[0, "total_shares"] = None
        df["pre_close"] = [None] + [10.0] * (len(df) - 1)
        return df
    d = write(tmp_path, clean_builder(), "parquet", ("bars", gaps))
    report = validate_directory(d)
    assert report.ok, report.render()
    text = report.render()
    assert "1 traded bar(s) without total_shares: no market cap there" in text
    assert "without pre_close: derived by the loader" in text


def test_delisting_spells_and_several_benchmark_indices_are_valid(tmp_path):
    b = clean_builder()
    b.st("300750.SZ", "2021-03-02", "2021-03-03", kind="delisting")
    d = write(tmp_path, b)
    bench = pd.read_parquet(d / "benchmark.parquet")
    two = pd.concat([bench.assign(index="000300.SH"), bench.assign(index="000905.SH")], ignore_index=True)
    two.to_parquet(d / "benchmark.parquet", index=False)
    report = validate_directory(d)
    assert report.ok, report.render()
    assert "12 rows (000300.SH, 000905.SH)" in report.render()
    pd.concat([two, two.iloc[[0]]]).to_parquet(d / "benchmark.parquet", index=False)
    assert "duplicate (index, date)" in validate_directory(d).render()


def test_a_data_directory_saved_in_gbk_validates_and_loads(tmp_path):
    """Excel on a Chinese Windows and the terminals save CSV as GBK; this once failed with a codec error."""
    from ashare_sim.data.market import load_market
    d = write(tmp_path, clean_builder(), "csv")
    instruments = pd.read_csv(d / "instruments.csv", dtype=str, keep_default_na=False)
    instruments["name"] = ["浦发银行", "宁德时代", "中芯国际"]
    instruments["industry"] = ["银行", "电力设备", "电子"]
    (d / "instruments.csv").write_bytes(instruments.to_csv(index=False).encode("gbk"))
    report = validate_directory(d)
    assert report.ok, report.render()
    market = load_market(d)
    assert market.n_symbols == 3
    assert sorted(market.instruments["name"]) == sorted(["浦发银行", "宁德时代", "中芯国际"])
