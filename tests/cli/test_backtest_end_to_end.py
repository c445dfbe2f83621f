"""`run.py backtest` end to end on a small generated market: every output file (docs/outputs.md), its columns, determinism."""
import datetime as dt
import json
import re

import pandas as pd
import pytest

from ashare_sim.cli.main import main

generator = pytest.importorskip("ashare_sim.data.synthetic.generator")
pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")

SPEC_COLUMNS = {
    "equity.csv": ["date", "value", "cash", "benchmark"],
    "orders.csv": ["date", "symbol", "side", "requested_qty", "filled_qty", "price", "status", "reason"],
    "trades.csv": ["date", "symbol", "side", "qty", "price", "commission", "stamp_duty", "transfer_fee", "slippage"],
    "targets.csv": ["rebalance_date", "symbol", "rank", "score", "weight"],
    "holdings.csv": ["date", "symbol", "qty", "sellable_qty", "close", "value"],
}
SPEC_METRICS = ["annual_return", "benchmark_annual_return", "excess_annual_return", "max_drawdown",
                "excess_max_drawdown", "information_ratio", "tracking_error", "monthly_win_rate", "sharpe",
                "annual_turnover", "total_costs", "by_year"]
REASONS = {"limit_up", "limit_down", "suspended", "t_plus_1", "lot_size", "cash", "volume_cap", "delisted",
           "no_position"}


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "market"
    generator.generate_market(out, stocks=200, start=dt.date(2016, 1, 1), end=dt.date(2018, 12, 31), seed=3)
    return out


def run(market_dir, out, *extra):
    return main(["backtest", "--out", str(out), "--set", f"data.path={market_dir}",
                 "--set", "backtest.start=2017-01-01", "--set", "backtest.end=2018-12-31",
                 "--set", "strategy.top_n=20", "--set", "broker.cash=2000000", *extra])


@pytest.fixture(scope="module")
def outputs(market_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e_out") / "run"
    assert run(market_dir, out) == 0
    return out


def test_every_spec_file_with_its_columns(outputs):
    for name, cols in SPEC_COLUMNS.items():
        df = pd.read_csv(outputs / name)
        assert list(df.columns[: len(cols)]) == cols, name
        assert len(df) > 0, name
        date_col = "rebalance_date" if name == "targets.csv" else "date"
        assert df[date_col].astype(str).str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), name


def test_orders_and_trades_follow_the_contract(outputs):
    orders = pd.read_csv(outputs / "orders.csv")
    assert set(orders["status"]) <= {"filled", "partial", "rejected"}
    assert set(orders["side"]) <= {"buy", "sell"}
    assert set(orders["reason"].dropna()) <= REASONS
    assert orders.loc[orders["status"] == "filled", "reason"].isna().all()
    assert (orders["filled_qty"] <= orders["requested_qty"]).all()
    trades = pd.read_csv(outputs / "trades.csv")
    assert (trades[["commission", "stamp_duty", "transfer_fee", "slippage"]] >= 0).all().all()
    assert (trades.loc[trades["side"] == "buy", "stamp_duty"] == 0).all()        # sell-side duty since 2008
    fills = trades[trades.get("kind", "fill") == "fill"] if "kind" in trades else trades
    assert (fills["commission"] >= 5.0 - 1e-9).all()                            # the 5 CNY minimum


def test_equity_value_is_cash_plus_positions_and_starts_at_cash(outputs):
    eq = pd.read_csv(outputs / "equity.csv")
    assert eq["date"].iloc[0] >= "2017-01-01" and eq["date"].iloc[-1] <= "2018-12-31"
    assert eq["value"].iloc[0] == pytest.approx(2_000_000, rel=0.05)   # day one trades at the open, values at the close
    assert eq["benchmark"].notna().any()
    holdings = pd.read_csv(outputs / "holdings.csv")
    last = holdings[holdings["date"] == holdings["date"].max()]
    row = eq[eq["date"] == last["date"].iloc[0]].iloc[0]
    assert row["value"] == pytest.approx(row["cash"] + last["value"].sum(), rel=1e-6)
    assert (holdings["sellable_qty"] <= holdings["qty"]).all()


def test_metrics_json_has_the_spec_keys_and_factor_analytics(outputs):
    m = json.loads((outputs / "metrics.json").read_text())
    for key in SPEC_METRICS:
        assert key in m, key
    assert m["by_year"] and {"year", "information_ratio", "tracking_error"} <= set(m["by_year"][0])
    assert m["benchmark_label"] == "Small-cap pool (equal weight)"
    assert "composite" in m["factors"]["ic"] or "composite" in m["factors"]
    targets = pd.read_csv(outputs / "targets.csv")
    assert targets.groupby("rebalance_date").size().max() <= 20
    assert targets.groupby("rebalance_date")["weight"].sum().round(6).eq(1).all()


def test_report_is_self_contained(outputs):
    html = (outputs / "report.html").read_text()
    assert "Small-cap pool" in html and "Composite RankIC" in html
    assert not re.search(r"(src|href)=\"https?://", html)


def test_same_inputs_same_outputs(market_dir, outputs, tmp_path):
    assert run(market_dir, tmp_path / "again", "--set", "output.report=false") == 0
    for name in [*SPEC_COLUMNS, "metrics.json"]:
        assert (tmp_path / "again" / name).read_bytes() == (outputs / name).read_bytes(), name


def test_terminal_summary_names_the_headline_figures(market_dir, tmp_path, capsys):
    assert run(market_dir, tmp_path / "s", "--set", "output.report=false") == 0
    text = capsys.readouterr().out
    assert "annual return" in text and "Small-cap pool (equal weight)" in text and "IR " in text
    assert "report.html" not in text          # not written, not announced


def test_factor_analytics_beside_the_outputs(outputs):
    files = sorted(p.name for p in (outputs / "factors").iterdir())
    assert files == ["factor_ic.csv", "factor_weights.csv", "ic_summary.csv", "portfolio_returns.csv",
                     "quintile_returns.csv", "universe_size.csv"]
    size = pd.read_csv(outputs / "factors" / "universe_size.csv")
    assert size["signal_date"].is_monotonic_increasing and (size.iloc[:, 1] > 0).all()


def test_targets_next_is_the_list_for_the_rebalance_after_the_run(outputs):
    nxt = pd.read_csv(outputs / "targets_next.csv")
    assert list(nxt.columns) == SPEC_COLUMNS["targets.csv"]
    assert nxt["rebalance_date"].nunique() == 1 and nxt["rebalance_date"].iloc[0] == "2019-01-02"  # XSHG, after 2018
    assert len(nxt) == 20 and nxt["rank"].tolist() == list(range(1, 21))
    assert nxt["weight"].sum() == pytest.approx(1.0)
    held = pd.read_csv(outputs / "targets.csv")
    assert held["rebalance_date"].max() < "2019-01-02"
