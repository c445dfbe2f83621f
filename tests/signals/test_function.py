"""A user's rebalance function: the point-in-time view, the lists it gives, its errors, its schedules."""
import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.config import load_config
from ashare_sim.data.market import load_market
from ashare_sim.signals.function import StrategyCodeError, function_targets, load_function
from ashare_sim.signals.view import BAR_FIELDS, DERIVED_FIELDS

from tests.conftest import generated_market

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
SMALL = ["strategy.top_n=8", "output.report=false", "strategy.factors.ic_min_periods=4",
         "strategy.factors.ic_window=6"]


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    return generated_market(tmp_path_factory, "fn_market", stocks=60, start=dt.date(2019, 1, 1), end=dt.date(2020, 6, 30), seed=3)


def cfg(market_dir, *sets):
    return load_config(None, [f"data.path={market_dir}", *SMALL, *sets])


def perturbed_copy(src, dst, after: dt.date, seed=0):
    """The same market with every row dated after `after` changed: prices, volumes, shares, fundamentals
    announced later, dividends paid later, ST spells begun later, delistings later."""
    shutil.copytree(src, dst)
    rng = np.random.default_rng(seed)
    cut = pd.Timestamp(after)
    bars = pd.read_parquet(dst / "bars.parquet")
    later = pd.to_datetime(bars["date"]) > cut
    k = rng.uniform(0.5, 1.5, later.sum())
    for c in ("open", "high", "low", "close"):
        bars.loc[later, c] = (bars.loc[later, c] * k).round(2)
    first_after = later & ~later.groupby(bars["symbol"]).shift(1, fill_value=False)
    rest = later & ~first_after                        # the first day's pre_close is the known close
    bars.loc[rest, "pre_close"] = (bars.loc[rest, "pre_close"] * k[rest[later].to_numpy()]).round(2)
    for c in ("volume", "amount", "total_shares", "float_shares"):
        bars.loc[later, c] = bars.loc[later, c] * rng.uniform(0.2, 3.0, later.sum())
    # one stock delisted later: its bars stop, the instruments table says when
    listed = bars.loc[later, "symbol"].unique()
    victim, gone_on = sorted(listed)[0], bars.loc[later, "date"].sort_values().unique()[40]
    bars = bars[~((bars["symbol"] == victim) & (pd.to_datetime(bars["date"]) > pd.Timestamp(gone_on)))]
    bars.to_parquet(dst / "bars.parquet", index=False)
    f = pd.read_parquet(dst / "fundamentals.parquet")
    late = pd.to_datetime(f["ann_date"]) >= cut                   # announced on the signal day: after its close
    for c in ("total_equity", "net_profit", "revenue"):
        f.loc[late, c] = -f.loc[late, c] * 3
    f.to_parquet(dst / "fundamentals.parquet", index=False)
    d = pd.read_parquet(dst / "dividends.parquet")
    d.loc[pd.to_datetime(d["ex_date"]) > cut, "cash_per_share"] *= 4
    d.to_parquet(dst / "dividends.parquet", index=False)
    inst = pd.read_parquet(dst / "instruments.parquet")
    inst.loc[inst["symbol"] == victim, "delist_date"] = pd.Timestamp(gone_on)
    inst.to_parquet(dst / "instruments.parquet", index=False)
    st = pd.read_parquet(dst / "st.parquet")
    st = st[pd.to_datetime(st["start_date"]) <= cut]
    st.to_parquet(dst / "st.parquet", index=False)
    return dst


SEEN: dict = {}


def peek(view):
    """Reads everything a view offers, keeps it, and returns a list that depends on all of it."""
    got = {f: view.bars(f) for f in BAR_FIELDS + DERIVED_FIELDS}
    got.update(close=view.close, instruments=view.instruments(), st=view.st(), fundamentals=view.fundamentals(),
               pool=pd.Series(view.pool()), factors=view.factors(), scores=view.scores())
    SEEN.setdefault(view.rebalance_date, []).append(got)
    score = got["close"].rank() + got["volume"].iloc[-1].rank() + got["st"].astype(float)
    score = score.add(got["scores"], fill_value=0).dropna()
    return score.nlargest(5).pipe(lambda s: pd.Series(0.2, index=s.index))


