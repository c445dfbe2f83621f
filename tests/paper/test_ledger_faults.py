"""The paper ledger notices damage before it writes, refuses empty files, and says "disk full"."""
import random
import shutil
import sqlite3

import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.paper.ledger import Ledger
from tests.paper.test_paper import cli, config_file


def _account(tmp_path, market_dir):
    cfgp = config_file(tmp_path, market_dir)
    db = tmp_path / "a.db"
    for day in ("2020-04-01", "2020-04-02"):
        assert cli("paper", "plan", "--account", str(db), "--date", day, "-c", str(cfgp)).returncode == 0
        assert cli("paper", "execute", "--account", str(db), "--date", day, "-c", str(cfgp)).returncode == 0
    return cfgp, db


def _tables(db):
    con = sqlite3.connect(db)
    try:
        tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                  for t in ("account", "positions", "orders", "fills", "cash_ledger", "equity")}
        tables["plans"] = con.execute("SELECT date, signal_date, kind, requests, planner, status, based_on "
                                      "FROM plans ORDER BY 1").fetchall()      # without the time it was made
        return tables
    finally:
        con.close()


def test_a_value_changed_outside_the_simulator_is_refused_and_nothing_is_written(market_dir, tmp_path):
    cfgp, db = _account(tmp_path, market_dir)
    con = sqlite3.connect(db)
    con.execute("UPDATE account SET cash = cash + 1000000")           # a flipped or edited value
    con.commit()
    con.close()
    before = db.read_bytes()
    for args in (["plan", "--date", "2020-04-03", "-c", str(cfgp)], ["execute", "--date", "2020-04-03", "-c", str(cfgp)],
                 ["status"]):
        proc = cli("paper", *args[:1], "--account", str(db), *args[1:])
        assert proc.returncode == 2, proc.stderr
        assert "does not match its seal" in proc.stderr and "Traceback" not in proc.stderr
    assert db.read_bytes() == before


def test_random_byte_flips_are_refused_or_change_nothing(market_dir, tmp_path):
    cfgp, db = _account(tmp_path, market_dir)
    control = tmp_path / "control.db"
    shutil.copy(db, control)
    assert cli("paper", "plan", "--account", str(control), "--date", "2020-04-03", "-c", str(cfgp)).returncode == 0
    expected = _tables(control)
    size = db.stat().st_size
    rng = random.Random(7)
    raw = db.read_bytes()
    # Half the flips anywhere past the file header, half inside live values (the plan's JSON, the symbols).
    live = [i for i in range(len(raw)) if raw.startswith((b'"qty"', b".SZ", b".SH"), i)]
    offsets = [rng.randrange(100, size) for _ in range(7)] + rng.sample(live, 7)
    outcomes = []
    for k, at in enumerate(offsets):
        flipped = tmp_path / f"flip{k}.db"
        data = bytearray(raw)
        data[at] ^= 0xFF
        flipped.write_bytes(bytes(data))
        proc = cli("paper", "plan", "--account", str(flipped), "--date", "2020-04-03", "-c", str(cfgp))
        if proc.returncode == 0:                       # the flip hit unused space: the result is the control's
            assert _tables(flipped) == expected, f"byte {at}: a damaged account was written with exit 0"
        else:
            assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
            assert flipped.read_bytes() == bytes(data), f"byte {at}: refused, but the file was changed"
        outcomes.append(proc.returncode)
    assert outcomes[7:].count(2) == 7                  # every flip inside a live value is refused


def test_an_empty_account_file_is_refused_never_restarted(market_dir, tmp_path):
    cfgp = config_file(tmp_path, market_dir)
    empty = tmp_path / "e.db"
    empty.write_bytes(b"")
    proc = cli("paper", "plan", "--account", str(empty), "--date", "2020-04-01", "-c", str(cfgp))
    assert proc.returncode == 2 and "an empty file (0 bytes), not a paper account" in proc.stderr
    assert empty.read_bytes() == b""


def test_a_first_plan_that_fails_leaves_an_account_file_the_next_plan_starts(market_dir, tmp_path, monkeypatch):
    path = tmp_path / "new.db"
    with pytest.raises(RuntimeError):
        with Ledger.open(path, create=True):
            raise RuntimeError("the first plan failed")
    assert path.stat().st_size > 0                     # marked as ours, no account yet
    cfgp = config_file(tmp_path, market_dir)
    assert cli("paper", "plan", "--account", str(path), "--date", "2020-04-01", "-c", str(cfgp)).returncode == 0


