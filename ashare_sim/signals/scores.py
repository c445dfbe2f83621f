"""Model scores from a file (qlib's pred.pkl, or CSV / Parquet) and qlib's TopkDropout rule.

Step: signals from scores
  requires: a scores file (date, symbol, score: qlib's `datetime, instrument, score`), the market
  sets:     scored lists: the scores of date d trade on the next trading day (they were computed from
            d's data), one list per score date inside the run; `topk_dropout` chooses what to sell and
            buy from them and the book held at d's close (the planner calls it, since it needs the book)

TopkDropout as qlib defines it (`TopkDropoutStrategy`, method_sell="bottom", method_buy="top"): of the
names held (sorted by today's score, unscored ones last) and the best unheld ones, the `n_drop` lowest
of the two together that are held are sold, and as many of the best unheld ones are bought as keep
`topk` names; a name sells only after `hold_thresh` trading days held; names kept are not re-sized.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from loguru import logger

from ashare_sim.common.csvfile import read_csv
from ashare_sim.common.errors import UserError
from ashare_sim.common.typed import parse_date_text
from ashare_sim.rules.symbols import normalize_symbols

DATE_NAMES = ("datetime", "date", "trade_date", "signal_date")
SYMBOL_NAMES = ("instrument", "symbol", "ts_code", "code")


@dataclass(frozen=True)
class DropoutRule:
    """TopkDropout's parameters: topk = strategy.top_n, the rest from strategy.scores."""
    topk: int
    n_drop: int
    hold_thresh: int = 1
    risk_degree: float = 0.95

    @classmethod
    def of(cls, strategy) -> "DropoutRule":
        sc = strategy.scores
        return cls(int(strategy.top_n), int(sc.n_drop), int(sc.hold_thresh), float(sc.risk_degree))


@dataclass(frozen=True)
class Dropout:
    """The chosen lists of one day: names kept (not re-sized), sold, bought (in score order)."""
    keep: list[str]
    sell: list[str]
    buy: list[str]


def topk_dropout(scores: pd.Series, held: list[str], held_days: dict[str, int], topk: int, n_drop: int,
                 hold_thresh: int = 1) -> Dropout:
    """qlib's TopkDropout selection for one day. `scores`: symbol -> score (the candidates); `held`: the
    names in the book; `held_days`: trading days each has been held up to the signal close."""
    scores = scores.dropna()
    last = scores.reindex(pd.Index(held, dtype=object)).sort_values(ascending=False, kind="stable").index
    unheld = scores[~scores.index.isin(last)].sort_values(ascending=False, kind="stable")
    today = list(unheld.index[:max(n_drop + topk - len(last), 0)])
    comb = scores.reindex(last.union(pd.Index(today, dtype=object), sort=False)).sort_values(
        ascending=False, kind="stable").index
    bottom = set(comb[-n_drop:]) if n_drop > 0 else set()
    wanted_sell = [s for s in last if s in bottom]
    buy = today[:len(wanted_sell) + topk - len(last)]            # counted before the holding check, as qlib does
    sell = [s for s in wanted_sell if held_days.get(s, 0) >= hold_thresh]
    keep = [s for s in held if s not in sell]
    return Dropout(keep, sell, buy)


