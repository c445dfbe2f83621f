import numpy as np
import pytest

from ashare_sim.signals.value import DividendBook, book_to_price, size
from tests.market_builder import MarketBuilder


def test_book_to_price_and_size():
    eq = np.array([5e8, 5e8, np.nan])
    cap = np.array([1e9, 0.0, 1e9], dtype=np.float32)
    bp = book_to_price(eq, cap)
    assert bp[0] == pytest.approx(0.5) and np.isnan(bp[1]) and np.isnan(bp[2])
    s = size(np.array([1e9, np.nan, -1.0]))
    assert s[0] == pytest.approx(-np.log(1e9)) and np.isnan(s[1]) and np.isnan(s[2])


def test_trailing_dividend_yield_by_hand():
    b = MarketBuilder(start="2021-06-01", days=10)
    b.stock("600001.SH", close=[10.0] * 10, total_shares=1e8)
    b.stock("600002.SH", close=[20.0] * 10, total_shares=1e8)
    b.stock("600003.SH", close=[5.0] * 10, total_shares=1e8)
    for day in range(5, 10):                       # a 10-for-10 bonus issue on day 5
        b.bar("600002.SH", day, total_shares=2e8, close=10.0, open=10.0, high=10.0, low=10.0)
    b.dividend("600001.SH", "2020-06-03", cash_per_share=0.3)     # exactly 365 days before day 2: out
    b.dividend("600001.SH", "2020-06-04", cash_per_share=0.2)     # in
    b.dividend("600001.SH", b.day(2), cash_per_share=0.1)         # on the signal day: in
    b.dividend("600002.SH", "2020-12-01", cash_per_share=0.8)     # paid on 1e8 shares, now 2e8
    b.dividend("600002.SH", b.day(5), bonus_per_share=1.0)
    m = b.build()
    book = DividendBook(m)
    t = 7
    shares = m.total_shares[t]
    y = book.dividend_yield(m.dates[t], m.close[t], shares)
    assert y[0] == pytest.approx(0.1 / 10.0)                      # day 7 = 2021-06-10: 2020-06-04 is out
    assert y[1] == pytest.approx(0.8 * 1e8 / 2e8 / 10.0)
    assert y[2] == 0.0
    y2 = book.dividend_yield(m.dates[2], m.close[2], m.total_shares[2])
    assert y2[0] == pytest.approx((0.2 + 0.1) / 10.0)             # day 2 = 2021-06-03: 2020-06-03 is out