def test_changing_every_row_after_a_signal_day_leaves_that_days_list_and_view_unchanged(market_dir, tmp_path):
    """The view is cut at the signal close: a function reading everything it offers gets the same data,
    and returns the same list, whatever happens later."""
    market = load_market(market_dir)
    signal_day = dt.date(2019, 10, 31)                 # the close before the 2019-11-01 rebalance
    other = load_market(perturbed_copy(market_dir, tmp_path / "later", signal_day))
    c = cfg(market_dir, "strategy.function=x.py:f")
    SEEN.clear()
    a, _ = function_targets(market, c, peek)
    b, _ = function_targets(other, c, peek)
    upto = pd.Timestamp("2019-11-01")
    pd.testing.assert_frame_equal(a[a["rebalance_date"] <= upto].reset_index(drop=True),
                                  b[b["rebalance_date"] <= upto].reset_index(drop=True))
    assert not a[a["rebalance_date"] > upto].equals(b[b["rebalance_date"] > upto].reset_index(drop=True))
    checked = 0
    for day, (x, y) in SEEN.items():
        if day <= upto.date():
            for key in x:
                if isinstance(x[key], pd.DataFrame):
                    pd.testing.assert_frame_equal(x[key], y[key], obj=f"{key} on {day}")
                else:
                    pd.testing.assert_series_equal(x[key], y[key], obj=f"{key} on {day}")
                checked += 1
    assert checked > 100
    last = SEEN[dt.date(2019, 11, 1)][0]
    assert last["open"].index[-1] == pd.Timestamp(signal_day)            # the view ends at the signal close


def test_the_built_in_top_n_written_as_a_function_gives_the_same_orders_and_equity(market_dir, tmp_path):
    from ashare_sim.backtest.run import run_backtest
    market = load_market(market_dir)
    builtin = run_backtest(market, cfg(market_dir), None)
    (tmp_path / "mine.py").write_text("def top(view):\n    return view.scores().to_frame()\n")
    mine = run_backtest(market, cfg(market_dir, f"strategy.function={tmp_path / 'mine.py'}:top"), None)
    pd.testing.assert_frame_equal(builtin.targets, mine.targets)
    pd.testing.assert_frame_equal(builtin.orders, mine.orders)
    pd.testing.assert_frame_equal(builtin.equity, mine.equity)
    assert mine.metrics["targets_source"]["kind"] == "function"
    assert mine.metrics["final_value"] == builtin.metrics["final_value"]


def test_weights_trade_at_the_next_open_under_the_same_rules(market_dir):
    from ashare_sim.backtest.run import run_backtest
    market = load_market(market_dir)

    def two(view):
        return {view.pool()[0]: 0.5, view.pool()[1]: 0.25}
    r = run_backtest(market, cfg(market_dir, "backtest.start=2019-06-01", "backtest.end=2019-08-30"), None,
                     function=two)
    assert set(r.targets["weight"]) == {0.5, 0.25}
    assert (pd.to_datetime(r.targets["rebalance_date"]).dt.day <= 3).all()      # monthly: the month's first day
    assert r.metrics["targets_source"]["name"].endswith("two")
    held = r.holdings.groupby("date")["value"].sum() / r.equity.set_index("date")["value"]
    assert 0.5 < held.max() <= 0.8                    # three quarters in two names, the rest in cash
    assert (r.holdings["qty"] % 100 == 0).all() or r.holdings["symbol"].str.startswith("688").any()


