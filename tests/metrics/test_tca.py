"""Transaction-cost analysis (metrics.tca): prices per fill, shortfalls, aggregates, and k of the square-root
law recovered from fills made with a known k (docs/tca.md states the error these tests hold it to)."""
import datetime as dt
import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest

import ashare_sim as sim
from ashare_sim.backtest.outputs import ENGINE_TRADE_COLUMNS
from ashare_sim.common.errors import UserError
from ashare_sim.metrics.tca import (
    EXCLUSIONS,
    PARTICIPATION_BUCKETS,
    TRADES_COLUMNS,
    Fills,
    aggregate,
    analyse,
    estimate_k,
    price_fills,
    read_account,
    read_trades,
)
from ashare_sim.paper.account import PaperAccount
from ashare_sim.rules.table import round_to_tick
from tests.conftest import generated_market
from tests.market_builder import MarketBuilder

# docs/tca.md: on the model's own fills the true k lies in the range every fill agrees with, and on a 60-stock,
# one-year backtest (about 200 fills) the estimate is within 10% of it.
STATED_ERROR = 0.10


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    return generated_market(tmp_path_factory, "tca", stocks=60, start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31),
                            seed=3)


def config(market_dir, **overrides):
    return sim.load_config(overrides={"data.path": str(market_dir), **overrides})


@pytest.fixture(scope="module")
def runs(market_dir, tmp_path_factory):
    """k -> (the backtest's folder, its result), run once each."""
    made = {}

    def run(k: float):
        if k not in made:
            out = tmp_path_factory.mktemp(f"bt-{k}") / "out"
            cfg = config(market_dir, **{"broker.slippage.impact": k})
            made[k] = (out, sim.run_backtest(sim.open_market(cfg), cfg, out=out))
        return made[k]
    return run


@pytest.mark.parametrize("true_k", [0.6, 0.15])
def test_fills_made_with_a_known_k_give_it_back_within_the_stated_error(market_dir, runs, true_k):
    out, _ = runs(true_k)
    cfg = config(market_dir)                               # configured k 0.3: the estimate must not lean on it
    k = analyse(read_trades(out / "trades.csv"), sim.open_market(cfg), cfg).k
    assert k.n >= 150 and k.days >= 10
    assert k.consistent[0] <= true_k <= k.consistent[1]
    assert k.ci_low <= true_k <= k.ci_high
    assert abs(k.k - true_k) <= STATED_ERROR * true_k, (k.k, true_k)
    assert k.within_half_tick == 1.0 and k.noise == 0.0         # the model's own fills, to the tick
    assert k.configured_k == 0.3
    assert set(k.excluded) <= set(EXCLUSIONS) and k.excluded.get("cut_for_cash", 0) > 0
    if true_k < 0.3:
        # Most moves of a small k are under half a tick: read as exact prices, they pull k toward 0.
        assert k.k_ignoring_rounding < 0.7 * true_k


def test_an_order_reported_in_pieces_gives_the_same_k(market_dir, runs, tmp_path):
    """A broker reports an order as several fills at its price: each carries the whole order's impact."""
    out, _ = runs(0.6)
    trades = pd.read_csv(out / "trades.csv")
    fills = trades[trades["kind"] == "fill"]
    pieces = fills.loc[fills.index.repeat(4)].assign(qty=lambda f: f["qty"] / 4)
    pieces = pd.concat([pieces[pieces["qty"] == pieces["qty"].round()], trades[trades["kind"] != "fill"]])
    pieces.to_csv(tmp_path / "trades.csv", index=False)
    cfg = config(market_dir)
    whole = analyse(read_trades(out / "trades.csv"), sim.open_market(cfg), cfg).k
    split = analyse(read_trades(tmp_path / "trades.csv"), sim.open_market(cfg), cfg).k
    assert split.ci_low <= 0.6 <= split.ci_high and abs(split.k - 0.6) <= STATED_ERROR * 0.6, (split.k, whole.k)


