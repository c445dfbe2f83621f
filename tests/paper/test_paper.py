"""Paper trading: equal to the backtest, idempotent, crash-safe, T+1, basket files, one process at a time,
and bad input refused with the account untouched."""
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ashare_sim.backtest.run import run_backtest
from ashare_sim.cli.main import main
from ashare_sim.config import load_config
from ashare_sim.data.market import load_market
from ashare_sim.paper.ledger import SCHEMA_VERSION, Ledger
from ashare_sim.paper.session import execute_day, plan_day, status

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")


def config_file(tmp_path, market_dir, **extra):
    text = (f"data:\n  path: {market_dir}\nstrategy:\n  top_n: 8\nbroker:\n  cash: 2000000\n"
            "backtest:\n  start: 2020-04-01\n  benchmark: none\noutput:\n  report: false\n")
    for k, v in extra.items():
        text += f"{k}\n" if v is None else ""
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def days_from(market, first: str) -> list[dt.date]:
    return [market.date_at(i) for i in range(market.n_days) if market.date_at(i) >= dt.date.fromisoformat(first)]


def cli(*args, env=None, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def paper_days(market, cfg, db, first: str):
    """Plan and execute every trading day from `first` to the data's end on the account `db`."""
    for day in days_from(market, first):
        with Ledger.open(db, create=True) as led:
            plan_day(led, market, cfg, day)
        with Ledger.open(db) as led:
            execute_day(led, market, cfg, day)
    return db


def assert_fills_and_equity_equal(db, bt) -> sqlite3.Connection:
    """The paper ledger's fills and equity equal the backtest's, to the cent."""
    con = sqlite3.connect(db)
    cols = ["date", "symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee", "slippage", "kind"]
    ours = pd.read_sql("SELECT * FROM fills ORDER BY id", con)[cols]
    theirs = bt.trades[cols].assign(date=bt.trades["date"].astype(str))
    assert len(ours) > 20
    pd.testing.assert_frame_equal(ours.round(6), theirs.round(6).reset_index(drop=True), check_dtype=False)
    eq = pd.read_sql("SELECT * FROM equity ORDER BY date", con)
    assert eq["value"].to_numpy() == pytest.approx(bt.equity["value"].to_numpy(), abs=0.005)
    return con


def test_a_three_month_paper_run_equals_the_backtest_to_the_cent(market, market_dir, tmp_path):
    cfg = load_config(config_file(tmp_path, market_dir))
    db = paper_days(market, cfg, tmp_path / "a.db", "2020-04-01")
    bt = run_backtest(market, cfg, None)
    con = assert_fills_and_equity_equal(db, bt)
    orders = pd.read_sql("SELECT status, reason, attempt FROM orders ORDER BY id", con)
    assert orders["status"].tolist() == bt.orders["status"].tolist()
    assert orders["attempt"].tolist() == bt.orders["attempt"].tolist()
    ledger = pd.read_sql("SELECT * FROM cash_ledger ORDER BY id", con)
    assert ledger["balance"].iloc[-1] == pytest.approx(bt.equity["cash"].iloc[-1], abs=1e-6)


def test_execute_twice_changes_nothing_and_says_the_day_is_done(market_dir, tmp_path):
    cfgp = config_file(tmp_path, market_dir)
    db = tmp_path / "a.db"
    assert cli("paper", "plan", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp)).returncode == 0
    first = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp))
    assert first.returncode == 0, first.stderr
    before = sqlite3.connect(db).execute("SELECT COUNT(*), SUM(qty) FROM fills").fetchone()
    again = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp))
    assert again.returncode == 0 and "already executed: nothing done" in again.stdout
    assert sqlite3.connect(db).execute("SELECT COUNT(*), SUM(qty) FROM fills").fetchone() == before
    st = json.loads(cli("paper", "status", "--account", str(db), "--json").stdout)
    assert set(st) >= {"last_date", "cash", "value", "positions", "open_orders"}
    assert st["last_date"] == "2020-04-01" and st["positions"]
    p = st["positions"][0]
    assert set(p) == {"symbol", "qty", "sellable_qty", "avg_cost"}
    assert p["sellable_qty"] == 0                       # bought today: T+1 locks it until tomorrow


