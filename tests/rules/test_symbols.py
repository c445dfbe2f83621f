"""Symbol spellings of every source normalise to CODE.EX; unknown text is refused or suggested."""
import pandas as pd
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.rules.symbols import (
    normalize_symbol,
    normalize_symbols,
    parse_symbol,
    suggest,
)


@pytest.mark.parametrize("text", ["000001", "000001.sz", "SZ000001", "sz000001", "000001.XSHE", " 000001.SZ ",
                                  "sz.000001", "1"])
def test_every_spelling_of_ping_an_is_000001_sz(text):
    assert normalize_symbol(text) == "000001.SZ"


@pytest.mark.parametrize("text,want", [
    ("600000", "600000.SH"), ("SH600000", "600000.SH"), ("600000.XSHG", "600000.SH"), ("600000.SS", "600000.SH"),
    ("688981", "688981.SH"), ("300750", "300750.SZ"), ("830799", "830799.BJ"), ("BJ830799", "830799.BJ"),
    ("920001", "920001.BJ"),
    # an explicit exchange is kept: the SSE index 000300 is not the Shenzhen stock 000300
    ("SH000300", "000300.SH"), ("SZ399303", "399303.SZ"),
])
def test_exchange_from_the_code_or_as_given(text, want):
    assert normalize_symbol(text) == want


@pytest.mark.parametrize("text", ["", "ABC", "600000.XX", "1234567", None, "QQ600000", "999999"])
def test_not_a_code(text):
    assert parse_symbol(text) is None


def test_refusal_names_where():
    with pytest.raises(UserError, match=r"targets.csv row 3: 'ABC' is not a stock code"):
        normalize_symbol("ABC", where="targets.csv row 3")


def test_vectorised_keeps_index_and_none():
    s = pd.Series(["sh600000", None, "bogus", "sh600000"], index=[5, 6, 7, 8])
    out = normalize_symbols(s)
    assert out.tolist() == ["600000.SH", None, None, "600000.SH"] and list(out.index) == [5, 6, 7, 8]


def test_suggest():
    assert suggest("600001.SH", ["600000.SH", "000001.SZ"]) == " (did you mean '600000.SH'?)"
    assert suggest("zzz", ["600000.SH"]) == ""


def test_full_width_characters_are_read_as_their_ascii_and_other_digits_are_no_code():
    from ashare_sim.rules.symbols import parse_symbol

    assert parse_symbol("６００００１") == "600001.SH" and parse_symbol("ＳＨ６０００００") == "600000.SH"
    assert parse_symbol("٦٠٠٠٠١") is None and parse_symbol("../../etc") is None
