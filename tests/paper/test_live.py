"""The QMT adapter's contract, against a fake trader with xtquant's surface (tests/paper/fakeqmt): partial
fills, rejections, repeated and reordered callbacks, a dropped connection, a kill -9 between send and
confirmation, reconcile without overwriting, and `paper run`'s exit statuses. The same contract's
read-only part runs against a real miniQMT client when QMT_PATH and QMT_ACCOUNT_ID name one."""
import datetime as dt
import json
import os
import sqlite3

import pandas as pd
import pytest

from ashare_sim.backtest.run import run_backtest
from ashare_sim.common.errors import UserError
from ashare_sim.config import load_config
from ashare_sim.paper.account import PaperAccount, RunStatus
from ashare_sim.paper.live import SessionTimes, remark_of
from ashare_sim.paper.qmt import ORDER_STATES, PRICE_TYPES, STOCK_BUY, STOCK_SELL, QmtBroker
from tests.paper.fakeqmt import xtconstant
from tests.paper.fakeqmt import xttrader as fake
from tests.paper.test_paper import assert_fills_and_equity_equal, cli, config_file, days_from

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
DAY = "2020-04-01"
ACCOUNT = "8800001"
# The fake exchange replays past days: the clock check is off, and cancel_at has passed at once.
FAST = SessionTimes(dt.time(0, 0), final_wait=2.0, confirm_wait=0.2, poll=0.02, reconnect_tries=3,
                    reconnect_wait=0.01, clock_check=False)


def qmt_config(tmp_path, market_dir, **extra):
    client = tmp_path / "userdata_mini"
    client.mkdir(exist_ok=True)
    path = config_file(tmp_path, market_dir)
    keys = {"api": "tests.paper.fakeqmt", "path": str(client), "account_id": f"'{ACCOUNT}'", "cancel_at": "'00:00'",
            "final_wait": 2, "confirm_wait": 0.2, "reconnect_wait": 0.01, "clock_check": "false",
            "cash_tolerance": 0.01, **extra}
    path.write_text(path.read_text() + "paper:\n  adapter: qmt\n  qmt:\n"
                    + "".join(f"    {k}: {v}\n" for k, v in keys.items()))
    return path, client


def day_prices(market, day=DAY) -> dict[str, float]:
    t = market.index_of(day)
    return {s: round(float(market.close[t, i]), 2) for s, i in market.symbol_index.items()
            if market.has_bar[t, i] and not market.is_suspended[t, i]}


def account(tmp_path, cfg, market, name="live.db"):
    return PaperAccount(tmp_path / name, cfg, market)


def broker_rows(db):
    return pd.read_sql("SELECT * FROM broker_orders ORDER BY request", sqlite3.connect(db))


def test_the_adapter_speaks_the_vendor_constants():
    assert (STOCK_BUY, STOCK_SELL) == (xtconstant.STOCK_BUY, xtconstant.STOCK_SELL)
    assert PRICE_TYPES["limit"]["SH"] == xtconstant.FIX_PRICE
    assert PRICE_TYPES["best5_cancel"] == {"SH": xtconstant.MARKET_SH_CONVERT_5_CANCEL, "BJ": 42,
                                           "SZ": xtconstant.MARKET_SZ_CONVERT_5_CANCEL}
    finals = {xtconstant.ORDER_SUCCEEDED, xtconstant.ORDER_PART_CANCEL, xtconstant.ORDER_CANCELED,
              xtconstant.ORDER_JUNK}
    assert {code for code, state in ORDER_STATES.items() if state.final} == finals
    try:                                      # the real xtconstant is pure Python, when xtquant is installed
        from xtquant import xtconstant as real
    except Exception:                         # noqa: BLE001  (not installed: the fake carries the same values)
        return
    for name in ("STOCK_BUY", "STOCK_SELL", "FIX_PRICE", "MARKET_SH_CONVERT_5_CANCEL", "MARKET_SZ_CONVERT_5_CANCEL",
                 "MARKET_PEER_PRICE_FIRST", "MARKET_MINE_PRICE_FIRST", "ORDER_SUCCEEDED", "ORDER_JUNK"):
        assert getattr(real, name) == getattr(xtconstant, name)


