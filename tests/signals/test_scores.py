"""Scores files (qlib's pred.pkl, CSV, Parquet) and qlib's TopkDropout, worked by hand and run end to end."""
import datetime as dt
import sqlite3

import numpy as np
import pandas as pd
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.config import load_config
from ashare_sim.data.market import load_market
from ashare_sim.signals.scores import read_scores_file, topk_dropout

from tests.conftest import generated_market

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")


# ----- the rule, by hand --------------------------------------------------------------------------------
def test_the_lowest_held_name_gives_way_to_the_best_unheld_one():
    scores = pd.Series({"A": 0.9, "B": 0.5, "C": 0.1, "D": 0.8, "E": 0.3})
    got = topk_dropout(scores, ["A", "B", "C"], {"A": 5, "B": 5, "C": 5}, topk=3, n_drop=1)
    # held by score: A .9, B .5, C .1; best unheld: D .8; together A D B C: the lowest held (C) goes, D comes
    assert (got.keep, got.sell, got.buy) == (["A", "B"], ["C"], ["D"])


def test_a_held_name_is_not_sold_for_a_worse_one():
    scores = pd.Series({"A": 0.9, "B": 0.5, "C": 0.1, "D": 0.05, "E": 0.3})
    got = topk_dropout(scores, ["A", "B", "C"], {"A": 5, "B": 5, "C": 5}, topk=3, n_drop=2)
    # candidates E .3, D .05; together A B E C D: the two lowest are C and D; only C is held: one swap, C -> E
    assert (got.sell, got.buy) == (["C"], ["E"])


def test_an_unscored_held_name_goes_first_and_the_book_fills_to_topk():
    scores = pd.Series({"A": 0.9, "D": 0.8, "E": 0.3, "F": 0.2})
    got = topk_dropout(scores, ["A", "X"], {"A": 5, "X": 5}, topk=3, n_drop=1)
    # held A .9, X (no score: last); candidates: 1 + 3 - 2 = 2 best unheld: D, E; X is the lowest: sold
    assert (got.sell, got.buy) == (["X"], ["D", "E"])


def test_hold_thresh_keeps_a_young_name_and_buys_are_counted_before_it_as_qlib_does():
    scores = pd.Series({"A": 0.9, "B": 0.5, "C": 0.1, "D": 0.8})
    got = topk_dropout(scores, ["A", "B", "C"], {"A": 5, "B": 5, "C": 1}, topk=3, n_drop=1, hold_thresh=2)
    assert (got.keep, got.sell, got.buy) == (["A", "B", "C"], [], ["D"])       # four names until C may go
    empty = topk_dropout(scores, [], {}, topk=2, n_drop=1)
    assert (empty.sell, empty.buy) == ([], ["A", "D"])                         # the first day: the top k


# ----- the file ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    return generated_market(tmp_path_factory, "scores", stocks=40, start=dt.date(2020, 1, 1), end=dt.date(2020, 8, 31), seed=5)


def qlib_pred(market, first="2020-03-02", seed=1) -> pd.DataFrame:
    """qlib's layout: MultiIndex (datetime, instrument) with instruments as SH600000, column score."""
    rng = np.random.default_rng(seed)
    days = [market.date_at(i) for i in range(market.n_days) if market.date_at(i) >= dt.date.fromisoformat(first)]
    idx = pd.MultiIndex.from_product([pd.DatetimeIndex(days), [s[-2:] + s[:6] for s in market.symbols]],
                                     names=["datetime", "instrument"])
    return pd.DataFrame({"score": rng.normal(size=len(idx))}, index=idx)


def test_pred_pkl_csv_and_parquet_read_alike(market_dir, tmp_path):
    m = load_market(market_dir)
    pred = qlib_pred(m)
    pred.to_pickle(tmp_path / "pred.pkl")
    pred.reset_index().rename(columns={"datetime": "date", "instrument": "symbol"}).to_csv(tmp_path / "s.csv", index=False)
    pred.reset_index().to_parquet(tmp_path / "s.parquet")
    a, b, c = (read_scores_file(tmp_path / n, m) for n in ("pred.pkl", "s.csv", "s.parquet"))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    assert a["symbol"].str.match(r"^\d{6}\.(SH|SZ|BJ)$").all() and len(a) == len(pred)


BAD_FILES = [   # (file name, text with {s} for a symbol of the market, the message)
    ("a.csv", "date,symbol,value\n2020-03-02,600000.SH,1\n", "no score column"),
    ("b.csv", "date,symbol,score\n2020-03-01,{s},1\n", "2020-03-01 is not a trading day"),
    ("c.csv", "date,symbol,score\n2020-03-02,{s},1\n2020-03-02,{s},2\n", "has two scores on 2020-03-02"),
    ("d.csv", "date,symbol,score\nyesterday,600000.SH,1\n", "row 1: date 'yesterday' is not a date"),
    ("inf.csv", "date,symbol,score\n2020-03-02,{s},inf\n", "row 1: score inf is infinite"),
    ("text.csv", "date,symbol,score\n2020-03-02,{s},high\n", "the score column holds no numbers"),
    ("s.json", "{{}}", "a .json file; give qlib's pred.pkl, a .csv or a .parquet"),
]


@pytest.mark.parametrize("name, text, message", BAD_FILES)
def test_a_bad_scores_file_is_refused_with_the_row_or_the_fix(market_dir, tmp_path, name, text, message):
    m = load_market(market_dir)
    (tmp_path / name).write_text(text.format(s=m.symbols[0]))
    with pytest.raises(UserError, match=message):
        read_scores_file(tmp_path / name, m)