@pytest.mark.parametrize("returned, message", [
    (None, "returned None; return weights"),
    ([("600000.SH", 1)], "returned list"),
    ({"999999.SH": 0.1}, "'999999.SH' is not a stock of the market"),
    ({"POOL0": -0.1}, "weight -0.1 for"),
    ({"POOL0": 0.7, "POOL1": 0.6}, "weights sum to 1.3, more than the whole book"),
    ({"POOL0": float("nan")}, "weight nan for"),
    (pd.DataFrame({"symbol": ["POOL0"], "x": [1]}), "neither a weight nor a score column"),
    (pd.DataFrame({"symbol": ["POOL0"], "weight": [0.5], "score": [1.0]}), "both a weight and a score column"),
    ({"POOL0": True}, "weight True for .* is not a number"),
    ({"POOL0": "0.5"}, "weight '0.5' for .* is not a number"),
])
def test_a_bad_return_is_refused_with_the_date_the_symbol_and_the_fix(market_dir, returned, message):
    market = load_market(market_dir)

    def fn(view):
        pool = view.pool()
        if isinstance(returned, dict):
            return {pool[int(k[4:])] if k.startswith("POOL") else k: v for k, v in returned.items()}
        if isinstance(returned, pd.DataFrame):
            return returned.assign(symbol=pool[0])
        return returned
    with pytest.raises(UserError, match="on the rebalance of 2019-07-01: .*" + message.replace("(", r"\(")):
        function_targets(market, cfg(market_dir, "backtest.start=2019-07-01", "backtest.end=2019-07-31"), fn)


def test_a_symbol_not_listed_at_the_close_is_refused(market_dir):
    market = load_market(market_dir)
    inst = market.instruments
    late = inst.loc[pd.to_datetime(inst["list_date"]) > pd.Timestamp("2019-08-01"), "symbol"]
    assert len(late)

    def fn(view):
        return {late.iloc[0]: 0.1}
    with pytest.raises(UserError, match=f"{late.iloc[0]} is not listed at the close of 2019-06-28"):
        function_targets(market, cfg(market_dir, "backtest.start=2019-07-01", "backtest.end=2019-07-31"), fn)


def test_any_spelling_of_a_symbol_is_read(market_dir):
    market = load_market(market_dir)

    def fn(view):
        code, ex = view.pool()[0].split(".")
        return {f"{ex.lower()}{code}": 1.0}
    t, _ = function_targets(market, cfg(market_dir, "backtest.start=2019-07-01", "backtest.end=2019-07-31"), fn)
    assert t["symbol"].str.match(r"^\d{6}\.(SH|SZ|BJ)$").all() and t["weight"].tolist() == [1.0]


def test_an_exception_in_user_code_shows_its_traceback_and_the_rebalance_date(market_dir, tmp_path, capsys):
    from ashare_sim.cli.main import main
    (tmp_path / "buggy.py").write_text("def strategy(view):\n    ratio = 1 / 0\n    return {}\n")
    with pytest.raises(StrategyCodeError) as err:
        function_targets(load_market(market_dir), cfg(market_dir, f"strategy.function={tmp_path}/buggy.py:strategy"),
                         load_function(f"{tmp_path}/buggy.py:strategy"))
    text = str(err.value)
    assert "on the rebalance of 2019-02-01" in text and 'buggy.py", line 2, in strategy' in text
    assert "ZeroDivisionError: division by zero" in text and "ashare_sim/signals" not in text
    code = main(["backtest", "-q", "--set", f"data.path={market_dir}", "--set", f"strategy.function={tmp_path}/buggy.py:strategy",
                 "--out", str(tmp_path / "out")])
    assert code == 2 and "ratio = 1 / 0" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_loading_names_the_file_the_function_and_the_closest_name(tmp_path):
    (tmp_path / "s.py").write_text("def monthly_top(view):\n    return {}\n")
    with pytest.raises(UserError, match="no such file"):
        load_function(f"{tmp_path}/nope.py:f")
    with pytest.raises(UserError, match="has no function 'monthly_tops' \\(did you mean 'monthly_top'\\?\\)"):
        load_function(f"{tmp_path}/s.py:monthly_tops")
    with pytest.raises(UserError, match="write it as path/to/file.py:function"):
        load_function(f"{tmp_path}/s.py")
    with pytest.raises(UserError, match="no module named 'no_such_pkg.mod' on the Python path"):
        load_function("no_such_pkg.mod:f")
    assert load_function("json:dumps").name == "json:dumps"
    (tmp_path / "broken.py").write_text("import no_such_thing_here\n")
    with pytest.raises(StrategyCodeError, match="No module named 'no_such_thing_here'"):
        load_function(f"{tmp_path}/broken.py:f")