def test_a_day_with_partial_fills_is_executed_and_reconciled_without_overwriting(market, market_dir, tmp_path):
    cfgp, client = qmt_config(tmp_path, market_dir)
    cfg = load_config(cfgp)
    fake.new_state(client, ACCOUNT, 2_000_000.0, fill="partial", partial_share=0.5, prices=day_prices(market))
    acct = account(tmp_path, cfg, market)
    out = acct.run(DAY, times=FAST)
    rows = broker_rows(acct.path)
    assert len(rows) == 8 and set(rows["state"]) == {3}                    # every order cancelled after its part
    assert (rows["filled"] == rows["qty"] // 2 // 100 * 100).all()
    assert out["session"]["sent"] == 8 and out["session"]["partial_orders"] == 8
    fills = pd.read_sql("SELECT symbol, qty, price, commission, source FROM fills", sqlite3.connect(acct.path))
    assert fills["qty"].tolist() == rows["filled"].tolist() and set(fills["source"]) == {"qmt"}
    # Same positions; the broker charged 5 CNY a fill, the ledger its cost model: the cash difference is reported.
    state = fake.load(client)
    ledger_cash = sqlite3.connect(acct.path).execute("SELECT cash FROM account").fetchone()[0]
    assert out["differences"] == [f"cash: ledger {ledger_cash:,.2f} CNY, broker {state['cash']:,.2f} CNY"]
    assert out["status"] == RunStatus.MISMATCH
    assert state["cash"] == pytest.approx(2_000_000 - (fills["qty"] * fills["price"]).sum() - 5.0 * len(fills))
    held = pd.read_sql("SELECT symbol, qty FROM positions", sqlite3.connect(acct.path))
    assert dict(zip(held["symbol"], held["qty"])) == state["positions"]


def test_rejections_are_recorded_with_the_brokers_words(market, market_dir, tmp_path):
    cfgp, client = qmt_config(tmp_path, market_dir)
    cfg = load_config(cfgp)
    acct = account(tmp_path, cfg, market)
    acct.plan(DAY)
    symbols = [o["symbol"] for o in json.loads(sqlite3.connect(acct.path).execute("SELECT requests FROM plans")
                                                .fetchone()[0])]
    reject = {symbols[0]: [-61, "price above the day's limit (limit-up)"], symbols[1]: [-62, "not enough cash"],
              symbols[2]: [-63, "not sellable: T+1"]}
    fake.new_state(client, ACCOUNT, 2_000_000.0, fill="full", prices=day_prices(market), reject=reject,
                   refuse={symbols[3]: "refused"})
    out = acct.run(DAY, times=FAST)
    rows = broker_rows(acct.path).set_index("symbol")
    for sym, (code, msg) in reject.items():
        assert rows.loc[sym, "state"] == 4 and msg in rows.loc[sym, "message"]
    assert rows.loc[symbols[3], "state"] == 4 and "order_stock returned -1" in rows.loc[symbols[3], "message"]
    assert len(out["session"]["rejected"]) == 4 and out["session"]["filled_orders"] == 4
    orders = pd.read_sql("SELECT symbol, status, reason FROM orders", sqlite3.connect(acct.path)).set_index("symbol")
    assert (orders.loc[symbols[:4], "status"] == "rejected").all()
    assert out["status"] == RunStatus.MISMATCH           # the broker's 5 CNY fees against the cost model


def _ledger(db):
    con = sqlite3.connect(db)
    return {t: pd.read_sql(f"SELECT * FROM {t} ORDER BY 1", con).drop(columns=["id"], errors="ignore")
            for t in ("fills", "positions", "cash_ledger", "equity")}


def _same_ledgers(a, b):
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table], check_dtype=False)


