"""A user's rebalance function as a source of target lists (strategy.function, or `function=` from Python).

Step: signals from a user strategy
  requires: the function (`path/to/file.py:name` or `package.module:name`, or a callable), the schedule
            (strategy.rebalance: monthly | weekly | daily, or strategy.rebalance_dates), the window
  sets:     target lists (rebalance_date, symbol, rank, score, weight) like the scoring pipeline's: each
            day's list comes from one call on a `MarketView` cut at the close before that day

The function returns weights (a dict or Series symbol -> weight, or a DataFrame with a `weight` column),
or scores (a DataFrame with a `score` column: the `top_n` highest are held in equal weight, as the
built-in strategy does). Symbols may be written in any spelling the targets file accepts. An empty
result holds cash. A bad result is refused with the date, the symbol and the fix; an exception in the
function shows its own traceback with the rebalance date.
"""
from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd

from ashare_sim.common.errors import UserError
from ashare_sim.common.text import did_you_mean
from ashare_sim.rules.symbols import parse_symbol, suggest
from ashare_sim.signals.calendar import rebalance_schedule
from ashare_sim.signals.composite import pick_top
from ashare_sim.signals.targets import TARGET_COLUMNS, WEIGHT_TOLERANCE
from ashare_sim.signals.view import MarketView, ViewContext


class StrategyCodeError(UserError):
    """The user's own strategy code raised: the message carries its traceback (their frames only)."""


@dataclass(frozen=True)
class UserFunction:
    fn: Callable[[MarketView], Any]
    name: str                      # how the run names it: file.py:func, module:func or the callable's name

    def origin(self) -> dict:
        """Where the function came from, for metrics.json: its source file and a hash of that file's text
        (a later edit shows), when there is a file."""
        import hashlib
        import inspect
        try:
            path = Path(inspect.getsourcefile(self.fn) or "")
        except TypeError:
            return {}
        if not path.is_file():
            return {}
        return {"file": str(path.resolve()), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}


def load_function(spec: str) -> UserFunction:
    """`path/to/file.py:name` (a file, relative to the working directory unless resolved by the config)
    or `package.module:name` (importable)."""
    where, sep, name = str(spec).rpartition(":")
    if not sep or not where or not name:
        raise UserError(f"strategy.function {spec!r}: write it as path/to/file.py:function or "
                        "package.module:function")
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise UserError(f"strategy.function {spec!r}: no such file {path}")
        folder = str(path.resolve().parent)
        if folder not in sys.path:             # helper modules beside the strategy file import as they would
            sys.path.insert(0, folder)         # when the user runs the file themselves
        module_name = f"ashare_sim_user_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module          # so pickling (stress workers) and dataclasses find it
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(module_name, None)
            raise StrategyCodeError(f"strategy.function {spec!r}: loading {path} raised\n"
                                    f"{_user_traceback(exc)}") from None
        shown = f"{path.name}:{name}"
    else:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            if exc.name and where.startswith(exc.name):
                raise UserError(f"strategy.function {spec!r}: no module named {where!r} on the Python path; "
                                "give a file path (my_strategy.py:function) or install the module") from None
            raise StrategyCodeError(f"strategy.function {spec!r}: importing {where} raised\n"
                                    f"{_user_traceback(exc)}") from None
        except Exception as exc:
            raise StrategyCodeError(f"strategy.function {spec!r}: importing {where} raised\n"
                                    f"{_user_traceback(exc)}") from None
        shown = f"{where}:{name}"
    fn = getattr(module, name, None)
    if not callable(fn):
        known = [k for k, v in vars(module).items() if callable(v) and not k.startswith("_")]
        raise UserError(f"strategy.function {spec!r}: {where} has no function {name!r}{did_you_mean(name, known)}")
    return UserFunction(fn, shown)


def as_user_function(fn: Any) -> UserFunction:
    if isinstance(fn, UserFunction):
        return fn
    if isinstance(fn, str):
        return load_function(fn)
    if not callable(fn):
        raise UserError(f"function: expected a callable taking a MarketView, or 'file.py:name'; got "
                        f"{type(fn).__name__}")
    return UserFunction(fn, getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn))))


def function_schedule(market, cfg, start=None, end=None):
    """The rebalance days of the config's schedule inside [start, end] (the backtest window by default)."""
    s = cfg.strategy
    try:
        return rebalance_schedule(market.dates, start if start is not None else cfg.backtest.start,
                                  end if end is not None else cfg.backtest.end, s.rebalance, s.rebalance_dates)
    except ValueError as exc:
        raise UserError(f"strategy.rebalance_dates: {exc} ({market.source}); give trading days") from None