def test_t_plus_1_across_plan_and_execute(market, market_dir, tmp_path):
    # Bought on day 1 (locked at its close), sellable on day 2: the list of day 2 sells it, and it fills.
    a, b = market.symbols[5], market.symbols[6]
    days = days_from(market, "2020-04-01")
    lists = tmp_path / "lists.csv"
    lists.write_text(f"rebalance_date,symbol,weight\n{days[0]},{a},0.5\n{days[1]},{b},0.5\n")
    cfg = load_config(config_file(tmp_path, market_dir), [f"strategy.targets_file={lists}"])
    db = tmp_path / "a.db"
    with Ledger.open(db, create=True) as led:
        plan_day(led, market, cfg, days[0])
        execute_day(led, market, cfg, days[0])
    with Ledger.open(db) as led:
        held = status(led)["positions"]
    assert [p["symbol"] for p in held] == [a] and held[0]["sellable_qty"] == 0     # T+1 at the close of day 1
    with Ledger.open(db) as led:
        plan = plan_day(led, market, cfg, days[1])
    sell = next(o for o in plan["orders"] if o["side"] == "sell")
    assert sell["symbol"] == a and sell["sellable"] == held[0]["qty"] == sell["qty"]
    with Ledger.open(db) as led:
        execute_day(led, market, cfg, days[1])
    con = sqlite3.connect(db)
    assert con.execute("SELECT qty FROM fills WHERE side = 'sell' AND symbol = ?", (a,)).fetchone()[0] == sell["qty"]


def test_lists_on_any_day_and_skipped_days_match_the_backtest(market, market_dir, tmp_path):
    # Mid-month lists trade on their own day, as in the backtest; days without a run still get their
    # corporate actions, and a rebalance day cannot be skipped.
    syms = market.symbols
    days = days_from(market, "2020-04-01")
    lists = tmp_path / "lists.csv"
    lists.write_text("rebalance_date,symbol,weight\n"
                     + "".join(f"{days[k]},{syms[j]},0.2\n" for k in (0, 9, 25) for j in range(k % 7, k % 7 + 4)))
    cfg = load_config(config_file(tmp_path, market_dir), [f"strategy.targets_file={lists}"])
    db = tmp_path / "a.db"
    run_days = [d for k, d in enumerate(days) if k % 3 == 0 or k in (9, 25)]
    for day in run_days:
        with Ledger.open(db, create=True) as led:
            plan_day(led, market, cfg, day)
            execute_day(led, market, cfg, day)
    with Ledger.open(db) as led:
        final = status(led)
    bt = run_backtest(market, load_config(config_file(tmp_path, market_dir),
                                          [f"strategy.targets_file={lists}", "broker.retry=false"]), None)
    con = sqlite3.connect(db)
    fills = pd.read_sql("SELECT date, symbol, side, qty FROM fills WHERE kind = 'fill' ORDER BY id", con)
    first_attempts = bt.trades[bt.trades["date"].astype(str).isin([str(days[k]) for k in (0, 9, 25)])]
    assert fills[fills["date"].isin([str(days[k]) for k in (0, 9, 25)])]["symbol"].tolist() == \
        first_attempts["symbol"].tolist()
    assert final["last_date"] == str(run_days[-1])
    # skipping a list's day is refused, naming it
    db2 = tmp_path / "b.db"
    with Ledger.open(db2, create=True) as led:
        plan_day(led, market, cfg, days[0])
        execute_day(led, market, cfg, days[0])
    with pytest.raises(Exception, match=f"the rebalance of {days[9]} was not executed"):
        with Ledger.open(db2) as led:
            plan_day(led, market, cfg, days[10])


def test_a_plan_made_before_a_later_execute_is_made_again(market, market_dir, tmp_path):
    cfg = load_config(config_file(tmp_path, market_dir), ["broker.volume_cap=0.002"])
    days = days_from(market, "2020-04-01")
    db = tmp_path / "a.db"
    with Ledger.open(db, create=True) as led:
        plan_day(led, market, cfg, days[0])
        execute_day(led, market, cfg, days[0])
        plan_day(led, market, cfg, days[2])               # made from the account after day 1 ...
        execute_day(led, market, cfg, days[1])            # ... then day 2 runs
        summary = execute_day(led, market, cfg, days[2])
    assert summary["planned_now"]                         # the stale plan was made again
    attempts = pd.read_sql("SELECT date, symbol, attempt FROM orders", sqlite3.connect(db))
    per_symbol = attempts.groupby("symbol")["attempt"].apply(list)
    assert all(a == list(range(len(a))) for a in per_symbol)    # no attempt sent twice from an old book