@pytest.mark.parametrize("script", [{"duplicate_callbacks": True, "out_of_order": True},
                                    {"disconnect_after_sends": 3}, {"connect_failures": 2},
                                    {"drop_trade_pushes": True, "trades_lag": 3}, {"none_queries": 1},
                                    {"lose_reply": 2}])
def test_repeated_reordered_or_lost_callbacks_change_nothing(market, market_dir, tmp_path, script):
    results = []
    for name, extra in (("plain", {}), ("faulty", script)):
        root = tmp_path / name
        root.mkdir()
        cfgp, client = qmt_config(root, market_dir)
        cfg = load_config(cfgp)
        fake.new_state(client, ACCOUNT, 2_000_000.0, fill="partial", partial_share=0.5, prices=day_prices(market),
                       **extra)
        acct = account(root, cfg, market)
        out = acct.run(DAY, times=FAST)
        state = fake.load(client)
        assert sorted(o["order_remark"] for o in state["orders"]) == sorted(broker_rows(acct.path)["remark"])
        results.append((out, _ledger(acct.path)))
    (plain, plain_ledger), (faulty, faulty_ledger) = results
    _same_ledgers(plain_ledger, faulty_ledger)
    assert faulty["session"]["fills"] == plain["session"]["fills"] == 8
    if "duplicate_callbacks" in script:
        assert faulty["session"]["duplicate_fills"] >= 8
    if "disconnect_after_sends" in script:
        assert faulty["session"]["reconnects"] == 1
    if "lose_reply" in script:                  # the lost reply's order was found at the broker, not sent again
        assert faulty["session"]["adopted"] == 1 and faulty["session"]["sent"] == 7


def test_a_kill_9_between_send_and_confirmation_never_sends_twice(market, market_dir, tmp_path):
    """The process dies right after the exchange accepted its third order; run again, it finds the order by
    its remark, sends the rest once, and the ledger equals a run without the crash."""
    ledgers = []
    for name, extra in (("plain", {}), ("killed", {"kill_after_sends": 3})):
        root = tmp_path / name
        root.mkdir()
        cfgp, client = qmt_config(root, market_dir)
        fake.new_state(client, ACCOUNT, 2_000_000.0, fill="full", prices=day_prices(market), **extra)
        db = root / "live.db"
        proc = cli("paper", "run", "--account", str(db), "--date", DAY, "-c", str(cfgp))
        if extra:
            assert proc.returncode == -9, proc.stderr
            rows = broker_rows(db)
            assert rows["state"].tolist()[:2] == [1, 1] and rows["state"].iloc[2] == 0   # 3rd: sent, unconfirmed
            proc = cli("paper", "run", "--account", str(db), "--date", DAY, "-c", str(cfgp))
            assert "1 found already at the broker (not sent again)" in proc.stdout, proc.stdout + proc.stderr
        assert proc.returncode == RunStatus.MISMATCH, proc.stdout + proc.stderr      # the fake's own fees
        remarks = [o["order_remark"] for o in fake.load(client)["orders"]]
        assert len(remarks) == len(set(remarks)) == 8
        ledgers.append(_ledger(db))
    _same_ledgers(*ledgers)


def test_three_months_through_the_fake_qmt_equal_the_backtest_to_the_cent(market, market_dir, tmp_path):
    """The fake fills each order exactly as the simulator did (a shadow account on the simulated adapter):
    the ledger equals the backtest, and the broker equals the ledger every day."""
    cfgp, client = qmt_config(tmp_path, market_dir)
    cfg = load_config(cfgp)
    (tmp_path / "shadow").mkdir()
    shadow_cfg = load_config(config_file(tmp_path / "shadow", market_dir))
    state = fake.new_state(client, ACCOUNT, float(cfg.broker.cash))
    shadow = PaperAccount(tmp_path / "shadow.db", shadow_cfg, market)
    live = account(tmp_path, cfg, market)
    seen = set()
    for day in days_from(market, DAY):
        state = fake.load(client)
        state.update(day=day.isoformat(), mirror=str(tmp_path / "shadow.db"))
        fake.save(client, state)
        fake.ADVANCE[str(client)] = lambda day=day: shadow.run(day)
        out = live.run(day, times=FAST)
        if fake.load(client).get("advanced") != day.isoformat():
            shadow.run(day)                     # a day without orders or reconcile: the shadow still trades it
        assert out["status"] != RunStatus.MISMATCH, out["differences"]
        seen.add(out["status"])
    assert {RunStatus.DONE, RunStatus.PARTIAL, RunStatus.NOTHING_TO_DO} <= seen
    bt = run_backtest(market, shadow_cfg, None)
    assert_fills_and_equity_equal(live.path, bt)


