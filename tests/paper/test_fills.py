"""Broker fill exports as they come: every column profile with a file in its layout, the encodings and
separators terminals write, time-only values, fees from the cost model, and the bad inputs refused."""
import shutil
import sqlite3

import pandas as pd
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.config import load_config
from ashare_sim.execution.account import Account
from ashare_sim.execution.core import ExecutionCore
from ashare_sim.paper.account import PaperAccount
from ashare_sim.paper.fills import FillChecks, FillsConfig, fill_date, read_fills
from tests.paper.test_paper import cli, config_file

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
DAY = "2020-04-01"


@pytest.fixture(scope="module")
def setting(market, market_dir):
    """Two planned buys on DAY and their prices inside the day's bar."""
    import datetime as dt

    cfg = load_config(overrides={"data.path": str(market_dir)})
    t = market.index_of(DAY)
    traded = [s for s in market.symbols if market.has_bar[t, market.symbol_index[s]]
              and not market.is_suspended[t, market.symbol_index[s]] and str(s).startswith(("00", "60"))][:2]
    prices = [round(float(market.close[t, market.symbol_index[s]]), 2) for s in traded]
    requests = [{"symbol": s, "side": "buy", "qty": 1000} for s in traded]
    return cfg, t, traded, prices, requests, dt.date.fromisoformat(DAY)


def checks(market, cfg, t, ids=("paper",)):
    return FillChecks(market, t, Account(1_000_000.0), True, ExecutionCore(market, cfg.broker).fresh_costs(), ids)


def write(path, frame: pd.DataFrame, encoding="utf-8", sep=","):
    path.write_bytes(frame.to_csv(index=False, sep=sep).encode(encoding))
    return path


def layouts(traded, prices):
    a, b = traded
    pa, pb = prices
    return {
        "qmt": (pd.DataFrame({"资金账号": ["paper", "paper"], "证券代码": [a, b], "买卖方向": ["买入", "买入"],
                              "成交数量": ["500", "1,000"], "成交价格": [pa, pb], "成交时间": ["09:31:05", "10:02:00"],
                              "成交编号": ["1001", "1002"], "委托编号": ["77", "78"]}), "gb18030", ","),
        "qmt-xtquant": (pd.DataFrame({"account_id": ["paper"] * 2, "stock_code": [a, b], "order_type": [23, 23],
                                      "traded_volume": [500, 1000], "traded_price": [pa, pb],
                                      "traded_time": [1585704665, 1585706520], "traded_id": ["x1", "x2"]}),
                        "utf-8", ","),
        "ths": (pd.DataFrame({"成交日期": ["20200401"] * 2, "成交时间": ["09:31:05", "10:02:00"], "证券代码": [a[:6], b[:6]],
                              "证券名称": ["甲", "乙"], "操作": ["证券买入", "买入"], "成交数量": [500, 1000],
                              "成交均价": [pa, pb], "成交金额": [pa * 500, pb * 1000], "佣金": [5.0, 5.0],
                              "印花税": [0.0, 0.0], "过户费": [0.01, 0.02], "合同编号": ["h1", "h2"],
                              "成交编号": ["t1", "t2"]}), "gbk", ","),
        "tdx": (pd.DataFrame({"成交时间": ["093105", "100200"], "证券代码": [f'="{a[:6]}"', f'="{b[:6]}"'],
                              "证券名称": ["甲", "乙"], "买卖标志": ["证券买入", "证券买入"], "成交价格": [pa, pb],
                              "成交数量": [500, 1000], "成交编号": ["d1", "d2"], "委托编号": ["w1", "w2"]}),
                "utf-8-sig", "\t"),
    }


@pytest.mark.parametrize("name", ["qmt", "qmt-xtquant", "ths", "tdx"])
def test_every_profile_reads_a_file_in_its_layout(market, setting, tmp_path, name):
    cfg, t, traded, prices, requests, day = setting
    frame, encoding, sep = layouts(traded, prices)[name]
    path = write(tmp_path / f"{name}.csv", frame, encoding, sep)
    got = read_fills(path, requests, day, checks(market, cfg, t))           # auto finds the profile
    assert got.profile == name.split("-")[0]
    assert [f["qty"] for i in (0, 1) for f in got.by_request[i]] == [500, 1000]
    assert [f["price"] for i in (0, 1) for f in got.by_request[i]] == prices
    assert got.dated_by_run == (name in ("qmt", "tdx"))
    assert got.fees_from_model == (name != "ths")
    if name == "ths":
        assert got.by_request[1][0]["transfer_fee"] == 0.02 and got.by_request[0][0]["commission"] == 5.0
    else:                                   # the cost model's commission minimum, once per order
        assert got.by_request[0][0]["commission"] == pytest.approx(5.0)
    named = read_fills(path, requests, day, checks(market, cfg, t), profile=name.split("-")[0])
    assert named.by_request == got.by_request