def test_a_plan_for_the_day_after_the_data_ends(market, market_dir, tmp_path):
    cfg = load_config(config_file(tmp_path, market_dir))
    last = market.date_at(market.n_days - 1)             # 2020-06-30: the next session is 2020-07-01
    with Ledger.open(tmp_path / "a.db", create=True) as led:
        summary = plan_day(led, market, cfg, dt.date(2020, 7, 1))
    assert summary["signal_date"] == str(last) and summary["kind"].startswith("rebalance")
    assert len(summary["orders"]) == 8 and {o["rebalance"] for o in summary["orders"]} == {"2020-07-01"}


def test_two_first_plans_on_one_new_path_keep_one_account(market_dir, tmp_path):
    cfgp = str(config_file(tmp_path, market_dir))
    db = tmp_path / "new.db"
    holder = Ledger.open(db, create=True)                 # the first command, holding the lock
    proc = cli("paper", "plan", "--account", str(db), "--date", "2020-04-01", "-c", cfgp,
               "--set", "paper.lock_timeout=1")
    assert proc.returncode == 2 and "in use by another process" in proc.stderr
    holder.create_account("paper", 1.0, dt.date(2020, 4, 1), "x")
    holder.__exit__(None, None, None)
    assert db.exists() and sqlite3.connect(db).execute("SELECT COUNT(*) FROM account").fetchone()[0] == 1


def test_a_kill_9_inside_the_transaction_leaves_the_account_as_before(market_dir, tmp_path):
    cfgp = config_file(tmp_path, market_dir)
    db = tmp_path / "a.db"
    assert cli("paper", "plan", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp)).returncode == 0
    snapshot = lambda: [sqlite3.connect(db).execute(f"SELECT * FROM {t}").fetchall()  # noqa: E731
                        for t in ("account", "positions", "orders", "fills", "cash_ledger", "equity")]
    before = snapshot()
    # The command line, paused inside execute's transaction (after its rows are written, before it commits).
    paused = ("import sys, time\n"
              "from ashare_sim.paper import ledger\n"
              "real = ledger.Ledger.update_account\n"
              "def update_account(self, **kw):\n"
              "    print('paused inside the transaction', file=sys.stderr, flush=True)\n"
              "    time.sleep(60)\n"
              "    return real(self, **kw)\n"
              "ledger.Ledger.update_account = update_account\n"
              "from ashare_sim.cli.main import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.Popen([sys.executable, "-c", paused, "paper", "execute", "--account", str(db),
                             "--date", "2020-04-01", "-c", str(cfgp)], stderr=subprocess.PIPE, text=True, cwd=ROOT)
    for line in proc.stderr:
        if "paused inside the transaction" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert snapshot() == before                           # orders were written in the transaction: all gone
    done = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp))
    assert done.returncode == 0 and snapshot() != before  # and the day can still be executed


def test_a_second_process_waits_then_is_refused(market_dir, tmp_path):
    cfgp = config_file(tmp_path, market_dir)
    db = tmp_path / "a.db"
    assert cli("paper", "plan", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp)).returncode == 0
    holder = Ledger.open(db)                               # BEGIN IMMEDIATE: the account is busy
    try:
        started = time.perf_counter()
        proc = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp),
                   "--set", "paper.lock_timeout=1")
        assert proc.returncode == 2
        assert "in use by another process" in proc.stderr and "waited 1 s" in proc.stderr
        assert time.perf_counter() - started >= 1
    finally:
        holder.__exit__(None, None, None)
    assert cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp)).returncode == 0


def test_basket_out_and_fills_in(market_dir, tmp_path):
    cfgp = config_file(tmp_path, market_dir)
    db, basket = tmp_path / "a.db", tmp_path / "basket.csv"
    proc = cli("paper", "plan", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp), "--basket", str(basket))
    assert proc.returncode == 0, proc.stderr
    b = pd.read_csv(basket)
    assert list(b.columns) == ["account", "symbol", "side", "qty", "price_type", "limit_price"]
    assert (b["side"] == "buy").all() and (b["price_type"] == "market").all() and (b["account"] == "paper").all()
    m = load_market(market_dir)
    t = m.index_of("2020-04-01")
    price = [round(float(m.close[t, m.symbol_index[sym]]), 2) for sym in b["symbol"]]
    fills = b.assign(qty=b["qty"] // 2 // 100 * 100, price=price, commission=5.0, stamp_duty=0.0, transfer_fee=0.1,
                     time="2020-04-01 09:35:00")[["symbol", "side", "qty", "price", "commission", "stamp_duty",
                                                  "transfer_fee", "time"]]
    fills.iloc[1:].to_csv(tmp_path / "fills.csv", index=False)           # the first order did not trade
    proc = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp),
               "--fills", str(tmp_path / "fills.csv"))
    assert proc.returncode == 0, proc.stderr
    con = sqlite3.connect(db)
    got = pd.read_sql("SELECT symbol, qty, price, commission, source FROM fills", con)
    assert got["qty"].tolist() == fills["qty"].iloc[1:].tolist() and got["price"].tolist() == price[1:]
    assert (got["source"] == "basket").all() and (got["commission"] == 5.0).all()
    status_rows = pd.read_sql("SELECT status, reason FROM orders", con)
    assert status_rows["status"].tolist()[0] == "rejected" and status_rows["reason"].tolist()[0] == "unfilled"
    assert set(status_rows["status"].tolist()[1:]) == {"partial"}
    cash = con.execute("SELECT cash FROM account").fetchone()[0]
    assert cash == pytest.approx(2_000_000 - (fills["qty"].iloc[1:] * fills["price"].iloc[1:] + 5.1).sum())