# ----- the file ---------------------------------------------------------------------------------------
def read_scores_file(path: str | Path, market) -> pd.DataFrame:
    """(date, symbol, score) from qlib's pred.pkl (a DataFrame indexed by datetime, instrument with a score
    column), a CSV or a Parquet file; symbols in any spelling. Rows of symbols the market lacks, and empty
    scores, are left out with one warning each; a date that is not a trading day is an error."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"strategy.scores.file {p}: no such file")
    suffix = p.suffix.lower()
    if suffix not in (".pkl", ".pickle", ".parquet", ".csv", ".txt"):
        raise UserError(f"strategy.scores.file {p}: a {suffix or 'suffix-less'} file; give qlib's pred.pkl, a .csv or "
                        "a .parquet file with columns date, symbol, score")
    try:
        if suffix in (".pkl", ".pickle"):
            raw = pd.read_pickle(p)            # the user's own pickle: pickles run code, read only your own
        elif suffix == ".parquet":
            raw = pd.read_parquet(p)
        else:
            raw = read_csv(p, "scores file")
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"strategy.scores.file {p}: cannot read it ({exc.__class__.__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}); give qlib's pred.pkl, a CSV or a "
                        "Parquet file with columns date, symbol, score") from None
    frame = raw.rename("score").to_frame() if isinstance(raw, pd.Series) else raw   # model.predict's Series
    if not isinstance(frame, pd.DataFrame):
        raise UserError(f"strategy.scores.file {p}: holds a {type(raw).__name__}, not a table of scores")
    if not isinstance(frame.index, pd.RangeIndex):            # qlib's (datetime, instrument) index
        frame = frame.reset_index()
    cols = {str(c).lower(): c for c in frame.columns}
    date_col = next((cols[n] for n in DATE_NAMES if n in cols), None)
    sym_col = next((cols[n] for n in SYMBOL_NAMES if n in cols), None)
    score_col = cols.get("score")
    missing = [name for name, c in (("date", date_col), ("symbol", sym_col), ("score", score_col)) if c is None]
    if missing:
        shown = [str(c)[:40] for c in frame.columns[:8]] + (["..."] if len(frame.columns) > 8 else [])
        raise UserError(f"strategy.scores.file {p}: no {', '.join(missing)} column (columns: {', '.join(shown)}); "
                        "expected datetime/date, instrument/symbol, score")
    dates = pd.to_datetime(frame[date_col].map(lambda v: v if isinstance(v, (pd.Timestamp, np.datetime64))
                                                 else parse_date_text(str(v))), errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise UserError(f"strategy.scores.file {p} row {row + 1}: date {frame[date_col].iloc[row]!r} is not a date; "
                        "write YYYY-MM-DD")
    symbols = normalize_symbols(frame[sym_col].astype(str), market.rules)
    score = pd.to_numeric(frame[score_col], errors="coerce")
    if len(score) and score.isna().all():
        raise UserError(f"strategy.scores.file {p}: the {score_col} column holds no numbers (e.g. "
                        f"{str(frame[score_col].iloc[0])[:40]!r}); give numeric scores")
    infinite = np.isinf(score.to_numpy(dtype=float))
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise UserError(f"strategy.scores.file {p} row {row + 1}: score {score.iloc[row]} is infinite; give finite "
                        "scores (leave a name out rather than score it inf)")
    out = pd.DataFrame({"date": dates.dt.normalize().astype("datetime64[ns]"), "symbol": symbols, "score": score})
    unknown = out["symbol"].isna() | ~out["symbol"].isin(market.symbol_index)
    if unknown.any():
        examples = ", ".join(map(str, frame.loc[unknown, sym_col].drop_duplicates().head(3)))
        logger.warning(f"scores: {int(unknown.sum()):,} rows of symbols not in the market left out (e.g. {examples})")
    empty = ~unknown & out["score"].isna()
    if empty.any():
        logger.warning(f"scores: {int(empty.sum()):,} rows without a score left out")
    out = out[~unknown & ~empty]
    if out.duplicated(["date", "symbol"]).any():
        d = out[out.duplicated(["date", "symbol"], keep=False)].iloc[0]
        raise UserError(f"strategy.scores.file {p}: {d['symbol']} has two scores on {d['date'].date()}; keep one")
    trading = pd.DatetimeIndex(market.dates.astype("datetime64[ns]"))
    outside = (out["date"] < trading[0]) | (out["date"] > trading[-1])
    if outside.any():
        logger.warning(f"scores: {int(outside.sum()):,} rows dated outside the market's data ({trading[0].date()} .. "
                       f"{trading[-1].date()}) left out (e.g. {out.loc[outside, 'date'].iloc[0].date()})")
        out = out[~outside]
    off = ~out["date"].isin(trading)
    if off.any():
        raise UserError(f"strategy.scores.file {p}: {out.loc[off, 'date'].iloc[0].date()} is not a trading day of the "
                        f"market ({market.source}); scores are dated by the close they were computed on")
    if out.empty:
        raise UserError(f"strategy.scores.file {p}: no scores left for the market's symbols and dates ({len(frame):,} "
                        "rows read); check the symbols and the dates")
    return out.sort_values(["date", "symbol"], kind="stable").reset_index(drop=True)


def scored_lists(scores: pd.DataFrame, market, start=None, end=None) -> pd.DataFrame:
    """The file's scores as lists: rebalance_date = the trading day after each score date (dates past the
    data's end are left for the next plan), inside [start, end] when given; columns rebalance_date, symbol,
    score."""
    idx = np.searchsorted(market.dates, scores["date"].to_numpy().astype("datetime64[D]")) + 1
    inside = idx < market.n_days
    out = pd.DataFrame({"rebalance_date": pd.DatetimeIndex(market.dates[idx[inside]].astype("datetime64[ns]")),
                        "symbol": scores["symbol"].to_numpy()[inside], "score": scores["score"].to_numpy()[inside]})
    if start is not None:
        out = out[out["rebalance_date"] >= pd.Timestamp(start)]
    if end is not None:
        out = out[out["rebalance_date"] <= pd.Timestamp(end)]
    return out.reset_index(drop=True)


def scores_lists(market, cfg, start=None, end=None) -> pd.DataFrame:
    """The config's scores file as lists inside [start, end] (rebalance_date, symbol, rank, score, weight):
    rule top_n gives the top strategy.top_n of each day in equal weight (traded like any list); rule
    topk_dropout keeps every score (weight NaN) for the planner to choose from with the book in hand.
    With strategy.scores.pool only names of the small-cap pool on the score date are candidates."""
    from ashare_sim.signals.targets import TARGET_COLUMNS

    sc = cfg.strategy.scores
    scores = read_scores_file(sc.file, market)
    lists = scored_lists(scores, market, start, end)
    blocks = []
    for day, rows in lists.groupby("rebalance_date", sort=True):
        rows = candidates(rows, market, cfg, market.index_of(day.date()) - 1)
        if sc.rule == "top_n":
            blocks.append(top_n_list(rows, market, int(cfg.strategy.top_n)).assign(rebalance_date=day))
        else:
            order = rows.sort_values("score", ascending=False, kind="stable")
            blocks.append(pd.DataFrame({"rebalance_date": day, "symbol": order["symbol"].to_numpy(),
                                        "rank": np.arange(1, len(order) + 1, dtype=np.int64),
                                        "score": order["score"].to_numpy(), "weight": np.nan}))
    if not blocks:
        raise UserError(f"strategy.scores.file {sc.file}: no score dates inside the run's window "
                        f"({start or 'start'} .. {end or 'end'}); widen the window or check the dates")
    return pd.concat(blocks, ignore_index=True)[TARGET_COLUMNS]


def candidates(rows: pd.DataFrame, market, cfg, t: int) -> pd.DataFrame:
    """The rows (symbol, score, ...) that may be bought on the day after t: listed at t's close and traded
    before (a price to size from), and in the small-cap pool then with strategy.scores.pool."""
    from ashare_sim.signals.universe import universe_mask
    sids = rows["symbol"].map(market.symbol_index).to_numpy()
    ok = market.is_listed[t, sids] & np.isfinite(market.last_close[t, sids])
    if cfg.strategy.scores.pool:
        ok &= universe_mask(market, t, cfg.strategy.universe)[sids]
    return rows[ok]


def top_n_list(rows: pd.DataFrame, market, top_n: int) -> pd.DataFrame:
    """The `top_n` best scores of `rows` (symbol, score) in equal weight, ties broken by the market's symbol
    order as the built-in strategy breaks them: symbol, rank, score, weight."""
    from ashare_sim.signals.composite import pick_top
    score = np.full(market.n_symbols, np.nan)
    score[rows["symbol"].map(market.symbol_index).to_numpy()] = rows["score"].to_numpy()
    chosen, ranks, weights = pick_top(score, top_n)
    return pd.DataFrame({"symbol": market.symbols[chosen].astype(str), "rank": np.asarray(ranks, np.int64),
                         "score": score[chosen], "weight": weights})