def test_a_full_disk_says_so_and_leaves_the_account_as_it_was(market_dir, tmp_path, monkeypatch):
    cfgp, db = _account(tmp_path, market_dir)
    before = _tables(db)
    real = Ledger.open.__func__

    def full(cls, *args, **kw):
        led = real(cls, *args, **kw)
        pages = led.db.execute("PRAGMA page_count").fetchone()[0]
        led.db.execute(f"PRAGMA max_page_count = {pages}")      # no room for one more page: SQLITE_FULL
        return led

    monkeypatch.setattr(Ledger, "open", classmethod(full))
    with pytest.raises(UserError, match="the disk is full; nothing was recorded"):
        with Ledger.open(db) as led:                   # a real SQLITE_FULL in the middle of a command
            led.insert("runs", [{"command": "x", "date": "2020-04-03", "at": "now", "summary": "{}" * 100000}])
    assert _tables(db) == before
    from ashare_sim.cli.main import main

    real_insert = Ledger.insert

    def insert(self, table, rows):                     # the command line: the error surfaces on a write
        real_insert(self, table, rows)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Ledger, "insert", insert)
    assert main(["paper", "execute", "--account", str(db), "--date", "2020-04-03", "-c", str(cfgp)]) == 2
    assert _tables(db) == before


def _basket_fills(tmp_path, market_dir, cfgp, db):
    """Plan 2020-04-01 with a basket; fills of half of each order as a broker would export them."""
    import pandas as pd

    from ashare_sim.data.market import load_market

    basket = tmp_path / "basket.csv"
    assert cli("paper", "plan", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp),
               "--basket", str(basket)).returncode == 0
    b = pd.read_csv(basket)
    m = load_market(market_dir)
    t = m.index_of("2020-04-01")
    price = [round(float(m.close[t, m.symbol_index[sym]]), 2) for sym in b["symbol"]]
    return b.assign(qty=b["qty"] // 2 // 100 * 100, price=price, commission=5.0, stamp_duty=0.0, transfer_fee=0.1,
                    time="2020-04-01 09:35:00")[["symbol", "side", "qty", "price", "commission", "stamp_duty",
                                                 "transfer_fee", "time"]]


def test_a_fill_row_repeated_is_refused_unless_the_user_says_it_is_real(market_dir, tmp_path):
    import pandas as pd

    cfgp = config_file(tmp_path, market_dir)
    db = tmp_path / "a.db"
    fills = _basket_fills(tmp_path, market_dir, cfgp, db)
    doubled = pd.concat([fills.iloc[:1], fills.iloc[:1]])          # an export appended twice
    doubled.to_csv(tmp_path / "dup.csv", index=False)
    before = _tables(db)
    proc = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp),
               "--fills", str(tmp_path / "dup.csv"))
    assert proc.returncode == 2 and "rows 2 and 3 are the same fill twice" in proc.stderr
    assert _tables(db) == before
    ids = doubled.assign(fill_id=["T1", "T1"])                     # the broker's ids say it is one fill
    ids.to_csv(tmp_path / "ids.csv", index=False)
    proc = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp),
               "--fills", str(tmp_path / "ids.csv"))
    assert proc.returncode == 2 and "fill id T1 (fill_id) appears twice for" in proc.stderr
    assert _tables(db) == before
    proc = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp),
               "--fills", str(tmp_path / "dup.csv"), "--allow-duplicate-fills")
    assert proc.returncode == 0, proc.stderr
    assert len(sqlite3.connect(db).execute("SELECT * FROM fills").fetchall()) == 2
    again = cli("paper", "execute", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp),
                "--fills", str(tmp_path / "dup.csv"), "--allow-duplicate-fills")
    assert again.returncode == 2 and "already executed; the fills in" in again.stderr   # never silently dropped


def test_a_basket_exists_only_for_a_plan_the_account_holds(market_dir, tmp_path):
    import subprocess
    import sys

    from tests.paper.test_paper import ROOT

    cfgp = config_file(tmp_path, market_dir)
    db, basket = tmp_path / "a.db", tmp_path / "basket.csv"
    # kill -9 inside the plan's transaction (after the plan is written, before the commit): no basket
    killed = ("import os, signal, sys\n"
              "from ashare_sim.paper import ledger\n"
              "real = ledger.Ledger.save_plan\n"
              "def save_plan(self, *a, **kw):\n"
              "    real(self, *a, **kw)\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n"
              "ledger.Ledger.save_plan = save_plan\n"
              "from ashare_sim.cli.main import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.run([sys.executable, "-c", killed, "paper", "plan", "--account", str(db), "--date", "2020-04-01",
                           "-c", str(cfgp), "--basket", str(basket)], cwd=ROOT, capture_output=True, timeout=300)
    assert proc.returncode == -9
    assert not basket.exists()
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"meta"}                          # the file is ours, with no plan in it
    assert cli("paper", "plan", "--account", str(db), "--date", "2020-04-01", "-c", str(cfgp),
               "--basket", str(basket)).returncode == 0
    assert basket.exists() and not list(tmp_path.glob(".basket*"))