def is_rebalance_day(market, cfg, day: dt.date, t: int) -> bool:
    """Whether `day` (the trading day after calendar day t, perhaps past the data) is a rebalance day of
    the function's schedule."""
    s = cfg.strategy
    if s.rebalance_dates:
        return day in set(s.rebalance_dates)
    if s.rebalance == "daily":
        return True
    before = market.dates[t].astype("datetime64[D]")
    now = np.datetime64(day, "D")
    if s.rebalance == "weekly":
        return bool((now.astype(np.int64) + 3) // 7 != (before.astype(np.int64) + 3) // 7)
    return bool(now.astype("datetime64[M]") != before.astype("datetime64[M]"))


def rebalance_days_between(market, cfg, after: dt.date, before: dt.date) -> list[dt.date]:
    """The schedule's rebalance days strictly between two days (trading days of the market)."""
    sch = function_schedule(market, cfg, after + dt.timedelta(days=1), before - dt.timedelta(days=1))
    return [market.date_at(int(r)) for r in sch.rebalance]


def call_on_view(user: UserFunction, context: ViewContext, t: int, rebalance_date: dt.date) -> pd.DataFrame:
    """The list of one rebalance day: the function called on the view at signal close t, checked."""
    view = MarketView(context, t, rebalance_date)
    try:
        out = user.fn(view)
    except UserError as exc:                  # a view method refused a call: say where it was made
        raise UserError(f"strategy function {user.name} on the rebalance of {rebalance_date}: {exc}\n"
                        f"{_user_traceback(exc)}") from None
    except (Exception, SystemExit) as exc:
        raise StrategyCodeError(f"strategy function {user.name} raised on the rebalance of {rebalance_date} "
                                f"(view.date {view.date}):\n{_user_traceback(exc)}") from None
    return list_of(out, view, user.name, context.market)


def function_targets(market, cfg, fn, start=None, end=None) -> tuple[pd.DataFrame, Optional[pd.DataFrame]]:
    """(targets for every rebalance day of the schedule in the window, the list for the rebalance after
    the window's last day: targets_next.csv; None when the schedule has no later day to name)."""
    user = as_user_function(fn)
    sch = function_schedule(market, cfg, start, end)
    end_day = end if end is not None else cfg.backtest.end
    last = market.index_of(end_day, side="right") - 1 if end_day is not None else market.n_days - 1
    if not len(sch):
        s = cfg.strategy
        days = f"strategy.rebalance_dates {', '.join(map(str, s.rebalance_dates))}" if s.rebalance_dates else \
            f"the {s.rebalance} schedule"
        raise UserError(f"strategy function {user.name}: {days} has no rebalance day inside the run's window "
                        f"({start or cfg.backtest.start or market.date_at(1)} .. {market.date_at(last)}) with a close "
                        "before it; choose days inside the window (the data's first day has no close before it)")
    context = ViewContext(market, cfg, list(sch.signal) + [last])
    blocks = [call_on_view(user, context, int(t), market.date_at(int(r))) for t, r in zip(sch.signal, sch.rebalance)]
    targets = pd.concat(blocks, ignore_index=True) if blocks else empty_targets()
    following = _following_day(market, cfg, last)
    next_list = call_on_view(user, context, last, following) if following is not None else None
    return targets, next_list


def _following_day(market, cfg, t: int) -> Optional[dt.date]:
    """The schedule's first rebalance day after calendar day t (outside the data: the next month's first
    trading day for a monthly schedule, the next trading day for daily or weekly ones); None for a list
    of dates with none later."""
    s = cfg.strategy
    if s.rebalance_dates:
        later = sorted(d for d in s.rebalance_dates if d > market.date_at(t))
        return later[0] if later else None
    inside = rebalance_schedule(market.dates, market.date_at(t), None, s.rebalance)
    later = [market.date_at(int(r)) for r in inside.rebalance if r > t]
    if later:
        return later[0]
    from ashare_sim.signals.pipeline import next_rebalance_date
    if s.rebalance == "monthly":
        return next_rebalance_date(market, t)
    import exchange_calendars as xcals
    after = market.date_at(t) + dt.timedelta(days=1)
    sessions = [d.date() for d in xcals.get_calendar("XSHG").sessions_in_range(str(after), str(after + dt.timedelta(days=21)))]
    if s.rebalance == "weekly":                # the first trading day of a later week
        week = market.date_at(t).isocalendar()[:2]
        sessions = [d for d in sessions if d.isocalendar()[:2] != week]
    return sessions[0] if sessions else after


def empty_targets() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                         zip(TARGET_COLUMNS, ["datetime64[ns]", object, np.int64, float, float])})