def test_schedules_weekly_daily_and_given_days(market_dir):
    market = load_market(market_dir)
    window = ["backtest.start=2019-07-01", "backtest.end=2019-07-31"]
    calls = []

    def fn(view):
        calls.append((view.date, view.rebalance_date))
        return {}
    for sets, days in ((["strategy.rebalance=weekly"], 5), (["strategy.rebalance=daily"], 23),
                       (["strategy.rebalance_dates=[2019-07-03, 2019-07-17]"], 2)):
        calls.clear()
        function_targets(market, cfg(market_dir, "strategy.function=x.py:f", *sets, *window), fn)
        inside = [c for c in calls if c[1] <= dt.date(2019, 7, 31)]
        assert len(inside) == days, (sets, inside)
        assert all(market.index_of(r) - market.index_of(d) == 1 for d, r in inside)   # the close before
    with pytest.raises(UserError, match="not trading days of the market: 2019-07-06"):
        function_targets(market, cfg(market_dir, "strategy.function=x.py:f",
                                     "strategy.rebalance_dates=[2019-07-06]", *window), fn)


def test_the_config_keeps_one_source_of_lists_and_resolves_the_file_beside_it(tmp_path):
    from ashare_sim.common.errors import ConfigError
    with pytest.raises(ConfigError, match="strategy.function.: is set beside strategy.targets_file"):
        load_config(None, ["strategy.function=a.py:f", "strategy.targets_file=t.csv"])
    with pytest.raises(ConfigError, match="strategy.rebalance'.*applies to a rebalance function"):
        load_config(None, ["strategy.rebalance=weekly", "strategy.targets_file=t.csv"])
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "c.yaml").write_text("strategy:\n  function: mine.py:top\n")
    assert load_config(tmp_path / "conf" / "c.yaml").strategy.function == f"{tmp_path / 'conf' / 'mine.py'}:top"
    (tmp_path / "conf" / "m.yaml").write_text("strategy:\n  function: my_pkg.strategies:top\n")
    assert load_config(tmp_path / "conf" / "m.yaml").strategy.function == "my_pkg.strategies:top"


def test_a_python_callable_takes_any_schedule_and_the_pipeline_refuses_one(market_dir):
    from ashare_sim.backtest.run import run_backtest
    market = load_market(market_dir)
    c = cfg(market_dir, "strategy.rebalance=weekly", "backtest.start=2019-07-01", "backtest.end=2019-07-31")
    r = run_backtest(market, c, None, function=lambda view: {view.pool()[0]: 0.5})
    assert r.targets["rebalance_date"].nunique() == 5
    assert r.metrics["targets_source"]["name"] == "test_a_python_callable_takes_any_schedule_and_the_pipeline_refuses_one.<locals>.<lambda>"
    assert r.metrics["targets_source"]["file"].endswith("test_function.py") and len(r.metrics["targets_source"]["sha256"]) == 16
    with pytest.raises(UserError, match="strategy.rebalance: applies to a rebalance function"):
        run_backtest(market, c, None)
    with pytest.raises(UserError, match="function= and strategy.function .* are both given"):
        run_backtest(market, cfg(market_dir, "strategy.function=x.py:f"), None, function=lambda view: {})


def test_a_schedule_that_never_calls_the_function_is_an_error(market_dir):
    market = load_market(market_dir)
    with pytest.raises(UserError, match="has no rebalance day inside the run's window"):
        function_targets(market, cfg(market_dir, "strategy.rebalance_dates=[2019-03-01]", "backtest.start=2019-06-03"),
                         lambda view: {})
    with pytest.raises(UserError, match="the data's first day: no close before it"):
        function_targets(market, cfg(market_dir, f"strategy.rebalance_dates=[{market.date_at(0)}]"), lambda view: {})