def test_a_brokers_fills_that_agree_to_the_tick_still_get_the_likelihoods_interval():
    fills = synthetic_fills(0.3, 0.0, n=200, days=20)
    exact = estimate_k(fills, 0.3, exact=True)
    broker = estimate_k(fills, 0.3, exact=False)
    assert exact.consistent is not None and (exact.ci_low, exact.ci_high) == exact.consistent
    assert broker.ci_low <= exact.consistent[0] and broker.ci_high >= exact.consistent[1]


def test_the_default_configuration_reports_its_own_k_and_its_own_slippage(market_dir, runs):
    out, result = runs(0.3)
    cfg = config(market_dir)
    tca = analyse(read_trades(out / "trades.csv"), sim.open_market(cfg), cfg)
    k = tca.k
    assert k.ci_low <= 0.3 <= k.ci_high and abs(k.k - 0.3) <= STATED_ERROR * 0.3
    used = tca.fills[tca.fills["used_for_k"]]
    # The configured model predicts every fill it priced to the cent, and the slippage adds up to the run's.
    assert (used["price"] - used["predicted_price"]).abs().max() < 1e-6
    assert used["vs_predicted_bp"].abs().max() < 1e-6
    assert tca.summary["slippage_cny"] == pytest.approx(result.metrics["slippage"], abs=0.01)
    assert tca.summary["fills"] == int((result.trades["kind"] == "fill").sum())
    assert tca.summary["fees_cny"] == pytest.approx(result.metrics["charged_costs"], rel=1e-9)


def test_without_its_orders_file_a_trades_file_keeps_the_cash_cuts_and_still_gives_k(market_dir, runs, tmp_path):
    out, _ = runs(0.6)
    shutil.copy(out / "trades.csv", tmp_path / "trades.csv")
    cfg = config(market_dir)
    tca = analyse(read_trades(tmp_path / "trades.csv"), sim.open_market(cfg), cfg)
    assert "cut_for_cash" not in tca.k.excluded
    assert any("orders.csv" in n for n in tca.notes)
    # A cash cut is priced at the quantity before the cut: a tick off the model, which the fit reads as noise.
    assert tca.k.consistent is None and tca.k.noise > 0 and tca.k.within_half_tick < 1.0
    assert tca.k.ci_low <= 0.6 <= tca.k.ci_high and abs(tca.k.k - 0.6) <= STATED_ERROR * 0.6


def synthetic_fills(k: float, noise: float, n: int = 4000, days: int = 80, seed: int = 5) -> pd.DataFrame:
    """Fills of a broker whose own noise is `noise` daily sigmas, rounded to the tick like real prices."""
    rng = np.random.default_rng(seed)
    tick = 0.01
    deal = np.round(rng.uniform(4.0, 30.0, n), 2)
    sigma = rng.uniform(0.015, 0.04, n)
    participation = np.exp(rng.uniform(np.log(1e-3), np.log(0.1), n))
    x = sigma * np.sqrt(participation)
    y = np.floor(k * deal * x / tick + noise * deal * sigma / tick * rng.standard_normal(n) + 0.5)
    start = dt.date(2021, 1, 4)
    return pd.DataFrame({"date": [start + dt.timedelta(days=int(d)) for d in rng.integers(0, days, n)],
                         "used_for_k": True, "excluded": "", "sigma": sigma, "impact_x": x,
                         "impact_ticks": deal * x / tick, "slippage_ticks": y})


@pytest.mark.parametrize("true_k,noise", [(0.3, 0.1), (0.15, 0.02)])
def test_fills_with_noise_of_their_own_give_k_and_the_noise_back(true_k, noise):
    k = estimate_k(synthetic_fills(true_k, noise), configured_k=0.3)
    assert k.consistent is None
    assert k.ci_low <= true_k <= k.ci_high
    assert abs(k.k - true_k) <= STATED_ERROR * true_k
    assert k.noise == pytest.approx(noise, rel=0.15)
    assert 0 < k.ci_high - k.ci_low < 0.5 * true_k
    if noise < 0.05:        # noise under a tick does not dither the rounding: the exact-price fit is off
        assert abs(k.k_ignoring_rounding - true_k) > 3 * abs(k.k - true_k)