def test_a_broker_position_the_ledger_never_had_is_refused_before_anything_is_written(market, market_dir, tmp_path):
    cfgp, client = qmt_config(tmp_path, market_dir)
    state = fake.new_state(client, ACCOUNT, 2_000_000.0, prices=day_prices(market))
    state["positions"] = {"600519.SH": 300}
    fake.save(client, state)
    db = tmp_path / "live.db"
    proc = cli("paper", "run", "--account", str(db), "--date", DAY, "-c", str(cfgp))
    assert proc.returncode == 2 and [line for line in proc.stderr.splitlines() if " INFO " not in line] == \
        [proc.stderr.splitlines()[-1]], proc.stderr
    assert f"broker account {ACCOUNT} holds 600519.SH (300 shares), which paper account (new)" in proc.stderr
    assert not db.exists() and fake.load(client)["orders"] == []
    assert cli("paper", "plan", "--account", str(db), "--date", DAY, "-c", str(cfgp)).returncode == 0
    before = db.read_bytes()
    proc = cli("paper", "run", "--account", str(db), "--date", DAY, "-c", str(cfgp))
    assert proc.returncode == 2 and "which paper account paper" in proc.stderr, proc.stderr
    assert db.read_bytes() == before and fake.load(client)["orders"] == []


def test_orders_go_out_on_their_day_before_the_cancel_time_only(market, market_dir, tmp_path):
    import dataclasses

    cfgp, client = qmt_config(tmp_path, market_dir)
    cfg = load_config(cfgp)
    fake.new_state(client, ACCOUNT, 2_000_000.0, fill="none")
    beijing = dt.timezone(dt.timedelta(hours=8))
    for now, message in ((dt.datetime(2020, 4, 2, 9, 30, tzinfo=beijing), "it is 2020-04-02 in Beijing"),
                         (dt.datetime(2020, 4, 1, 15, 0, tzinfo=beijing), "past paper.qmt.cancel_at (14:55:00)")):
        times = dataclasses.replace(FAST, clock_check=True, cancel_at=dt.time(14, 55), now=lambda now=now: now)
        with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
            account(tmp_path, cfg, market).run(DAY, times=times)
        assert fake.load(client)["orders"] == []
    # On the day, before the cancel time: sent; the clock then passes the cancel time and the rest is cancelled.
    ticks = iter([dt.datetime(2020, 4, 1, 9, 30, tzinfo=beijing)] * 2)
    times = dataclasses.replace(FAST, clock_check=True, cancel_at=dt.time(14, 55),
                                now=lambda: next(ticks, dt.datetime(2020, 4, 1, 14, 56, tzinfo=beijing)))
    out = account(tmp_path, cfg, market).run(DAY, times=times)
    assert out["session"]["sent"] == 8 and out["session"]["cancelled"] == 8 and out["status"] == RunStatus.PARTIAL