# ----- what the function returned ---------------------------------------------------------------------
def list_of(out: Any, view: MarketView, who: str, market) -> pd.DataFrame:
    """The function's result as target rows for view.rebalance_date, or a UserError naming the date, the
    symbol and the fix."""
    where = f"strategy function {who} on the rebalance of {view.rebalance_date}"
    if out is None:
        raise UserError(f"{where}: returned None; return weights (a dict or Series symbol -> weight), a "
                        "DataFrame with a score column (the top_n are held), or {} to hold cash")
    scores = None
    if isinstance(out, pd.DataFrame):
        frame = out.set_index("symbol") if "symbol" in out.columns else out
        if "weight" in frame.columns and "score" in frame.columns:
            raise UserError(f"{where}: the DataFrame has both a weight and a score column; return weights, or "
                            "scores (the top_n are held), not both")
        if "weight" in frame.columns:
            weights = frame["weight"]
        elif "score" in frame.columns:
            scores = frame["score"]
        else:
            raise UserError(f"{where}: the DataFrame has neither a weight nor a score column (columns: "
                            f"{', '.join(map(str, out.columns)) or 'none'}); add one")
    elif isinstance(out, pd.Series):
        weights = out
    elif isinstance(out, dict):
        weights = pd.Series(out, dtype=object)
    else:
        raise UserError(f"{where}: returned {type(out).__name__}; return a dict or Series symbol -> weight, or a "
                        "DataFrame with a weight or score column")
    listed = set(view.symbols)
    values = scores if scores is not None else weights
    symbols = []
    for raw in values.index:
        sym = parse_symbol(raw, market.rules)
        if sym is None or sym not in market.symbol_index:
            raise UserError(f"{where}: {raw!r} is not a stock of the market{suggest(str(raw), view.symbols)}; "
                            "return symbols such as 600000.SH")
        if sym not in listed:
            raise UserError(f"{where}: {sym} is not listed at the close of {view.date} (not yet listed, or "
                            "delisted); choose among view.symbols")
        symbols.append(sym)
    if len(set(symbols)) != len(symbols):
        dup = pd.Series(symbols)[pd.Series(symbols).duplicated()].iloc[0]
        raise UserError(f"{where}: {dup} appears twice; give each symbol once")
    for sym, v in zip(symbols, values):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            what = "weight" if scores is None else "score"
            raise UserError(f"{where}: {what} {v!r} for {sym} is not a number; give {what}s as numbers")
    numbers = np.asarray([float(v) for v in values], dtype=float)
    if scores is not None:
        return _top_by_score(numbers, symbols, view, market)
    for sym, w in zip(symbols, numbers):
        if not np.isfinite(w) or w < 0:
            raise UserError(f"{where}: weight {w} for {sym}; weights are fractions of the book, 0 <= w <= 1 "
                            "(no short selling in this simulator)")
    total = float(numbers.sum()) if len(numbers) else 0.0
    if total > 1 + WEIGHT_TOLERANCE:
        raise UserError(f"{where}: weights sum to {total:.6g}, more than the whole book; scale them to sum to "
                        "at most 1 (the rest is held in cash)")
    keep = numbers > 0
    order = np.argsort(-numbers[keep], kind="stable")
    syms, w = np.asarray(symbols, dtype=object)[keep][order], numbers[keep][order]
    return pd.DataFrame({"rebalance_date": pd.Timestamp(view.rebalance_date), "symbol": syms.astype(str),
                         "rank": np.arange(1, len(syms) + 1, dtype=np.int64), "score": np.nan,
                         "weight": w})[TARGET_COLUMNS]


def _top_by_score(numbers: np.ndarray, symbols: list[str], view: MarketView, market) -> pd.DataFrame:
    """Scores -> the top_n in equal weight, ties broken by symbol order, exactly as the built-in strategy
    picks (signals.composite.pick_top on the market's symbol order)."""
    score = np.full(market.n_symbols, np.nan)
    for sym, v in zip(symbols, numbers):
        score[market.symbol_index[sym]] = v
    chosen, ranks, weights = pick_top(score, view.top_n)
    return pd.DataFrame({"rebalance_date": pd.Timestamp(view.rebalance_date),
                         "symbol": market.symbols[chosen].astype(str), "rank": np.asarray(ranks, np.int64),
                         "score": score[chosen], "weight": weights})[TARGET_COLUMNS]


def _user_traceback(exc: BaseException) -> str:
    """The traceback from the user's first frame on (the simulator's frames that called it left out;
    anything it called, ours included, kept)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = str(Path(__file__).resolve().parents[1])
    first = next((i for i, f in enumerate(frames)
                  if not f.filename.startswith(ours) and "importlib" not in f.filename
                  and not f.filename.startswith("<frozen")), len(frames))    # none (a syntax error): no frames
    lines = traceback.format_list(frames[first:]) + traceback.format_exception_only(type(exc), exc)
    return "Traceback (most recent call last):\n" + "".join(lines).rstrip()