def test_a_custom_mapping_and_extra_side_words(market, setting, tmp_path):
    cfg, t, traded, prices, requests, day = setting
    frame = pd.DataFrame({"代码": traded, "方向": ["担保品买入", "B"], "数量": [100, 200], "价格": prices,
                          "时间": [f"{DAY} 09:35:00"] * 2})
    path = write(tmp_path / "custom.csv", frame)
    fcfg = FillsConfig(profile="custom", columns={"symbol": "代码", "side": "方向", "qty": "数量", "price": "价格",
                                                  "time": "时间"}, sides={"buy": ["担保品买入"]})
    got = read_fills(path, requests, day, checks(market, cfg, t), fcfg)
    assert got.profile == "custom" and [f["qty"] for i in (0, 1) for f in got.by_request[i]] == [100, 200]
    with pytest.raises(UserError, match=r"side '担保品买入' \(方向\) is neither a buy nor a sell"):
        read_fills(path, requests, day, checks(market, cfg, t), FillsConfig(profile="custom", columns=fcfg.columns))


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.rename(columns={"买卖方向": "方向"}), "match no fills profile"),
    (lambda f: f.assign(资金账号=["other", "paper"]), "row 2 (read as qmt): account other (资金账号) is not this account"),
    (lambda f: f.assign(成交时间=["2020-03-31 09:31:05", "10:02:00"]), "row 2 (read as qmt): the fill's date is 2020-03-31"),
    (lambda f: f.assign(买卖方向=["买入", "融券"]), "row 3 (read as qmt): side '融券' (买卖方向) is neither a buy nor a sell"),
    (lambda f: f.assign(成交编号=["1001", "1001"], 证券代码=[f["证券代码"].iloc[0]] * 2),
     "fill id 1001 (成交编号) appears twice for"),
    (lambda f: f.assign(成交数量=["500", "lots"]), "row 3 (read as qmt): qty 'lots' (成交数量) is not a number"),
])
def test_bad_exports_name_the_row_and_the_column(market, setting, tmp_path, edit, message):
    cfg, t, traded, prices, requests, day = setting
    frame, encoding, sep = layouts(traded, prices)["qmt"]
    path = write(tmp_path / "bad.csv", edit(frame), encoding, sep)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_fills(path, requests, day, checks(market, cfg, t))


def test_a_named_profile_that_does_not_fit_says_what_it_lacks(market, setting, tmp_path):
    cfg, t, traded, prices, requests, day = setting
    frame, encoding, sep = layouts(traded, prices)["qmt"]
    path = write(tmp_path / "q.csv", frame, encoding, sep)
    with pytest.raises(UserError, match=r"the tdx profile finds no column for side \(买卖标志\)"):
        read_fills(path, requests, day, checks(market, cfg, t), profile="tdx")
    with pytest.raises(UserError, match=r"--fills-profile tdz: not a fills profile.*did you mean 'tdx'"):
        read_fills(path, requests, day, checks(market, cfg, t), profile="tdz")


def test_a_date_from_every_way_exports_write_it():
    import datetime as dt

    day = dt.date(2020, 4, 1)
    assert fill_date("20200401", "09:30:00", day) == (day, False)
    assert fill_date("2020/04/01", "", day) == (day, False)
    assert fill_date("", "09:30", day) == (day, True)
    assert fill_date("", "093000", day) == (day, True)
    assert fill_date("", "2020-04-01 09:30:00", day) == (day, False)
    assert fill_date("", "1585704665", day) == (day, False)             # epoch seconds, Beijing time
    assert fill_date("", "", day) == (None, False)


def test_fills_without_fees_cost_what_the_simulator_charges(market, market_dir, tmp_path):
    """A tdx export of the simulator's own fills, without fee columns, books the same fees and cash."""
    cfg = load_config(path=config_file(tmp_path, market_dir))
    sim_db, ext_db = tmp_path / "sim.db", tmp_path / "ext.db"
    PaperAccount(sim_db, cfg, market).plan(DAY)
    shutil.copy(sim_db, ext_db)
    PaperAccount(sim_db, cfg, market).execute(DAY)
    sim = pd.read_sql("SELECT symbol, side, qty, price, commission, stamp_duty, transfer_fee FROM fills "
                      "WHERE kind = 'fill' ORDER BY id", sqlite3.connect(sim_db))
    export = pd.DataFrame({"成交时间": ["09:45:00"] * len(sim), "证券代码": sim["symbol"].str[:6],
                           "买卖标志": sim["side"].map({"buy": "证券买入", "sell": "证券卖出"}),
                           "成交价格": sim["price"], "成交数量": sim["qty"]})
    write(tmp_path / "tdx.txt", export, "gbk", "\t")
    summary = PaperAccount(ext_db, cfg, market).execute(DAY, fills=tmp_path / "tdx.txt")
    assert summary["fills_file"] == {"profile": "tdx", "rows": len(sim), "dated_by_run": True, "skipped_rows": 0,
                                     "fees_from_model": ["commission", "stamp_duty", "transfer_fee"]}
    ext = pd.read_sql("SELECT symbol, side, qty, price, commission, stamp_duty, transfer_fee FROM fills "
                      "WHERE kind = 'fill' ORDER BY id", sqlite3.connect(ext_db))
    pd.testing.assert_frame_equal(ext, sim)
    cash = [sqlite3.connect(db).execute("SELECT cash FROM account").fetchone()[0] for db in (sim_db, ext_db)]
    assert cash[0] == pytest.approx(cash[1], abs=1e-6)


