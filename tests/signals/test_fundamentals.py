"""Point-in-time fundamentals against hand computations."""
import statistics

import numpy as np
import pandas as pd
import pytest

from ashare_sim.signals.fundamentals import PointInTime

# single-quarter net profit by year, Q1..Q4
SQ = {2019: [10, 12, 11, 15], 2020: [13, 12, 16, 14], 2021: [15, 18, 14, 20]}
EQUITY = {2019: [300, 310, 320, 330], 2020: [340, 360, 380, 400], 2021: [420, 440, 470, 500]}
QEND = ["03-31", "06-30", "09-30", "12-31"]


def _table(sid=0):
    rows = []
    for year, quarters in SQ.items():
        ytd = 0
        for q, sq in enumerate(quarters):
            ytd += sq
            pe = pd.Timestamp(f"{year}-{QEND[q]}")
            rows.append({"symbol": "A", "sid": sid, "period_end": pe, "ann_date": pe + pd.Timedelta(days=30),
                         "total_equity": EQUITY[year][q], "net_profit": ytd})
    return pd.DataFrame(rows)


def _snap(table, day, n=1):
    pit = PointInTime(table, n)
    pit.advance(day)
    return pit.snapshot()


def test_ttm_roe_sue_growth_by_hand():
    s = _snap(_table(), "2022-02-15")          # 2021Q4 announced 2022-01-30
    ttm, ttm_ago = 15 + 18 + 14 + 20, 13 + 12 + 16 + 14
    assert s.ttm_profit[0] == pytest.approx(ttm)
    assert s.equity[0] == 500
    assert s.avg_equity[0] == pytest.approx((500 + 400) / 2)
    assert s.ttm_profit[0] / s.avg_equity[0] == pytest.approx(67 / 450)
    assert s.growth[0] == pytest.approx((67 - 55) / 55)
    diffs = [20 - 14, 14 - 16, 18 - 12, 15 - 13, 14 - 15, 16 - 11, 12 - 12, 13 - 10]
    assert s.sue[0] == pytest.approx(6 / statistics.stdev(diffs))
    assert str(s.last_ann[0]) == "2022-01-30"


def test_only_rows_announced_strictly_before_the_day():
    t = _table()
    on_ann = _snap(t, "2022-01-30")            # the announcement day itself: not usable yet
    assert on_ann.equity[0] == 470             # still 2021Q3
    assert on_ann.ttm_profit[0] == pytest.approx(16 + 14 + 15 + 18 + 14 - 16)   # 2020Q4..2021Q3
    after = _snap(t, "2022-01-31")
    assert after.equity[0] == 500


def test_restatement_applies_from_its_own_ann_date():
    t = _table()
    restated = {"symbol": "A", "sid": 0, "period_end": pd.Timestamp("2021-09-30"),
                "ann_date": pd.Timestamp("2022-03-10"), "total_equity": 470, "net_profit": 50}
    t = pd.concat([t, pd.DataFrame([restated])], ignore_index=True)
    before = _snap(t, "2022-03-10")
    assert before.ttm_profit[0] == pytest.approx(67)
    after = _snap(t, "2022-03-11")
    # Q3 YTD 47 -> 50: SQ(Q3) = 50 - 33 = 17, SQ(Q4) = 67 - 50 = 17; TTM unchanged, SUE changes
    assert after.ttm_profit[0] == pytest.approx(15 + 18 + 17 + 17)
    diffs = [17 - 14, 17 - 16, 18 - 12, 15 - 13, 14 - 15, 16 - 11, 12 - 12, 13 - 10]
    assert after.sue[0] == pytest.approx(3 / statistics.stdev(diffs))
    assert str(after.last_ann[0]) == "2022-03-10"