@pytest.mark.parametrize("row, message", [
    ("600000.SH,sell,100,10,5,0,0,2020-04-01 09:30:00", "row 2 (read as project): no planned sell of 600000.SH on 2020-04-01"),
    ("{sym},buy,100,{px},5,0,0,2020-03-31 09:30:00", "row 2 (read as project): the fill's date is 2020-03-31, not 2020-04-01"),
    ("{sym},buy,100,{px},5,0,0,", "row 2 (read as project): cannot read the fill's date from empty date and time cells"),
    ("{sym},buy,100,999,5,0,0,2020-04-01 09:30:00", "row 2 (read as project): price 999 is outside the day's range"),
    ("{sym},buy,150,{px},5,0,0,2020-04-01 09:30:00", "row 2 (read as project): buy of 150 is not whole board lots"),
    ("{sym},buy,100,{px:.2f}3,5,0,0,2020-04-01 09:30:00", "is not on the tick (0.01 CNY)"),
    ("{sym},buy,100,{px},100000,0,0,2020-04-01 09:30:00", "row 2 (read as project): fees 100,000.00 CNY exceed the fill's value"),
])
def test_a_fills_file_that_does_not_match_the_plan_or_the_day_is_refused(market, market_dir, tmp_path, row, message):
    cfgp = config_file(tmp_path, market_dir)
    db = tmp_path / "a.db"
    proc = cli("paper", "plan", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp), "--basket",
               str(tmp_path / "b.csv"))
    assert proc.returncode == 0, proc.stderr
    sym = pd.read_csv(tmp_path / "b.csv")["symbol"].iloc[0]
    px = round(float(market.close[market.index_of("2020-04-01"), market.symbol_index[sym]]), 2)
    bad = tmp_path / "fills.csv"
    bad.write_text("symbol,side,qty,price,commission,stamp_duty,transfer_fee,time\n" + row.format(sym=sym, px=px) + "\n")
    proc = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp), "--fills", str(bad))
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM fills").fetchone()[0] == 0


def test_fills_need_a_plan_the_user_saw(market_dir, tmp_path):
    cfgp = config_file(tmp_path, market_dir)
    db = tmp_path / "a.db"
    assert cli("paper", "plan", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp)).returncode == 0
    assert cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp)).returncode == 0
    (tmp_path / "f.csv").write_text("symbol,side,qty,price,commission,stamp_duty,transfer_fee,time\n")
    proc = cli("paper", "execute", "--account", str(db), "--date", "2020-04-02", "-c", str(cfgp),
               "--fills", str(tmp_path / "f.csv"))
    assert proc.returncode == 2 and "no current plan for 2020-04-02" in proc.stderr


