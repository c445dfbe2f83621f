"""The paper account as a SQLite ledger: schema version, migrations, one transaction per command.

    with Ledger.open(path, create=True, timeout=10) as led:     # BEGIN IMMEDIATE: the account is ours
        led.account()  ...  led.write_day(...)                  # everything in one transaction
    # committed here; an exception (or kill -9) leaves the account as it was before

A second process on the same account waits up to `timeout` seconds for the first to finish, then is
refused with a clear message. A file that is not this project's account, or one written by a newer
version (schema above SCHEMA_VERSION), is refused before anything is read or written.

Damage is noticed before anything is written: every open runs SQLite's `integrity_check` (pages and
indexes), checks the
tables and the account row, and compares the account's seal (a hash of every row, stored in `meta`
by each command that writes) with its content, so a byte changed in a value is refused as surely as a
broken page. An empty (0-byte) file is refused too, never taken for a new account.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

from ashare_sim.common.errors import UserError

APP = "ashare-smallcap-sim paper account"
SCHEMA_VERSION = 2


def _v1(db: sqlite3.Connection) -> None:
    # One statement at a time: executescript would commit the open transaction.
    for statement in _V1.split(";"):
        if statement.strip():
            db.execute(statement)


_V1 = """
    CREATE TABLE account (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, start_cash REAL NOT NULL,
        cash REAL NOT NULL, start_date TEXT NOT NULL, last_date TEXT, market TEXT NOT NULL, planner TEXT NOT NULL);
    CREATE TABLE positions (symbol TEXT PRIMARY KEY, qty INTEGER NOT NULL, cost REAL NOT NULL, opened TEXT NOT NULL,
        locked INTEGER NOT NULL, seq INTEGER NOT NULL);
    CREATE TABLE plans (date TEXT PRIMARY KEY, signal_date TEXT NOT NULL, created TEXT NOT NULL, kind TEXT NOT NULL,
        requests TEXT NOT NULL, planner TEXT NOT NULL, status TEXT NOT NULL, based_on TEXT);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, date TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
        requested_qty INTEGER NOT NULL, filled_qty INTEGER NOT NULL, price REAL, status TEXT NOT NULL,
        reason TEXT NOT NULL, rebalance_date TEXT, attempt INTEGER NOT NULL);
    CREATE TABLE fills (id INTEGER PRIMARY KEY, date TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
        qty INTEGER NOT NULL, price REAL NOT NULL, commission REAL NOT NULL, stamp_duty REAL NOT NULL,
        transfer_fee REAL NOT NULL, slippage REAL NOT NULL, kind TEXT NOT NULL, participation REAL,
        source TEXT NOT NULL);
    CREATE TABLE cash_ledger (id INTEGER PRIMARY KEY, date TEXT NOT NULL, kind TEXT NOT NULL, symbol TEXT,
        amount REAL NOT NULL, balance REAL NOT NULL);
    CREATE TABLE equity (date TEXT PRIMARY KEY, value REAL NOT NULL, cash REAL NOT NULL);
    CREATE TABLE runs (id INTEGER PRIMARY KEY, command TEXT NOT NULL, date TEXT NOT NULL, at TEXT NOT NULL,
        summary TEXT NOT NULL);
    """


def _v2(db: sqlite3.Connection) -> None:
    for statement in _V2.split(";"):
        if statement.strip():
            db.execute(statement)


# A live broker's side of a day (paper.live): every order sent, under the remark that finds it again after a
# crash, and every fill the broker reported, once by its id. Written as the broker reports, before the day
# is executed into the tables above.
_V2 = """
    CREATE TABLE broker_orders (remark TEXT PRIMARY KEY, date TEXT NOT NULL, request INTEGER NOT NULL,
        symbol TEXT NOT NULL, side TEXT NOT NULL, qty INTEGER NOT NULL, price_type TEXT NOT NULL,
        price REAL NOT NULL, state INTEGER NOT NULL, order_id INTEGER, filled INTEGER NOT NULL,
        message TEXT NOT NULL, updated TEXT NOT NULL);
    CREATE TABLE broker_fills (fill_id TEXT NOT NULL, date TEXT NOT NULL, remark TEXT, order_id INTEGER,
        symbol TEXT NOT NULL, side TEXT NOT NULL, qty INTEGER NOT NULL, price REAL NOT NULL,
        commission REAL, time TEXT NOT NULL, PRIMARY KEY (date, fill_id))
    """

# version -> the step that brings a ledger from version - 1 to it (run inside one transaction)
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1, 2: _v2}


class Ledger:
    def __init__(self, db: sqlite3.Connection, path: Path):
        self.db = db
        self.path = path

    # ----- opening -------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, create: bool = False, timeout: float = 10.0, write: bool = True) -> "Ledger":
        """Open (and with `create`, start) the account at `path`, inside a transaction.

        Whether the file is new is decided under the lock (an empty SQLite database), so two first
        commands on one path cannot both start it. A file is never deleted: a first command that fails
        leaves at most an empty database that the next `plan` starts."""
        path = Path(path)
        if path.is_dir():
            raise UserError(f"--account {path}: is a directory; give a file path for the account")
        created = not path.exists()
        if not path.exists():
            if not create:
                raise UserError(f"--account {path}: no such paper account; `paper plan` creates one")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"--account {path}: cannot create its folder ({exc.strerror}); "
                                "choose another path") from None
        try:
            db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise UserError(f"--account {path}: cannot open it ({exc}); choose another path") from None
        db.row_factory = sqlite3.Row
        led = cls(db, path)
        try:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                if not created:
                    raise UserError(f"--account {path}: an empty file ({path.stat().st_size} bytes), not a paper "
                                    "account; if a first `paper plan` was killed before it wrote anything, remove "
                                    "the file and plan again; otherwise restore the account from a backup")
                if not (create and write):
                    raise UserError(f"--account {path}: no paper account in it yet; `paper plan --date D` "
                                    "starts one")
                # The file is marked as ours in a transaction of its own: a first command that fails later
                # leaves an account file the next plan starts, never an empty file.
                db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                db.executemany("INSERT INTO meta VALUES (?, ?)",
                               [("app", APP), ("schema_version", "0"), ("created", _now())])
                db.execute("COMMIT")
                db.execute("BEGIN IMMEDIATE")
            else:
                led._check_integrity()
            led._check_and_migrate(migrate=write)     # a reader (status, tca) leaves an old account as it is
            led._check_account()
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise UserError(f"--account {path}: in use by another process (a plan or execute is running); "
                                f"waited {timeout:g} s (paper.lock_timeout): try again when it ends") from None
            raise UserError(f"--account {path}: not a paper account of this simulator ({exc})") from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise UserError(f"--account {path}: not a paper account of this simulator ({exc})") from None
        except UnicodeDecodeError:
            db.close()
            raise UserError(f"--account {path}: the file is damaged (a text value is not readable); restore the "
                            "account from a backup") from None
        except BaseException:
            db.close()
            raise
        return led

    def _check_and_migrate(self, migrate: bool = True) -> None:
        try:
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError:
            raise UserError(f"--account {self.path}: a SQLite file, but not a paper account of this simulator "
                            "(no meta table); give another path") from None
        if meta.get("app") != APP:
            raise UserError(f"--account {self.path}: a SQLite file of another program ({meta.get('app')!r}), "
                            "not a paper account of this simulator")
        version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise UserError(f"--account {self.path}: schema version {version} is newer than this code "
                            f"({SCHEMA_VERSION}); upgrade the simulator to use this account")
        for v in range(version + 1, SCHEMA_VERSION + 1 if migrate else version + 1):
            MIGRATIONS[v](self.db)
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(v),))

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                if self.db.in_transaction and self._written():
                    self._seal()
                self.db.execute("COMMIT")
            elif self.db.in_transaction:        # SQLite rolls back by itself on some errors (a full disk)
                self.db.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            if _disk_full(error):
                raise self._full() from None
            raise
        finally:
            self.db.close()
        if kind is not None and issubclass(kind, sqlite3.OperationalError) and _disk_full(exc):
            raise self._full() from None

    def checkpoint(self) -> None:
        """Commit what is written so far (sealed) and begin again: a live session records each step as the
        broker reports it. Other processes may get in between two transactions: a session also holds the
        account's lock file (`paper.live.session_lock`)."""
        try:
            if self._written():
                self._seal()
            self.db.execute("COMMIT")
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if _disk_full(error):
                raise self._full() from None
            raise

    def _full(self) -> UserError:
        return UserError(f"--account {self.path}: the disk is full; nothing was recorded (the account is as it "
                         "was): free some space and run the command again")

    # ----- integrity -------------------------------------------------------------------
    TABLES = ("meta", "account", "positions", "plans", "orders", "fills", "cash_ledger", "equity", "runs",
              "broker_orders", "broker_fills")
    V1_TABLES = TABLES[:9]              # an account of schema 1 (sealed without the broker's tables) is migrated

    def _check_integrity(self) -> None:
        """The file's pages (quick_check) and the account's seal, before anything is read or written."""
        problems = [r[0] for r in self.db.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            raise UserError(f"--account {self.path}: the file is damaged (SQLite integrity_check: {problems[0]}); "
                            "restore the account from a backup")
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" in tables:
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
            ours = meta.get("app") == APP and str(meta.get("schema_version", "0")).isdigit() \
                and int(meta.get("schema_version", "0")) <= SCHEMA_VERSION      # a newer schema is refused next
            seal = meta.get("seal")
            if ours and seal is not None and set(self.V1_TABLES) <= tables and seal != self._content_hash(tables):
                raise UserError(f"--account {self.path}: its content does not match its seal (a value was changed "
                                "outside this simulator, or the file is damaged); restore the account from a backup")

    def _check_account(self) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        wanted = self.TABLES if self.schema_version() >= 2 else self.V1_TABLES     # a reader leaves schema 1 as is
        missing = [t for t in wanted if t not in tables]
        if missing:
            raise UserError(f"--account {self.path}: the account's table(s) {', '.join(missing)} are missing; the "
                            "file is damaged: restore the account from a backup")
        started = self.db.execute("SELECT value FROM meta WHERE key = 'seal'").fetchone() is not None
        if started and self.account() is None:
            raise UserError(f"--account {self.path}: the account row is missing; the file is damaged: restore the "
                            "account from a backup")

    def _content_hash(self, present: set[str] | None = None) -> str:
        """Every row of every table (of those `present`) but the seal itself, in a fixed order."""
        h = hashlib.sha256()
        for table in self.TABLES:
            if present is not None and table not in present:
                continue
            rows = self.db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for row in rows:
                values = tuple(row)
                if table == "meta" and values[0] == "seal":
                    continue
                h.update(repr(values).encode())
            h.update(b"|")
        return h.hexdigest()

    def _seal(self) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('seal', ?)", (self._content_hash(),))

    def _written(self) -> bool:
        return self.db.total_changes > 0

    # ----- reading ---------------------------------------------------------------------
    def account(self) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM account WHERE id = 1").fetchone()
        return dict(row) if row else None

    def positions(self) -> list[dict[str, Any]]:
        # in the order they were opened: the order a rebalance sends its sells in
        return [dict(r) for r in self.db.execute("SELECT * FROM positions ORDER BY seq")]

    def plan(self, day: dt.date) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM plans WHERE date = ?", (day.isoformat(),)).fetchone()
        return dict(row) if row else None

    def rows(self, sql: str, *args) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute(sql, args)]

    def has_table(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() \
            is not None

    def schema_version(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])

    # ----- writing ----------------------------------------------------------------------
    def create_account(self, name: str, cash: float, start: dt.date, market: str) -> None:
        self.db.execute("INSERT INTO account VALUES (1, ?, ?, ?, ?, NULL, ?, ?)",
                        (name, cash, cash, start.isoformat(), market, json.dumps({"remaining": []})))
        self.db.execute("INSERT INTO cash_ledger (date, kind, symbol, amount, balance) VALUES (?, 'deposit', NULL, ?, ?)",
                        (start.isoformat(), cash, cash))

    def save_plan(self, day: dt.date, signal_day: dt.date, kind: str, requests: list[dict], planner: dict,
                  based_on: str | None) -> None:
        """`based_on`: the account's last executed day the plan was made from (a later execute makes it stale)."""
        self.db.execute("INSERT OR REPLACE INTO plans VALUES (?, ?, ?, ?, ?, ?, 'planned', ?)",
                        (day.isoformat(), signal_day.isoformat(), _now(), kind, json.dumps(requests),
                         json.dumps(planner), based_on))

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = list(rows[0])
        self.db.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                            [tuple(r[c] for c in cols) for r in rows])

    def replace_positions(self, rows: list[dict[str, Any]]) -> None:
        self.db.execute("DELETE FROM positions")
        self.insert("positions", rows)

    def update_account(self, **values: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE account SET {sets} WHERE id = 1", tuple(values.values()))

    def mark_plan(self, day: dt.date, status: str) -> None:
        self.db.execute("UPDATE plans SET status = ? WHERE date = ?", (status, day.isoformat()))

    def log_run(self, command: str, day: dt.date, summary: dict) -> None:
        self.db.execute("INSERT INTO runs (command, date, at, summary) VALUES (?, ?, ?, ?)",
                        (command, day.isoformat(), _now(), json.dumps(summary, default=str)))


def _disk_full(exc: Exception) -> bool:
    text = str(exc).lower()
    return "full" in text or "no space" in text


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")