def test_planted_lookahead_does_not_move_earlier_snapshots():
    t = _table()
    t2 = t.copy()
    late = t2["ann_date"] >= pd.Timestamp("2021-07-30")          # 2021Q2 onwards
    t2.loc[late, "net_profit"] *= 7.0
    t2.loc[late, "total_equity"] *= 3.0
    for day in ["2021-05-01", "2021-07-29", "2021-07-30"]:
        a, b = _snap(t, day), _snap(t2, day)
        for field in ("equity", "avg_equity", "ttm_profit", "sue", "growth"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert _snap(t, "2021-07-31").ttm_profit[0] != _snap(t2, "2021-07-31").ttm_profit[0]


def test_short_history_and_unknown_symbols():
    t = _table(sid=1)
    s = _snap(t[t["period_end"] < "2020-01-01"], "2021-01-01", n=3)   # only 2019: 4 quarters
    assert np.isnan(s.equity[0]) and s.latest_q[0] == -1 and np.isnat(s.last_ann[0])
    assert s.ttm_profit[1] == pytest.approx(48)
    assert s.avg_equity[1] == 330                  # no year-earlier equity: equity now
    assert np.isnan(s.growth[1]) and np.isnan(s.sue[1])


def test_advance_never_goes_back():
    pit = PointInTime(_table(), 1)
    pit.advance("2021-01-01")
    with pytest.raises(ValueError):
        pit.advance("2020-01-01")


def test_missing_ann_date_uses_the_statutory_deadline():
    from ashare_sim.rules import RulesTable
    from ashare_sim.signals.fundamentals import fill_ann_dates

    t = _table()
    t["ann_date"] = t["ann_date"].astype("datetime64[ns]")
    t.loc[t["period_end"] == pd.Timestamp("2021-12-31"), "ann_date"] = pd.NaT
    t.loc[t["period_end"] == pd.Timestamp("2021-06-30"), "ann_date"] = pd.NaT
    filled = fill_ann_dates(t, RulesTable.load())
    got = filled.set_index("period_end")["ann_date"]
    # deadlines from the rules table: annual report by April 30 of the next year, H1 by August 31
    assert got[pd.Timestamp("2021-12-31")] == pd.Timestamp("2022-04-30")
    assert got[pd.Timestamp("2021-06-30")] == pd.Timestamp("2021-08-31")
    assert _snap(filled, "2022-04-30").equity[0] == 470      # 2021Q4 not yet usable on its deadline day
    assert _snap(filled, "2022-05-01").equity[0] == 500


def _reference(table: pd.DataFrame, day: str, sid: int) -> dict:
    """A slow, obvious per-symbol computation to compare the vectorized state against."""
    rows = table[(table["sid"] == sid) & (table["ann_date"] < pd.Timestamp(day))]
    rows = rows.sort_values("ann_date").groupby("period_end").last()
    if rows.empty:
        return {}
    ytd = rows["net_profit"]
    qn = {pe: pe.year * 4 + (pe.month - 1) // 3 for pe in rows.index}
    by_q = {qn[pe]: (v, rows.loc[pe, "total_equity"]) for pe, v in ytd.items()}
    last = max(by_q)

    def sq(q):
        if q not in by_q:
            return np.nan
        if q % 4 == 0:
            return by_q[q][0]
        return by_q[q][0] - by_q[q - 1][0] if q - 1 in by_q else np.nan

    ttm = sum(sq(last - k) for k in range(4))
    ttm_ago = sum(sq(last - 4 - k) for k in range(4))
    diffs = np.array([sq(last - k) - sq(last - k - 4) for k in range(8)])
    ok = diffs[np.isfinite(diffs)]
    sue = diffs[0] / ok.std(ddof=1) if len(ok) >= 4 and np.isfinite(diffs[0]) and ok.std(ddof=1) > 0 else np.nan
    eq_ago = by_q[last - 4][1] if last - 4 in by_q else np.nan
    eq = by_q[last][1]
    return {"equity": eq, "ttm_profit": ttm, "sue": sue,
            "avg_equity": (eq + eq_ago) / 2 if np.isfinite(eq_ago) else eq,
            "growth": (ttm - ttm_ago) / abs(ttm_ago) if np.isfinite(ttm_ago) and ttm_ago != 0 else np.nan}


def test_vectorized_state_matches_a_per_symbol_reference():
    from tests.signals.random_market import random_frames

    f = random_frames(n_stocks=25, n_days=200, start="2020-01-01", seed=5, dividends=False)["fundamentals"]
    f = f.assign(sid=f["symbol"].str[:6].astype(int) - 600000)
    rng = np.random.default_rng(2)
    drop = rng.random(len(f)) < 0.08                        # gaps in the history
    restate = f[~drop].sample(15, random_state=1).copy()    # restatements announced later
    restate["ann_date"] += pd.Timedelta(days=40)
    restate["net_profit"] *= 1.3
    table = pd.concat([f[~drop], restate], ignore_index=True)
    pit = PointInTime(table, 25)
    for day in ["2019-06-01", "2020-03-15", "2020-06-30", "2020-09-20"]:
        pit.advance(day)
        snap = pit.snapshot()
        for sid in range(25):
            ref = _reference(table, day, sid)
            for field, want in ref.items():
                got = getattr(snap, field)[sid]
                assert (np.isnan(want) and np.isnan(got)) or got == pytest.approx(want, rel=1e-9), (day, sid, field)