def test_bad_input_is_refused_and_leaves_the_account_untouched(market, market_dir, tmp_path, capsys):
    cfgp = str(config_file(tmp_path, market_dir))
    db = str(tmp_path / "a.db")
    assert main(["paper", "plan", "--account", db, "--date", "2020-04-04", "-c", cfgp]) == 2     # a Saturday
    assert "not a trading day" in capsys.readouterr().err
    assert not Path(db).exists()
    assert main(["paper", "plan", "--account", str(tmp_path), "--date", "2020-04-01", "-c", cfgp]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["paper", "plan", "--account", str(tmp_path / "c.yaml" / "a.db"), "--date", "2020-04-01", "-c",
                 cfgp]) == 2
    assert "cannot create its folder" in capsys.readouterr().err
    assert main(["paper", "plan", "--account", db, "--date", "2020-04-01", "-c", cfgp, "--basket",
                 str(tmp_path)]) == 2
    assert "--basket" in capsys.readouterr().err and not Path(db).exists()
    for d in ("2020-04-01", "2020-04-02"):
        assert main(["-q", "paper", "plan", "--account", db, "--date", d, "-c", cfgp]) == 0
        assert main(["-q", "paper", "execute", "--account", db, "--date", d, "-c", cfgp]) == 0
    before = sqlite3.connect(db).execute("SELECT * FROM account").fetchall()
    assert main(["paper", "execute", "--account", db, "--date", "2020-04-01", "-c", cfgp]) == 2
    assert "before the last executed day 2020-04-02" in capsys.readouterr().err
    assert main(["paper", "execute", "--account", db, "--date", "2020-07-03", "-c", cfgp]) == 2
    assert "no bars for 2020-07-03" in capsys.readouterr().err
    assert main(["paper", "plan", "--account", db, "--date", "2020-07-06", "-c", cfgp]) == 2
    assert "ends on 2020-06-30" in capsys.readouterr().err
    assert main(["paper", "plan", "--account", db, "--date", "2090-01-03", "-c", cfgp]) == 2
    assert "outside the XSHG calendar" in capsys.readouterr().err
    assert main(["paper", "execute", "--account", db, "--date", "2020-4-x", "-c", cfgp]) == 2
    assert "not a date" in capsys.readouterr().err
    assert main(["paper", "execute", "--account", db, "--date", "2020-04-03", "-c", cfgp, "--set",
                 f"data.path={tmp_path / 'elsewhere'}"]) == 2
    capsys.readouterr()
    assert sqlite3.connect(db).execute("SELECT * FROM account").fetchall() == before
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert main(["paper", "status", "--account", str(empty)]) == 2
    assert "an empty file (0 bytes), not a paper account" in capsys.readouterr().err and empty.read_bytes() == b""
    text = tmp_path / "notes.db"
    text.write_text("my notes")
    assert main(["paper", "status", "--account", str(text)]) == 2
    assert "not a paper account of this simulator" in capsys.readouterr().err
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert main(["paper", "status", "--account", str(other)]) == 2
    assert "not a paper account of this simulator (no meta table)" in capsys.readouterr().err
    newer = tmp_path / "newer.db"
    newer.write_bytes(Path(db).read_bytes())
    con = sqlite3.connect(newer)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    assert main(["paper", "status", "--account", str(newer)]) == 2
    assert f"schema version {SCHEMA_VERSION + 1} is newer than this code" in capsys.readouterr().err
    assert main(["paper", "status", "--account", str(tmp_path / "none.db")]) == 2
    assert "no such paper account" in capsys.readouterr().err


def test_easytrader_says_it_is_not_in_this_build(market_dir, tmp_path, capsys):
    cfgp = str(config_file(tmp_path, market_dir))
    assert main(["paper", "plan", "--account", str(tmp_path / "a.db"), "--date", "2020-04-01", "-c", cfgp,
                 "--set", "paper.adapter=easytrader"]) == 2
    err = capsys.readouterr().err
    assert "'easytrader' is not available in this build; use 'qmt' (miniQMT)" in err
    assert not (tmp_path / "a.db").exists()


@pytest.mark.parametrize("body", [
    "    return view.scores().to_frame()\n",                                        # the built-in list, by hand
    "    close = view.bars('adj_close', days=10)\n"
    "    momentum = (close.iloc[-1] / close.iloc[0]).dropna()\n"
    "    return {s: 0.1 for s in momentum[momentum.index.isin(view.pool())].nlargest(8).index}\n",
])
def test_a_paper_run_driven_by_a_function_equals_its_backtest(market, market_dir, tmp_path, body):
    (tmp_path / "mine.py").write_text("def strategy(view):\n" + body)
    # A new paper account trades the current list on its first day; a backtest trades from its first
    # scheduled day: start both on one (2020-04-07, the first trading day of its week).
    cfg = load_config(config_file(tmp_path, market_dir), [f"strategy.function={tmp_path / 'mine.py'}:strategy",
                                                           "strategy.rebalance=weekly", "backtest.start=2020-04-07"])
    db = paper_days(market, cfg, tmp_path / "a.db", "2020-04-07")
    bt = run_backtest(market, cfg, None)
    con = assert_fills_and_equity_equal(db, bt)
    assert bt.metrics["targets_source"]["kind"] == "function"
    plans = pd.read_sql("SELECT kind FROM plans ORDER BY date", con)["kind"]
    assert plans.str.contains("rebalance function mine.py:strategy").sum() == len(set(bt.targets["rebalance_date"]))