def test_a_day_whose_fills_never_add_up_waits_and_blocks_the_next_day(market, market_dir, tmp_path):
    cfgp, client = qmt_config(tmp_path, market_dir)
    cfg = load_config(cfgp)
    fake.new_state(client, ACCOUNT, 2_000_000.0, fill="full", prices=day_prices(market), drop_trade_pushes=True,
                   trades_lag=10_000)
    acct = account(tmp_path, cfg, market)
    out = acct.run(DAY, times=FAST)
    assert out["status"] == RunStatus.WAITING and "whose fills were not all reported" in out["message"]
    assert out["session"]["missing_fills"] == 1           # the trade list hides the last fill
    nxt = days_from(market, DAY)[1]
    later = acct.run(nxt, times=FAST)
    assert later["status"] == RunStatus.WAITING and f"the orders of {DAY} went out" in later["message"]
    with pytest.raises(UserError, match=f"the orders of {DAY} went out .to the broker, or as a basket. but that day "
                                        "is not executed"):
        acct.plan(nxt)
    state = fake.load(client)
    state["script"]["trades_lag"] = 0
    fake.save(client, state)
    done = acct.run(DAY, times=FAST)                        # the fill is reported now: the day is executed
    assert done["status"] == RunStatus.MISMATCH and done["session"]["sent"] == 0   # the fake's own fees
    assert len(pd.read_sql("SELECT * FROM fills", sqlite3.connect(acct.path))) == 8


def test_a_second_run_on_the_account_is_refused_while_one_trades(market_dir, tmp_path):
    from ashare_sim.paper.live import session_lock

    cfgp, client = qmt_config(tmp_path, market_dir)
    fake.new_state(client, ACCOUNT, 2_000_000.0)
    db = tmp_path / "live.db"
    with session_lock(db):
        proc = cli("paper", "run", "--account", str(db), "--date", DAY, "-c", str(cfgp))
    assert proc.returncode == 2 and "a paper run is trading it in another process" in proc.stderr, proc.stderr
    assert not db.exists() and fake.load(client)["orders"] == []


def test_the_protective_price_is_on_the_exchanges_reference_on_an_ex_date(market):
    import dataclasses

    from ashare_sim.paper.live import protective_price

    t = market.n_days - 1
    sym = next(s for s, i in market.symbol_index.items() if market.has_bar[t, i] and str(s).startswith("60")
               and not market.is_st[t, i])
    sid = market.symbol_index[sym]
    close = float(market.last_close[t, sid])
    day = dt.date(2020, 7, 1)                                 # the trading day after the data
    plain_buy = protective_price(market, t, day, sym, "buy", None)
    assert plain_buy == pytest.approx(round(close * 1.1, 2), abs=0.011)
    div = pd.DataFrame({"symbol": [sym], "ex_date": [pd.Timestamp(day)], "cash_per_share": [close * 0.05],
                        "bonus_per_share": [1.0], "sid": [sid]})
    ex = dataclasses.replace(market, dividends=div)
    reference = (close - close * 0.05) / 2.0
    assert protective_price(ex, t, day, sym, "buy", None) == pytest.approx(round(reference * 1.1, 2), abs=0.011)
    assert protective_price(ex, t, day, sym, "sell", None) == pytest.approx(round(reference * 0.9, 2), abs=0.011)
    assert protective_price(ex, t, day, sym, "buy", 0.02) == pytest.approx(reference * 1.02, abs=0.011)


@pytest.mark.parametrize("env, setting, message", [
    ({"QMT_ACCOUNT_ID": ""}, "account_id: null", "paper.qmt.account_id: the broker account is not set"),
    ({}, "api: no_such_xtquant", "paper.qmt.api: cannot import no_such_xtquant.xttrader"),
])
def test_a_client_that_is_not_configured_is_refused_with_exit_2(market_dir, tmp_path, env, setting, message):
    cfgp, client = qmt_config(tmp_path, market_dir, **dict([setting.split(": ")]))
    fake.new_state(client, ACCOUNT, 2_000_000.0)
    proc = cli("paper", "run", "--account", str(tmp_path / "a.db"), "--date", DAY, "-c", str(cfgp), env=env)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_a_client_that_cannot_be_reached_is_an_error_exit_1(market_dir, tmp_path):
    cfgp, client = qmt_config(tmp_path, market_dir)
    fake.new_state(client, ACCOUNT, 2_000_000.0, connect_failures=99)
    proc = cli("paper", "run", "--account", str(tmp_path / "a.db"), "--date", DAY, "-c", str(cfgp))
    assert proc.returncode == 1 and "cannot connect after 5 attempt(s)" in proc.stderr, proc.stderr