def test_no_usable_fill_gives_no_estimate():
    fills = synthetic_fills(0.3, 0.1, n=5).assign(used_for_k=False, excluded="zero_sigma")
    k = estimate_k(fills, configured_k=0.3)
    assert k.k is None and k.ci_low is None and k.n == 0 and k.excluded == {"zero_sigma": 5}


# ----- prices of one fill, on a market made by hand ---------------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    closes = [10.0 + 0.1 * ((i * 7) % 5) - 0.05 * i for i in range(30)]
    b = MarketBuilder(start="2021-01-04", days=30)
    b.stock("600000.SH", close=closes, volume=1_000_000, adj_factor=[1.0] * 25 + [1.1] * 5)
    b.bar("600000.SH", 25, open=8.8, high=9.05, low=8.6, close=9.0, amount=8_950_000.0)
    b.bar("600000.SH", 26, open=9.0, high=9.3, low=8.9, close=9.1)
    b.suspend("600000.SH", 27)
    return b, b.build()


def fills_of(rows: list[tuple], cuts=None) -> Fills:
    table = pd.DataFrame(rows, columns=["date", "symbol", "side", "qty", "price"])
    table["date"] = [dt.date.fromisoformat(d) for d in table["date"]]
    for c in ("commission", "stamp_duty", "transfer_fee"):
        table[c] = 0.0
    return Fills(table, "test", "test", cuts)


def test_one_fill_is_measured_against_the_prices_the_model_uses(small):
    b, market = small
    cfg = sim.load_config()
    qty = 20_000
    t, sid = 25, 0
    got = price_fills(fills_of([(b.day(t), "600000.SH", "buy", qty, 9.0)]), market, cfg.broker).iloc[0]
    close = np.array([float(market.close[i, sid]) for i in range(30)])
    adj = np.array([1.0] * 25 + [1.1] * 5)
    # The decision price is the close before on the ex-date's basis (the exchange's reference price), not it.
    assert got["decision_price"] == round_to_tick(close[t - 1] / 1.1, 0.01) != round_to_tick(close[t - 1], 0.01)
    assert got["arrival_price"] == 8.8 and got["vwap"] == pytest.approx(8.95)
    assert got["deal_price"] == 8.95
    sigma = float(np.std(np.diff(np.log(close[t - 21:t] * adj[t - 21:t])), ddof=1))
    assert got["sigma"] == pytest.approx(sigma, rel=1e-5)
    assert got["participation"] == pytest.approx(qty / 1_000_000)
    move = 0.3 * sigma * math.sqrt(qty / 1_000_000)
    assert got["predicted_price"] == round_to_tick(8.95 * (1 + move), 0.01)
    assert got["impact_ticks"] == pytest.approx(8.95 * sigma * math.sqrt(0.02) / 0.01, rel=1e-5)
    assert got["slippage_ticks"] == pytest.approx(5.0)
    assert got["is_decision_bp"] == pytest.approx((9.0 / got["decision_price"] - 1) * 1e4)
    assert got["slippage_bp"] == pytest.approx((9.0 / 8.95 - 1) * 1e4)
    assert got["participation_bucket"] == "1-2.5%" and got["used_for_k"] and got["excluded"] == ""
    sold = price_fills(fills_of([(b.day(t), "600000.SH", "sell", qty, 8.9)]), market, cfg.broker).iloc[0]
    assert sold["slippage_bp"] == pytest.approx((1 - 8.9 / 8.95) * 1e4) and sold["slippage_ticks"] == pytest.approx(5)