def test_a_missing_or_wide_file_gets_one_short_message_and_early_dates_are_left_out(market_dir, tmp_path):
    m = load_market(market_dir)
    with pytest.raises(UserError, match="no such file"):
        read_scores_file(tmp_path / "none.pkl", m)
    wide = pd.DataFrame({f"col{i}" * 30: [1] for i in range(50)})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    with pytest.raises(UserError) as err:
        read_scores_file(tmp_path / "wide.csv", m)
    assert len(str(err.value)) < 600 and "..." in str(err.value)
    (tmp_path / "early.csv").write_text(f"date,symbol,score\n2018-06-01,{m.symbols[0]},1\n2020-03-02,{m.symbols[0]},1\n")
    assert len(read_scores_file(tmp_path / "early.csv", m)) == 1          # before the data: left out, warned


# ----- end to end ----------------------------------------------------------------------------------------
def cfg(market_dir, pred, *sets):
    return load_config(None, [f"data.path={market_dir}", f"strategy.scores.file={pred}", "strategy.top_n=5",
                              "output.report=false", "backtest.benchmark=none", *sets])


def test_scores_trade_the_day_after_their_date_and_top_n_equals_the_same_lists_as_a_file(market_dir, tmp_path):
    from ashare_sim.backtest.run import run_backtest
    m = load_market(market_dir)
    qlib_pred(m).to_pickle(tmp_path / "pred.pkl")
    r = run_backtest(m, cfg(market_dir, tmp_path / "pred.pkl", "strategy.scores.rule=top_n"), None)
    assert r.metrics["start"] == "2020-03-03"                     # scores of 03-02 trade on 03-03
    first = r.orders[r.orders["date"] == r.orders["date"].min()]
    assert str(pd.Timestamp(first["date"].iloc[0]).date()) == "2020-03-03"
    lists = tmp_path / "lists.csv"
    r.targets[["rebalance_date", "symbol", "weight"]].assign(
        rebalance_date=lambda d: pd.to_datetime(d["rebalance_date"]).dt.strftime("%Y-%m-%d")).to_csv(lists, index=False)
    same = run_backtest(m, load_config(None, [f"data.path={market_dir}", f"strategy.targets_file={lists}",
                                              "strategy.top_n=5", "output.report=false", "backtest.benchmark=none"]),
                        None)
    pd.testing.assert_frame_equal(r.trades, same.trades)


def test_topk_dropout_swaps_at_most_n_drop_names_a_day_and_never_resizes_the_rest(market_dir, tmp_path):
    from ashare_sim.backtest.run import run_backtest
    m = load_market(market_dir)
    qlib_pred(m).to_pickle(tmp_path / "pred.pkl")
    r = run_backtest(m, cfg(market_dir, tmp_path / "pred.pkl", "strategy.scores.n_drop=1"), None)
    assert r.metrics["targets_source"]["rule"] == "topk_dropout"
    orders = r.orders.assign(date=pd.to_datetime(r.orders["date"]))
    fresh = orders[(orders["attempt"] == 0) & (orders["date"] > orders["date"].min())]
    per_day = fresh.groupby(["date", "side"]).size().unstack(fill_value=0)
    assert (per_day["sell"] <= 1).all() and per_day["sell"].sum() > 10        # one swap a day at most
    hold = r.holdings.assign(date=pd.to_datetime(r.holdings["date"])).set_index(["date", "symbol"])["qty"]
    days = sorted(hold.index.get_level_values(0).unique())
    for _, o in fresh.iterrows():                      # kept names are never trimmed or topped up
        before = days[days.index(o["date"]) - 1]
        held = hold.get((before, o["symbol"]), 0)
        assert (o["side"] == "sell" and o["requested_qty"] == held) or (o["side"] == "buy" and held == 0), o
    days = r.targets.groupby("rebalance_date").size()
    assert days.max() <= 6 and days.iloc[-1] >= 4              # about top_n names, one more while a sale waits


@pytest.mark.parametrize("rule", ["topk_dropout", "top_n"])
def test_a_paper_run_on_scores_equals_its_backtest(market_dir, tmp_path, rule):
    from ashare_sim.backtest.run import run_backtest
    from ashare_sim.paper.ledger import Ledger
    from ashare_sim.paper.session import execute_day, plan_day
    m = load_market(market_dir)
    qlib_pred(m, first="2020-05-29").to_pickle(tmp_path / "pred.pkl")
    c = cfg(market_dir, tmp_path / "pred.pkl", "strategy.scores.n_drop=2", "backtest.start=2020-06-01",
            f"strategy.scores.rule={rule}")
    db = tmp_path / "a.db"
    for i in range(m.index_of(dt.date(2020, 6, 1)), m.n_days):
        with Ledger.open(db, create=True) as led:
            plan_day(led, m, c, m.date_at(i))
        with Ledger.open(db) as led:
            execute_day(led, m, c, m.date_at(i))
    bt = run_backtest(m, c, None)
    cols = ["date", "symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee", "slippage"]
    ours = pd.read_sql("SELECT * FROM fills ORDER BY id", sqlite3.connect(db))[cols]
    theirs = bt.trades[cols].assign(date=bt.trades["date"].astype(str))
    assert len(ours) > 20
    pd.testing.assert_frame_equal(ours.round(6), theirs.round(6).reset_index(drop=True), check_dtype=False)