def test_a_sent_plan_is_not_replaced_and_execute_waits_for_the_broker(market, market_dir, tmp_path):
    cfgp, client = qmt_config(tmp_path, market_dir)
    fake.new_state(client, ACCOUNT, 2_000_000.0, fill="none")
    db = tmp_path / "live.db"
    assert cli("paper", "plan", "--account", str(db), "--date", DAY, "-c", str(cfgp)).returncode == 0
    proc = cli("paper", "execute", "--account", str(db), "--date", DAY, "-c", str(cfgp))
    assert proc.returncode == 2 and "the plan was not sent to the broker" in proc.stderr
    cfg = load_config(cfgp)
    out = PaperAccount(db, cfg, market).run(DAY, times=FAST)
    assert out["status"] == RunStatus.PARTIAL and out["session"]["cancelled"] == 8
    proc = cli("paper", "plan", "--account", str(db), "--date", DAY, "-c", str(cfgp))
    assert proc.returncode == 2 and "not after the last executed day" in proc.stderr


def test_paper_run_exit_statuses_on_the_simulated_and_basket_adapters(market, market_dir, tmp_path):
    cfgp = config_file(tmp_path, market_dir)
    db = tmp_path / "a.db"
    first = cli("paper", "run", "--account", str(db), "--date", DAY, "-c", str(cfgp))
    assert first.returncode in (RunStatus.DONE, RunStatus.PARTIAL) and "status " in first.stdout
    again = cli("paper", "run", "--account", str(db), "--date", DAY, "-c", str(cfgp))
    assert again.returncode == RunStatus.NOTHING_TO_DO and "already executed" in again.stdout
    holiday = cli("paper", "run", "--account", str(db), "--date", "2020-05-01", "-c", str(cfgp))
    assert holiday.returncode == RunStatus.NOTHING_TO_DO and "not a trading day" in holiday.stdout
    bdb, basket = tmp_path / "b.db", tmp_path / "basket.csv"
    proc = cli("paper", "run", "--account", str(bdb), "--date", DAY, "-c", str(cfgp), "--set", "paper.adapter=basket",
               "--basket", str(basket))
    assert proc.returncode == RunStatus.WAITING and basket.exists(), proc.stdout + proc.stderr
    b = pd.read_csv(basket)
    prices = day_prices(market)
    pd.DataFrame({"证券代码": b["symbol"].str[:6], "操作": "买入", "成交数量": b["qty"],
                  "成交均价": [prices[s] for s in b["symbol"]], "成交时间": "10:00:00"}).to_csv(
        tmp_path / "ths.csv", index=False, encoding="gbk")
    proc = cli("paper", "run", "--account", str(bdb), "--date", DAY, "-c", str(cfgp), "--set", "paper.adapter=basket",
               "--fills", str(tmp_path / "ths.csv"))
    assert proc.returncode == RunStatus.DONE and "fills file read as ths" in proc.stdout, proc.stdout + proc.stderr


def test_a_schema_1_account_is_migrated_and_keeps_its_seal(market, market_dir, tmp_path):
    from ashare_sim.paper.ledger import Ledger

    cfg = load_config(config_file(tmp_path, market_dir))
    db = tmp_path / "old.db"
    PaperAccount(db, cfg, market).run(DAY)
    con = sqlite3.connect(db, isolation_level=None)     # as schema 1 left it: no broker tables, sealed without them
    con.execute("DROP TABLE broker_orders")
    con.execute("DROP TABLE broker_fills")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    seal = Ledger(con, db)._content_hash(set(Ledger.V1_TABLES))
    con.execute("UPDATE meta SET value = ? WHERE key = 'seal'", (seal,))
    con.close()
    with Ledger.open(db) as led:
        assert led.schema_version() == 2 and led.rows("SELECT COUNT(*) AS n FROM broker_orders")[0]["n"] == 0
    nxt = days_from(market, DAY)[1]
    assert PaperAccount(db, cfg, market).run(nxt)["status"] in (RunStatus.DONE, RunStatus.PARTIAL,
                                                                  RunStatus.NOTHING_TO_DO)


