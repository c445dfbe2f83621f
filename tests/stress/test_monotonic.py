"""Monotonic sanity of the execution models, through `run.py stress` on a small generated market:
more slippage never raises the return, a tighter volume cap never lowers the share of intents it cuts,
more capital never lowers participation."""
import contextlib
import io

import pandas as pd
import pytest

from ashare_sim.cli.main import main

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")


@pytest.fixture(scope="module")
def market_dir(stress_market_dir):
    return stress_market_dir


def stress(tmp_path, market_dir, grid: str) -> pd.DataFrame:
    path = tmp_path / "grid.yaml"
    path.write_text(grid)
    argv = ["stress", "-q", "--grid", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--episodes", "none",
            "--set", f"data.path={market_dir}", "--set", "strategy.top_n=8", "--set", "output.report=false",
            "--set", "strategy.factors.ic_min_periods=4", "--set", "strategy.factors.ic_window=6"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 0
    table = pd.read_csv(tmp_path / "out" / "stress.csv")
    assert (table["status"] == "ok").all()
    return table


def test_slippage_and_the_volume_cap(tmp_path, market_dir):
    t = stress(tmp_path, market_dir, "base: {broker.slippage.model: fixed_bps, broker.cash: 5e7}\n"
                                     "axes:\n  broker.slippage.bps: [0, 20, 50]\n  broker.volume_cap: [null, 0.25, 0.1, 0.05]\n")
    caps = [None, 0.25, 0.1, 0.05]
    t["cap"] = t["broker.volume_cap"].map(lambda v: None if pd.isna(v) else v)
    for cap, part in t.groupby(t["broker.volume_cap"].fillna(1.0), sort=False):
        r = part.sort_values("broker.slippage.bps")["annual_return"].to_numpy()
        assert (r[1:] <= r[:-1]).all(), f"more slippage raised the return at cap {cap}: {r}"
    for bps, part in t.groupby("broker.slippage.bps"):
        order = part.set_index(part["broker.volume_cap"].fillna(1.0)).loc[[1.0 if c is None else c for c in caps]]
        blocked = order["blocked_volume_cap"].to_numpy()
        assert blocked[0] == 0 and (blocked[1:] >= blocked[:-1]).all(), f"bps {bps}: {blocked}"
        assert blocked[-1] > 0.05                              # the 5% cap binds on this book
        assert (order["participation_max"].to_numpy()[1:] <= [0.25 + 1e-9, 0.1 + 1e-9, 0.05 + 1e-9]).all()


def test_more_capital_never_lowers_participation(tmp_path, market_dir):
    t = stress(tmp_path, market_dir, "base: {broker.slippage.model: sqrt_impact, broker.volume_cap: 0.10}\n"
                                     "axes:\n  broker.cash: [1e6, 1e7, 5e7, 2e8]\n")
    t = t.sort_values("broker.cash")
    for col in ("participation_mean", "participation_p95", "blocked_volume_cap"):
        v = t[col].to_numpy()
        assert (v[1:] >= v[:-1] - 1e-12).all(), f"{col}: {v}"
    assert t["participation_mean"].iloc[-1] > 5 * t["participation_mean"].iloc[0]
    assert t["slippage"].iloc[-1] / t["final_value"].iloc[-1] > t["slippage"].iloc[0] / t["final_value"].iloc[0]