@pytest.mark.parametrize("args, message", [
    (["--fills-profile", "qtm"], "--fills-profile qtm: not a fills profile"),
    (["--fills-profile", "tdx"], "the tdx profile finds no column for side"),
    ([], "row 2 (read as qmt): account acct-9 (资金账号) is not this account (paper)"),
])
def test_the_command_refuses_bad_exports_with_exit_2_and_the_account_untouched(market, market_dir, tmp_path,
                                                                                args, message):
    cfgp = config_file(tmp_path, market_dir)
    db = tmp_path / "a.db"
    assert cli("paper", "plan", "--account", str(db), "--date", DAY, "-c", str(cfgp), "--basket",
               str(tmp_path / "b.csv")).returncode == 0
    b = pd.read_csv(tmp_path / "b.csv")
    t = market.index_of(DAY)
    export = pd.DataFrame({"资金账号": "acct-9", "证券代码": b["symbol"].str[:6], "买卖方向": "买入", "成交数量": 100,
                           "成交价格": [round(float(market.close[t, market.symbol_index[s]]), 2) for s in b["symbol"]],
                           "成交时间": "09:40:00"})
    write(tmp_path / "f.csv", export, "gb18030")
    before = db.read_bytes()
    proc = cli("paper", "execute", "--account", str(db), "--date", DAY, "-c", str(cfgp), "--fills",
               str(tmp_path / "f.csv"), *args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert [line for line in proc.stderr.splitlines() if " INFO " not in line] == [proc.stderr.splitlines()[-1]]
    assert db.read_bytes() == before


@pytest.mark.parametrize("date_cell, time_cell", [("2020/4/1", "09:31:05"), ("2020-4-1", "09:31"),
                                                  ("2020.04.01", "93105"), ("2020年04月01日", ""),
                                                  ("", "20200401093105"), ("", "2020/04/01 09:31:05")])
def test_dates_and_times_as_exports_write_them(market, setting, tmp_path, date_cell, time_cell):
    cfg, t, traded, prices, requests, day = setting
    frame = pd.DataFrame({"证券代码": traded, "买卖标志": ["买入", "买入"], "成交数量": [100, 200],
                          "成交价格": prices, "成交时间": [time_cell] * 2})
    if date_cell:
        frame.insert(0, "成交日期", [date_cell] * 2)
    got = read_fills(write(tmp_path / "d.csv", frame, "gbk"), requests, day, checks(market, cfg, t))
    assert got.profile == "tdx" and not got.dated_by_run


def test_blank_total_and_non_trade_rows_are_skipped_and_counted(market, setting, tmp_path):
    cfg, t, traded, prices, requests, day = setting
    frame = pd.DataFrame({"成交日期": ["20200401"] * 6, "证券代码": [traded[0], "", traded[1], "", "合计", traded[0]],
                          "操作": ["买入", "银行转证券", "买入", "", "", "撤单"], "成交数量": [100, 0, 200, "", 300, -200],
                          "成交均价": [prices[0], 0, prices[1], "", "", 0]})
    got = read_fills(write(tmp_path / "s.csv", frame, "gbk"), requests, day, checks(market, cfg, t))
    assert got.profile == "ths" and got.skipped_rows == 4 and sum(len(v) for v in got.by_request.values()) == 2
    # A fill whose price is missing is not skipped: refused, naming the row.
    frame.loc[0, "成交均价"] = ""
    with pytest.raises(UserError, match=r"row 2 .read as ths.: qty must be a whole number > 0 and price > 0"):
        read_fills(write(tmp_path / "s.csv", frame, "gbk"), requests, day, checks(market, cfg, t))


def test_auto_takes_the_profile_whose_side_column_holds_sides(market, setting, tmp_path):
    cfg, t, traded, prices, requests, day = setting
    frame = pd.DataFrame({"成交时间": ["09:31:05"] * 2, "证券代码": traded, "证券名称": ["甲", "乙"],
                          "买卖标志": ["证券买入"] * 2, "委托类型": ["限价委托"] * 2, "成交价格": prices,
                          "成交数量": [100, 200]})
    got = read_fills(write(tmp_path / "t.csv", frame, "gbk", "\t"), requests, day, checks(market, cfg, t))
    assert got.profile == "tdx"
    with pytest.raises(UserError, match=r"the ths profile finds no column for side \(操作\).*the tdx profile fits it"):
        read_fills(tmp_path / "t.csv", requests, day, checks(market, cfg, t), profile="ths")


def test_an_export_without_fills_is_refused_unless_said(market, setting, tmp_path):
    cfg, t, traded, prices, requests, day = setting
    path = write(tmp_path / "e.csv", pd.DataFrame(columns=["证券代码", "买卖标志", "成交数量", "成交价格", "成交时间"]))
    with pytest.raises(UserError, match="no fill rows .read as tdx.; an export made before anything traded"):
        read_fills(path, requests, day, checks(market, cfg, t))
    assert read_fills(path, requests, day, checks(market, cfg, t), allow_empty=True).by_request == {}