@pytest.mark.skipif(not (os.environ.get("QMT_PATH") and os.environ.get("QMT_ACCOUNT_ID")),
                    reason="no miniQMT client: set QMT_PATH and QMT_ACCOUNT_ID to run the QMT contract against one")
def test_the_contract_against_a_real_miniqmt_client():
    """Read-only: connect, subscribe, and the queries the session relies on answer in the shapes it reads."""
    cfg = load_config(overrides={"paper.adapter": "qmt"})
    broker = QmtBroker(cfg.paper.qmt)
    broker.connect()
    try:
        assert isinstance(broker.cash(), float)
        assert all(isinstance(q, int) for q in broker.positions().values())
        for update in broker.orders():
            assert update.remark and update.order_id > 0
        for trade in broker.trades():
            assert trade.fill_id and trade.qty > 0 and trade.price > 0
    finally:
        broker.close()


def test_remarks_fit_minqmts_24_characters_and_tell_accounts_apart(market, market_dir, tmp_path):
    from ashare_sim.paper.ledger import Ledger
    from ashare_sim.paper.live import remark_tag

    cfg = load_config(config_file(tmp_path, market_dir))
    tags = []
    for name in ("a.db", "b.db"):                  # same name, same start day: different tags
        PaperAccount(tmp_path / name, cfg, market).plan(DAY)
        with Ledger.open(tmp_path / name) as led:
            tags.append(remark_tag(led))
        with Ledger.open(tmp_path / name) as led:
            assert remark_tag(led) == tags[-1]     # kept in the account
    assert tags[0] != tags[1]
    r = remark_of(tags[0], dt.date(2020, 4, 1), 49)
    assert len(r.encode()) <= 24 and r.isascii()


def test_a_day_left_open_is_not_executed_on_a_later_day_and_names_the_fix(market, market_dir, tmp_path):
    import dataclasses

    cfgp, client = qmt_config(tmp_path, market_dir)
    cfg = load_config(cfgp)
    fake.new_state(client, ACCOUNT, 2_000_000.0, fill="none", ignore_cancel=True)
    beijing = dt.timezone(dt.timedelta(hours=8))
    ticks = iter([dt.datetime(2020, 4, 1, 9, 30, tzinfo=beijing)] * 2)
    times = dataclasses.replace(FAST, clock_check=True, cancel_at=dt.time(14, 55), final_wait=0.3,
                                now=lambda: next(ticks, dt.datetime(2020, 4, 1, 14, 56, tzinfo=beijing)))
    acct = account(tmp_path, cfg, market)
    out = acct.run(DAY, times=times)
    assert out["status"] == RunStatus.WAITING and out["session"]["open_orders"] == 8
    later = dataclasses.replace(times, now=lambda: dt.datetime(2020, 4, 2, 9, 30, tzinfo=beijing))
    with pytest.raises(UserError, match=r"the broker no longer lists that day; record the day from the terminal's "
                                        r"export of its fills: `paper execute --account .* --date 2020-04-01 --fills"):
        acct.run(DAY, times=later)
    assert len(fake.load(client)["orders"]) == 8                          # nothing sent again
    assert set(broker_rows(acct.path)["state"]) == {1}                    # nor marked cancelled


def test_a_basket_that_went_out_holds_the_next_day_until_its_fills_come(market, market_dir, tmp_path):
    cfg = load_config(config_file(tmp_path, market_dir))
    acct = PaperAccount(tmp_path / "b.db", cfg, market)
    first = acct.run(DAY, basket=tmp_path / "b1.csv")
    assert first["status"] == RunStatus.WAITING and (tmp_path / "b1.csv").exists()
    nxt = days_from(market, DAY)[1]
    second = acct.run(nxt, basket=tmp_path / "b2.csv")
    assert second["status"] == RunStatus.WAITING and f"the orders of {DAY} went out" in second["message"]
    assert not (tmp_path / "b2.csv").exists()
