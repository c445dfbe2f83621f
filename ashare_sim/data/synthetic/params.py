"""Every knob of the synthetic market in one documented place.

These are *generator* parameters: the shape of IPO waves, probabilities of
events, sizes of planted factor premia. Market rules (limit ratios, board
openings, IPO no-limit days, report deadlines, tick) are never repeated here:
they come from the rules table (`rules/ashare_rules.yaml`).

Units: "daily" returns are log returns per trading day; "per sd" means per one
cross-sectional standard deviation of the characteristic; shares of `stocks`
are fractions of the `--stocks` argument.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# SW-level-1-like industry labels (30). Only labels: nothing real is implied.
INDUSTRIES = (
    "Agriculture", "Mining", "Chemicals", "Steel", "Nonferrous Metals", "Electronics", "Home Appliances",
    "Food & Beverage", "Textiles & Apparel", "Light Industry", "Pharmaceuticals", "Utilities",
    "Transportation", "Real Estate", "Retail", "Leisure Services", "Conglomerates", "Building Materials",
    "Construction", "Power Equipment", "Defense", "Computers", "Media", "Telecom", "Banks",
    "Non-bank Finance", "Automobiles", "Machinery", "Environmental", "Coal",
)


@dataclass(frozen=True)
class ListingParams:
    # IPOs in a calendar year as a share of `stocks`, shaped on A-share IPO counts
    # (2013 and the 2015 H2 freezes included via `ipo_freezes`). Years not listed
    # use `ipo_share_default`. With the defaults: ~1,900 listed at 2010-01-04, ~3,100 IPOs to 2022.
    ipo_share_by_year: dict[int, float] = field(default_factory=lambda: {
        1991: 0.002, 1992: 0.008, 1993: 0.025, 1994: 0.020, 1995: 0.005, 1996: 0.040, 1997: 0.040,
        1998: 0.020, 1999: 0.020, 2000: 0.028, 2001: 0.018, 2002: 0.014, 2003: 0.014, 2004: 0.020,
        2005: 0.003, 2006: 0.014, 2007: 0.024, 2008: 0.015, 2009: 0.020,
        2010: 0.0669, 2011: 0.0543, 2012: 0.0297, 2013: 0.0000, 2014: 0.0241, 2015: 0.0430, 2016: 0.0438,
        2017: 0.0844, 2018: 0.0203, 2019: 0.0392, 2020: 0.0764, 2021: 0.1011, 2022: 0.0818})
    ipo_share_default: float = 0.06
    # Windows without IPOs (inclusive ISO dates).
    ipo_freezes: tuple[tuple[str, str], ...] = (("2012-11-03", "2014-01-16"), ("2015-07-04", "2015-11-30"))
    # Board mix of new listings from a date on: weights by board group. A group
    # only lists once its board is open (rules table board_open).
    board_mix: tuple[tuple[str, dict[str, float]], ...] = (
        ("1990-01-01", {"sh_main": 0.45, "sz_main": 0.55}),
        ("2004-06-01", {"sh_main": 0.25, "sz_main": 0.75}),
        ("2009-10-01", {"sh_main": 0.12, "sz_main": 0.50, "chinext": 0.38}),
        ("2014-01-01", {"sh_main": 0.35, "sz_main": 0.28, "chinext": 0.37}),
        ("2019-01-01", {"sh_main": 0.30, "sz_main": 0.17, "chinext": 0.25, "star": 0.28}),
        ("2021-01-01", {"sh_main": 0.17, "sz_main": 0.11, "chinext": 0.30, "star": 0.22, "bse": 0.20}),
    )
    # Code blocks per board group, used in order (BSE: 2-digit prefixes, 4 free digits).
    code_blocks: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "sh_main": ("600", "601", "603", "605"), "sz_main": ("000", "002", "001", "003"),
        "chinext": ("300", "301"), "star": ("688", "689"), "bse": ("83", "87", "43", "88")})
    first_code: dict[str, int] = field(default_factory=lambda: {
        "sh_main": 0, "sz_main": 1, "chinext": 1, "star": 1, "bse": 1})
    exchange: dict[str, str] = field(default_factory=lambda: {
        "sh_main": "SH", "sz_main": "SZ", "chinext": "SZ", "star": "SH", "bse": "BJ"})
    # Delistings in a calendar year as a share of `stocks` (~150 of 5,000 over 2010-2022).
    delist_share_by_year: dict[int, float] = field(default_factory=lambda: {
        2010: 0.0012, 2011: 0.0012, 2012: 0.0012, 2013: 0.0012, 2014: 0.0012, 2015: 0.0012, 2016: 0.0012,
        2017: 0.0012, 2018: 0.0012, 2019: 0.0020, 2020: 0.0035, 2021: 0.0040, 2022: 0.0100})
    delist_share_default: float = 0.002
    delist_min_years_listed: float = 3.0       # a delisted firm traded at least this long
    delist_distress_quarters: int = 12         # quarters of losses before delisting (-> *ST)


@dataclass(frozen=True)
class SizeParams:
    cap_median: float = 5.0e9                  # CNY, total cap at listing / start
    cap_log_sd: float = 0.95
    large_share: float = 0.05                 # a large-cap component (banks, SOE giants)
    large_median: float = 9.0e10
    large_log_sd: float = 0.7
    board_log_shift: dict[str, float] = field(default_factory=lambda: {
        "sh_main": 0.25, "sz_main": 0.0, "chinext": -0.15, "star": 0.35, "bse": -1.0})
    price_median: float = 13.0                 # CNY, price of stocks listed before the calendar starts
    price_log_sd: float = 0.5
    # CNY, steady price some weeks after an IPO in the calendar (real 2010-2022 listings: median 37 CNY
    # 20 trading days after listing, log sd 0.7; pre-listed stocks at 2010-01-04: median 12.7, log sd 0.6).
    ipo_price_median: float = 36.0
    float_start: tuple[float, float] = (0.55, 1.0)     # float share of stocks listed before start
    float_ipo: tuple[float, float] = (0.18, 0.30)      # float share at IPO
    lockup_days: tuple[int, int] = (244, 732)          # trading days to the 1- and 3-year lock-up expiries
    lockup_step_1: tuple[float, float] = (0.10, 0.35)  # float share added at each expiry (capped at 1)
    lockup_step_2: tuple[float, float] = (0.30, 0.60)


@dataclass(frozen=True)
class ReturnParams:
    # Market factor: stochastic log volatility, Student-t shocks, stylized eras.
    market_drift: float = 0.0              # daily; the market's noise is de-meaned, so this plus the eras is its path
    # Share of -sig^2/2 in the idio log drift (1: mean simple return 0). 0 keeps the median stock's log price
    # from sinking, which otherwise doubles the cross-sectional spread of prices within a decade.
    convexity: float = 0.0
    # Below `price_floor` CNY the fair value is pulled up by `floor_pull` per day and log unit of the gap
    # (A-share firms rarely trade near 1 CNY: delisting below par, buy-backs, restructurings).
    # A floor this low only trims the degenerate tail (prices of a few fen where the 10% limit rounds to
    # the price itself); a higher one hands low-priced stocks a premium that leaks into BP and size.
    price_floor: float = 0.6
    floor_pull: float = 0.01
    # Idio vol scales with the price level as (price / price_vol_pivot)^price_vol_elasticity (clipped to
    # price_vol_clip): on real A-shares 2010-2022 the daily idiosyncratic move (MAD) is 1.2% at 2-4 CNY,
    # 1.6% at 10-20, 1.9% at 20-50 and 2.3% above 50 CNY. No drift: cheap stocks only wander more slowly.
    price_vol_elasticity: float = 0.4
    price_vol_pivot: float = 12.0
    price_vol_clip: tuple[float, float] = (0.4, 1.5)
    market_vol: float = 0.0135
    market_vol_persistence: float = 0.98
    market_volvol: float = 0.09
    t_df: float = 4.0
    # Stylized A-share eras: (from, to, extra daily drift, volatility multiplier).
    eras: tuple[tuple[str, str, float, float], ...] = (
        ("2014-07-22", "2015-06-12", 0.0030, 1.1),
        ("2015-06-15", "2015-09-15", -0.0045, 1.8),
        ("2015-12-31", "2016-01-28", -0.0060, 1.6),
        ("2018-01-29", "2018-12-28", -0.0012, 1.0),
        ("2019-01-04", "2019-04-19", 0.0030, 1.1),
    )
    beta_mean: float = 1.0
    beta_sd: float = 0.2
    industry_vol: float = 0.011
    # Idiosyncratic: daily vol = idio_vol * (cap / cap_median)^idio_size_elasticity * lognormal(disp).
    idio_vol: float = 0.0145
    idio_size_elasticity: float = -0.12
    idio_vol_dispersion: float = 0.25
    idio_vol_persistence: float = 0.97
    trait_persistence: float = 0.996           # daily AR(1) of the vol and turnover levels (half-life ~170 days)
    idio_volvol: float = 0.11
    # News jumps (the main source of limit runs outside IPOs).
    jump_prob: float = 0.0055
    jump_up_share: float = 0.75
    jump_sd: float = 0.09                      # a constant drift offsets the jumps' mean (skew, not trend)
    # Size factor: daily return per unit of the size score (cross-sectional rank of -log(cap), sd 1), by era (from year).
    size_premium: tuple[tuple[int, float], ...] = ((1990, 0.0002), (2017, -0.00036), (2021, 0.0002))
    size_factor_vol: float = 0.0025
    # Intraday shape.
    overnight_share: float = 0.35              # share of the day's move realised at the open
    range_scale: float = 0.55                  # high/low excursion, in daily idio vols
    ipo_vol_boost: float = 0.9                 # extra log-vol on listing day, decaying with persistence
    distress_drift: float = -0.0020            # daily drift of a firm in its last `distress_days` before delisting
    distress_days: int = 250
    # Turnover (share of float traded per day): median at cap_median, higher for small caps.
    turnover: float = 0.016
    turnover_size_elasticity: float = -0.30
    turnover_dispersion: float = 0.45
    turnover_noise: float = 0.35
    turnover_abs_return: float = 12.0          # multiplier slope on |return|
    locked_turnover: float = 0.004             # turnover on one-price limit bars
    ipo_turnover: float = 0.65                 # day-one turnover on no-limit listings
    ipo_turnover_boost: float = 8.0            # turnover multiplier 1 + boost * exp(-days listed / decay) after listing
    ipo_turnover_decay_days: float = 10.0


@dataclass(frozen=True)
class IpoParams:
    # Day-one pop as log-normal (median gain, log sd) for listings without a day-one limit.
    free_pop: dict[str, tuple[float, float]] = field(default_factory=lambda: {
        "star": (1.3, 0.55), "chinext": (1.6, 0.6), "bse": (0.6, 0.7), "main": (1.0, 0.5)})
    # Approval-era listings: total run = day-one band, then Poisson(mean) limit-ups.
    band_runs_mean: float = 6.0
    band_open_share: float = 0.45              # day-one open at this share of the band (44% -> ~20%)
    # Listings with the ordinary limit on day one (no band, no free days): log-normal pop.
    plain_pop: tuple[float, float] = (0.45, 0.35)


@dataclass(frozen=True)
class EventParams:
    # Suspension spells: starts per listed stock-day, length mixture (share, min days, max days).
    suspension_rate: float = 0.0023
    suspension_rate_by_era: tuple[tuple[int, float], ...] = ((1990, 1.25), (2017, 0.7))
    suspension_lengths: tuple[tuple[float, int, int], ...] = (
        (0.55, 1, 1), (0.27, 2, 10), (0.14, 11, 60), (0.04, 61, 250))
    # Mass suspensions (the July 2015 halts): (first day, last day, share of listed stocks, min days, max days).
    suspension_waves: tuple[tuple[str, str, float, int, int], ...] = (("2015-07-06", "2015-07-09", 0.25, 5, 40),)
    # Risk warnings not caused by losses (kind 'ST'): spell starts per stock-year, length in days.
    other_st_rate: float = 0.015
    other_st_days: tuple[int, int] = (120, 500)
    st_removal_delay_days: tuple[int, int] = (10, 60)   # calendar days after the clean annual report


@dataclass(frozen=True)
class FundamentalParams:
    history_quarters: int = 12                 # quarters of reports before the first trading day
    bp_median: float = 0.42                    # book / price at listing
    bp_log_sd: float = 0.45
    industry_bp_sd: float = 0.35
    roe_mean: float = 0.021                    # quarterly ROE, firm means ~ N(mean, sd)
    roe_firm_sd: float = 0.006
    industry_roe_sd: float = 0.006
    roe_persistence: float = 0.5
    roe_noise: float = 0.008
    q4_shift: float = -0.006                   # Q4 write-downs
    distress_roe: float = -0.035               # quarterly ROE shift of firms on the way to delisting
    sales_to_equity: float = 0.22              # quarterly revenue / equity (median)
    sales_log_sd: float = 0.5
    # Announcement windows (month, day) -> deadline from the rules table.
    window_start: dict[str, tuple[int, int]] = field(default_factory=lambda: {
        "03-31": (4, 8), "06-30": (7, 15), "09-30": (10, 10), "12-31": (1, 20)})
    # Dividends.
    payer_share: float = 0.78                  # profitable firms paying a cash dividend
    payout: tuple[float, float] = (0.15, 0.55)
    ex_lag_days: tuple[int, int] = (25, 95)    # calendar days from the annual report to the ex-date
    # Bonus / transfer shares on the ex-date of a cash dividend, by the price before it: (from CNY,
    # probability, sizes drawn uniformly). Shaped on A-share ex-dates 2010-2022 (real share with bonus shares
    # 4% under 5 CNY, 7% at 5-10, 16% at 10-15, 24%, 33%, 39%, 47% above 45 CNY; mean size 0.42-0.83):
    # splits are what keeps the top of the price range in check, and cheap stocks rarely split further.
    bonus_share: float = 0.0                   # share of events with bonus shares planned at the annual report
    bonus_sizes: tuple[float, ...] = (0.2, 0.3, 0.5, 1.0)
    bonus_by_price: tuple[tuple[float, float, tuple[float, ...]], ...] = (
        (0.0, 0.04, (0.2, 0.3, 0.5, 1.0)), (5.0, 0.07, (0.2, 0.3, 0.5, 0.7)),
        (10.0, 0.16, (0.2, 0.3, 0.5, 0.8, 1.0)), (15.0, 0.24, (0.3, 0.5, 0.6, 0.8)),
        (20.0, 0.33, (0.3, 0.5, 0.8, 1.0)), (30.0, 0.39, (0.5, 0.5, 0.8, 1.0)),
        (45.0, 0.47, (0.5, 0.8, 1.0, 1.0)))


@dataclass(frozen=True)
class PremiumParams:
    """Planted, synthetic factor premia: daily log return per sd of the characteristic.

    Not real-market findings. Sized so that a correct point-in-time pipeline
    finds monthly RankIC of roughly 0.02-0.06 per factor.
    """
    value: float = 0.00014          # log(book / cap), book = last announced total_equity
    profitability: float = 0.00016  # ROE = TTM net profit / total_equity, last announced
    growth: float = 0.000064        # TTM net profit change vs a year earlier / |equity|
    sue: float = 0.000115           # standardized unexpected quarterly earnings, decaying after ann.
    sue_decay_days: float = 45.0
    announcement_jump: float = 0.0195  # day-after-announcement return per sd of SUE
    liquidity: float = 0.00014      # minus log latent turnover net of size: illiquid earns more
    low_vol: float = 2.4e-4         # minus log idiosyncratic volatility net of size


@dataclass(frozen=True)
class GeneratorParams:
    listing: ListingParams = field(default_factory=ListingParams)
    size: SizeParams = field(default_factory=SizeParams)
    returns: ReturnParams = field(default_factory=ReturnParams)
    ipo: IpoParams = field(default_factory=IpoParams)
    events: EventParams = field(default_factory=EventParams)
    fundamentals: FundamentalParams = field(default_factory=FundamentalParams)
    premia: PremiumParams = field(default_factory=PremiumParams)
    industries: tuple[str, ...] = INDUSTRIES
    benchmark_base: float = 1000.0


def iso(day: str) -> dt.date:
    return dt.date.fromisoformat(day)