def test_a_view_error_names_the_function_and_the_line(market_dir):
    def fn(view):
        return view.bars("closee")
    with pytest.raises(UserError, match=r"(?s)strategy function .*fn on the rebalance of 2019-07-01: view.bars\('closee'\): "
                                        r"no such field \(did you mean 'close'\?\).*return view.bars\(\"closee\"\)"):
        function_targets(load_market(market_dir), cfg(market_dir, "backtest.start=2019-07-01",
                                                      "backtest.end=2019-07-31"), fn)


def test_user_code_edge_cases_helpers_beside_it_exit_and_syntax_errors(market_dir, tmp_path):
    (tmp_path / "helper.py").write_text("def pick(view):\n    return {view.pool()[0]: 0.5}\n")
    (tmp_path / "strat.py").write_text("import helper\n\ndef main(view):\n    return helper.pick(view)\n")
    c = cfg(market_dir, "backtest.start=2019-07-01", "backtest.end=2019-07-31")
    t, _ = function_targets(load_market(market_dir), c, load_function(f"{tmp_path}/strat.py:main"))
    assert t["weight"].tolist() == [0.5]
    with pytest.raises(StrategyCodeError, match="SystemExit: 3"):
        function_targets(load_market(market_dir), c, lambda view: exit(3))
    (tmp_path / "bad.py").write_text("def main(view)\n    return {}\n")
    with pytest.raises(StrategyCodeError) as err:
        load_function(f"{tmp_path}/bad.py:main")
    assert "SyntaxError" in str(err.value) and "ashare_sim" not in str(err.value) and "frozen" not in str(err.value)


def test_the_next_weekly_list_is_dated_the_first_trading_day_of_the_next_week(market_dir):
    market = load_market(market_dir)
    last = market.date_at(market.n_days - 1)                       # 2020-06-30, a Tuesday
    _, following = function_targets(market, cfg(market_dir, "strategy.rebalance=weekly"), lambda view: {})
    assert following is None or len(following) == 0
    calls = []
    function_targets(market, cfg(market_dir, "strategy.rebalance=weekly"),
                     lambda view: calls.append(view.rebalance_date) or {})
    assert last.isoweekday() == 2 and calls[-1] == dt.date(2020, 7, 6)


def test_an_empty_list_holds_cash_in_the_backtest_as_in_paper(market_dir, tmp_path):
    from ashare_sim.backtest.run import run_backtest
    market = load_market(market_dir)

    def half_the_time(view):                           # cash in the second half of each month
        return {} if view.rebalance_date.day > 15 else {s: 0.2 for s in view.pool()[:5]}
    c = cfg(market_dir, "strategy.rebalance=weekly", "backtest.start=2019-07-01", "backtest.end=2019-09-30")
    r = run_backtest(market, c, None, function=half_the_time)
    eq = r.equity.set_index("date")
    empty_days = [d for d in pd.to_datetime(r.orders["date"]).drop_duplicates() if d.day > 15]
    sold_out = [eq.loc[d, "cash"] / eq.loc[d, "value"] for d in empty_days
                if d in eq.index and (r.orders[pd.to_datetime(r.orders["date"]) == d]["side"] == "sell").all()]
    assert sold_out and max(sold_out) > 0.95            # the book went to cash on the empty days


def test_rebalance_dates_after_the_data_are_later_rebalances_not_errors(market_dir):
    from ashare_sim.signals.function import function_schedule, is_rebalance_day
    market = load_market(market_dir)
    last = market.n_days - 1                                   # 2020-06-30
    c = cfg(market_dir, "strategy.function=x.py:f", "strategy.rebalance_dates=[2020-06-01, 2020-07-01]")
    sch = function_schedule(market, c)
    assert [market.date_at(int(r)) for r in sch.rebalance] == [dt.date(2020, 6, 1)]
    assert is_rebalance_day(market, c, dt.date(2020, 7, 1), last)          # what a paper plan for 07-01 asks