def test_fills_the_model_cannot_speak_for_are_left_out_and_say_why(small):
    b, market = small
    cfg = sim.load_config()
    rows = [(b.day(26), "600000.SH", "buy", 1000, 9.3),          # at the day's high
            (b.day(26), "600000.SH", "sell", 1000, 8.9),         # at the day's low
            (b.day(27), "600000.SH", "sell", 1000, 9.1),         # suspended
            (b.day(1), "600000.SH", "buy", 1000, 10.0),          # no volatility yet
            (b.day(26), "000001.SZ", "buy", 1000, 9.1),          # not in the market
            ("2021-01-09", "600000.SH", "buy", 1000, 9.1),        # a Saturday
            (b.day(25), "600000.SH", "buy", 1000, 9.0)]          # cut to the cash
    cuts = {(dt.date.fromisoformat(b.day(25)), "600000.SH", "buy", 1000)}
    got = price_fills(fills_of(rows, cuts), market, cfg.broker)
    assert got["excluded"].tolist() == ["at_bound", "at_bound", "no_bar", "zero_sigma", "not_in_market",
                                        "not_in_market", "cut_for_cash"]
    assert not got["used_for_k"].any()
    assert got["decision_price"].iloc[2] > 0 and math.isnan(got["deal_price"].iloc[2])


def test_aggregates_weight_by_notional_and_list_every_bucket():
    f = pd.DataFrame({"date": [dt.date(2021, 1, 4)] * 3, "symbol": ["a", "a", "b"], "side": ["buy", "sell", "buy"],
                      "qty": [100, 300, 100], "price": [10.0, 10.0, 20.0], "notional": [1000.0, 3000.0, 2000.0],
                      "deal_price": [9.99, 10.01, 20.0], "decision_price": [9.9, 10.2, 19.0],
                      "participation": [0.005, 0.03, 0.2], "fees_bp": [3.0, 13.0, 3.0]})
    for col in ("is_decision_bp", "is_arrival_bp", "is_vwap_bp", "predicted_slippage_bp", "vs_predicted_bp"):
        f[col] = [1.0, 2.0, np.nan]
    f["slippage_bp"] = [10.0, 10.0, 0.0]
    f["participation_bucket"] = ["<1%", "2.5-5%", ">=10%"]
    by_side = aggregate(f, "side", ["buy", "sell"]).set_index("side")
    assert by_side.loc["buy", "notional"] == 3000.0 and by_side.loc["buy", "fills"] == 2
    assert by_side.loc["buy", "slippage_bp"] == pytest.approx((10 * 1000 + 0 * 2000) / 3000)
    assert by_side.loc["buy", "is_decision_bp"] == 1.0                   # the unknown one is left out
    assert by_side.loc["buy", "slippage_cny"] == pytest.approx(0.01 * 100)
    assert by_side.loc["sell", "slippage_cny"] == pytest.approx(0.01 * 300)
    assert by_side.loc["sell", "shortfall_cny"] == pytest.approx(0.2 * 300)
    buckets = aggregate(f, "participation_bucket", [b for b, _, _ in PARTICIPATION_BUCKETS])
    assert buckets["participation_bucket"].tolist() == ["<1%", "1-2.5%", "2.5-5%", "5-10%", ">=10%"]
    assert buckets["fills"].tolist() == [1, 0, 1, 0, 1] and math.isnan(buckets["notional"].iloc[1])


def test_the_trades_columns_are_the_ones_a_backtest_writes():
    assert list(TRADES_COLUMNS) == list(ENGINE_TRADE_COLUMNS)


