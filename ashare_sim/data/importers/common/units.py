"""Each source's units as named constants (multiply a source value by it to get ours: shares, CNY),
and the check that catches a unit slip before it reaches the market."""
from __future__ import annotations

import numpy as np

from ashare_sim.common.errors import DataError

SHARES = 1.0
LOT = 100.0                      # 1 手 = 100 shares
CNY = 1.0
THOUSAND_CNY = 1_000.0           # 千元
TEN_THOUSAND = 10_000.0          # 万股 / 万元


class Tushare:
    VOL = LOT                    # daily.vol: lots
    AMOUNT = THOUSAND_CNY        # daily.amount: thousands of CNY
    SHARE = TEN_THOUSAND         # daily_basic.total_share / float_share, dividend.base_share: 10,000 shares
    PER_SHARE = 1.0              # dividend.cash_div_tax / stk_div: per share


class AKShare:
    VOLUME = LOT                 # stock_zh_a_hist 成交量: lots
    AMOUNT = CNY                 # 成交额: CNY


class BaoStock:
    VOLUME = SHARES              # query_history_k_data_plus volume: shares
    AMOUNT = CNY
    SHARE = SHARES               # query_profit_data totalShare / liqaShare


class Xbx:
    VOLUME = SHARES              # 成交量: shares
    AMOUNT = CNY                 # 成交额: CNY
    CAP = CNY                    # 流通市值 / 总市值: CNY


class Qlib:
    VOLUME = {"shares": SHARES, "lots": LOT}      # per option; 'adjusted' = shares / factor


class EastMoney:
    VALUE = CNY                  # PARENT_NETPROFIT, TOTAL_PARENT_EQUITY, OPERATE_INCOME
    SHARE = SHARES               # SHARE_CAPITAL


def check_turnover(where: str, amount: np.ndarray, volume: np.ndarray, high: np.ndarray, low: np.ndarray,
                   close: np.ndarray, amount_column: str, volume_column: str, rows: np.ndarray | None = None) -> None:
    """amount / (volume x typical price) is ~1 in shares and CNY (the VWAP lies between low and high).

    Judged on the median over traded rows, so a few bad rows do not trip it; a median off by a
    power of ten means a unit slip, reported with the first row that shows it and the likely cause.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = amount / (volume * ((high + low + close) / 3.0))
    ok = np.isfinite(ratio) & (ratio > 0)
    if ok.sum() < 1:
        return
    median = float(np.median(ratio[ok]))
    if 0.5 <= median <= 2.0:
        return
    power = int(np.round(np.log10(median)))
    first = int(np.flatnonzero(ok & (np.abs(np.log10(np.where(ok, ratio, 1.0)) - power) < 0.5))[0])
    row = int(rows[first]) if rows is not None else first + 1
    raise DataError(f"{where} row {row} column '{volume_column}': amount / (volume x price) is {median:.3g} "
                    f"(median of {int(ok.sum()):,} rows), expected ~1; {_guess(power, amount_column, volume_column)}")


def _guess(power: int, amount_column: str, volume_column: str) -> str:
    if power == -2:
        return f"'{volume_column}' looks 100x too large (shares where lots are expected?): check the source / unit"
    if power == 2:
        return f"'{volume_column}' looks 100x too small (lots where shares are expected?): check the source / unit"
    if power == -3:
        return f"'{amount_column}' looks 1000x too small (thousands of CNY where CNY are expected?)"
    if power == 3:
        return f"'{amount_column}' looks 1000x too large (CNY where thousands of CNY are expected?)"
    return (f"'{amount_column}' and '{volume_column}' are off by about 10^{power}: "
            "check both units against the importer's expected ones")