# ----- paper accounts and bad input -------------------------------------------------------------------------------
def test_a_paper_accounts_fills_are_read_without_changing_it_and_give_the_configured_k(market_dir, tmp_path):
    cfg = config(market_dir)
    market = sim.open_market(cfg)
    db = tmp_path / "acct.db"
    acct = PaperAccount(db, cfg, market)
    days = [d for d in market.dates.astype("datetime64[D]").astype(object) if d >= dt.date(2020, 7, 1)][:3]
    acct.plan(days[0])
    with pytest.raises(UserError, match=f"--account {re.escape(str(db))}: no fills yet.*paper execute --account"):
        read_account(db)
    for day in days:
        acct.plan(day)
        acct.execute(day)
    before = db.read_bytes()
    tca = analyse(read_account(db), market, cfg)
    assert db.read_bytes() == before
    assert tca.source == f"paper account {db}" and tca.summary["fills"] >= 10
    assert tca.k.consistent[0] <= 0.3 <= tca.k.consistent[1]
    used = tca.fills[tca.fills["used_for_k"]]
    assert (used["price"] - used["predicted_price"]).abs().max() < 1e-6


@pytest.mark.parametrize("content,message", [
    (None, "no such file; give a backtest's trades.csv"),
    ("", "an empty file, not a trades CSV"),
    ("date,symbol,side,qty,price\n2020-01-02,000001.SZ,buy,100,10\n",
     r"not a trades CSV \(missing column\(s\) commission, stamp_duty, transfer_fee, slippage, kind, participation\)"),
    (",".join(TRADES_COLUMNS) + "\n2020-01-02,000001.SZ,sell,100,10,0,0,0,0,delist,\n",
     "no fills in it \\(no row of kind 'fill'\\)"),
    (",".join(TRADES_COLUMNS) + "\n2020-01-02,000001.SZ,hold,100,10,0,0,0,0,fill,\n",
     "row 2: side 'hold' is neither buy nor sell"),
    (",".join(TRADES_COLUMNS) + "\n2020-13-02,000001.SZ,buy,100,10,0,0,0,0,fill,\n",
     "row 2: date '2020-13-02' is not a date"),
    (",".join(TRADES_COLUMNS) + "\n2020-01-02,000001.SZ,buy,-5,10,0,0,0,0,fill,\n",
     "row 2: qty '-5' is not a whole number of shares above 0"),
    (",".join(TRADES_COLUMNS) + "\n2020-01-02,000001.SZ,buy,1e400,10,0,0,0,0,fill,\n",
     "row 2: qty '1e400' is not a whole number of shares above 0"),
    (",".join(TRADES_COLUMNS) + "\n2020-01-02,000001.SZ,buy,100,inf,0,0,0,0,fill,\n",
     "row 2: price 'inf' is not a price above 0"),
    (",".join(TRADES_COLUMNS) + "\n2020-01-02,000001.SZ,buy,100,10,abc,0,0,0,fill,\n",
     "row 2: commission 'abc' is not a fee"),
    (",".join(TRADES_COLUMNS) + "\n2020-01-02,000001.SZ,buy,100,10,5,-1e9,0,0,fill,\n",
     "row 2: stamp_duty '-1e9' is not a fee"),
])
def test_a_file_that_is_not_a_trades_csv_is_refused_naming_it_and_the_fix(tmp_path, content, message):
    path = tmp_path / "trades.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=f"--trades {re.escape(str(path))}.*{message}"):
        read_trades(path)


def test_a_folder_or_a_missing_account_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "trades.csv").write_text(",".join(TRADES_COLUMNS) + "\n" * 200)
    with pytest.raises(UserError, match="is a directory; .*did you mean .*run/trades.csv"):
        read_trades(tmp_path / "run")
    with pytest.raises(UserError, match="--account .*: no such paper account"):
        read_account(tmp_path / "none.db")
    with pytest.raises(UserError, match="--account .*: not a paper account"):
        read_account(tmp_path / "run" / "trades.csv")


def test_fills_of_another_market_are_refused(market_dir, tmp_path):
    path = tmp_path / "trades.csv"
    path.write_text(",".join(TRADES_COLUMNS) + "\n1999-01-04,000001.SZ,buy,100,10,0,0,0,0,fill,\n")
    cfg = config(market_dir)
    with pytest.raises(UserError, match=f"--trades {re.escape(str(path))}: none of its 1 fill.*give the config"):
        analyse(read_trades(path), sim.open_market(cfg), cfg)
