"""The execution core's own day loop gives the Cerebro run's outputs byte for byte, across the settings a
stress grid varies (deal price, slippage, volume cap, crowd, retries, lots, resize, delay) and the ways
lists arrive (scored, a targets file, TopkDropout scores, an empty list)."""
import datetime as dt
import filecmp
import json

import pandas as pd
import pytest

from ashare_sim.backtest.run import run_backtest
from ashare_sim.config import load_config
from ashare_sim.data.market import load_market
from tests.conftest import generated_market

pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    return generated_market(tmp_path_factory, "dayloop", 80, dt.date(2019, 1, 1), dt.date(2020, 12, 31), 5)


@pytest.fixture(scope="module")
def market(market_dir):
    return load_market(market_dir)


def outputs_equal(a, b) -> None:
    """Every file of two output sets equal, but run.json's time of writing."""
    cmp = filecmp.dircmp(a, b)
    assert not cmp.left_only and not cmp.right_only, (cmp.left_only, cmp.right_only)
    files = [p.relative_to(a) for p in a.rglob("*") if p.is_file()]
    assert len(files) > 8
    for rel in files:
        left, right = (a / rel).read_bytes(), (b / rel).read_bytes()
        if rel.name == "run.json":
            left, right = (json.loads(x) for x in (left, right))
            left.pop("written"), right.pop("written")
        assert left == right, f"{rel} differs"


SETTINGS = {
    "defaults": {},
    "open_no_slippage_no_cap": {"broker.deal_price": "open", "broker.slippage.model": "fixed_bps",
                                "broker.slippage.bps": 0.0, "broker.volume_cap": None},
    "close_ticks_tight_cap": {"broker.deal_price": "close", "broker.slippage.model": "ticks",
                              "broker.slippage.ticks": 2, "broker.volume_cap": 0.01},
    "crowded": {"broker.crowd": 10, "broker.slippage.impact": 0.6},
    "no_retry_no_lots": {"broker.retry": False, "broker.lot_size": False},
    "small_capital": {"broker.cash": 200_000.0, "strategy.top_n": 10},
    "resize_hold_delay": {"strategy.resize": "hold", "strategy.signal_delay": 2},
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_the_day_loop_equals_cerebro_on_the_settings_a_grid_varies(market, market_dir, tmp_path, name):
    cfg = load_config(overrides={"data.path": str(market_dir), "backtest.start": "2020-01-01",
                                 "strategy.top_n": 20, **SETTINGS[name]})
    slow = run_backtest(market, cfg, tmp_path / "cerebro")
    fast = run_backtest(market, cfg, tmp_path / "core", signal=slow.signal if not cfg.strategy.signal_delay else None,
                        engine="core")
    assert len(slow.trades) > 20
    outputs_equal(tmp_path / "cerebro", tmp_path / "core")
    assert fast.metrics == slow.metrics


def test_the_day_loop_equals_cerebro_on_given_lists_topk_dropout_and_an_empty_list(market, market_dir, tmp_path):
    t = market.index_of("2020-03-02")
    names = list(market.symbols[:40])
    pd.DataFrame({"rebalance_date": ["2020-03-02"] * 20 + ["2020-06-01"] * 15 + ["2020-09-01"] * 5,
                  "symbol": names[:20] + names[10:25] + names[30:35]}).to_csv(tmp_path / "lists.csv", index=False)
    pd.DataFrame({"date": [str(market.date_at(i)) for i in range(t, t + 120, 20) for _ in names],
                  "symbol": names * 6, "score": [((i * 7) % 13) / 13 for i in range(240)]}).to_csv(
        tmp_path / "scores.csv", index=False)
    (tmp_path / "fn.py").write_text("import pandas as pd\n"
                                    "def lists(view):\n"
                                    "    if view.date.month % 3 == 0:\n"
                                    "        return pd.Series(dtype=float)          # an empty list: to cash\n"
                                    "    return view.scores().to_frame().head(8)\n")
    ways = {"file": {"strategy.targets_file": str(tmp_path / "lists.csv")},
            "dropout": {"strategy.scores.file": str(tmp_path / "scores.csv"), "strategy.scores.rule": "topk_dropout",
                        "strategy.top_n": 10, "strategy.scores.n_drop": 3},
            "function": {"strategy.function": f"{tmp_path / 'fn.py'}:lists"}}
    for name, extra in ways.items():
        cfg = load_config(overrides={"data.path": str(market_dir), "backtest.start": "2020-01-01", **extra})
        slow = run_backtest(market, cfg, tmp_path / f"{name}-cerebro")
        run_backtest(market, cfg, tmp_path / f"{name}-core", engine="core")
        assert len(slow.trades) > 10, name
        outputs_equal(tmp_path / f"{name}-cerebro", tmp_path / f"{name}-core")


@pytest.mark.parametrize("name", ["defaults", "crowded", "small_capital"])
def test_the_backtrader_broker_judging_a_days_orders_together_writes_what_one_at_a_time_writes(
        market, market_dir, tmp_path, monkeypatch, name):
    import ashare_sim.backtest.broker as broker
    cfg = load_config(overrides={"data.path": str(market_dir), "backtest.start": "2020-01-01",
                                 "strategy.top_n": 20, **SETTINGS[name]})
    monkeypatch.delattr(broker.AShareBroker, "send_requests")       # the strategy sends Backtrader orders
    batches = []
    execute_day = broker.ExecutionCore.execute_day
    monkeypatch.setattr(broker.ExecutionCore, "execute_day",
                        lambda self, r, t: batches.append(len(r)) or execute_day(self, r, t))
    together = run_backtest(market, cfg, tmp_path / "together")
    assert len(batches) >= 10
    monkeypatch.setattr(broker, "BATCH_MIN_ORDERS", 10**9)
    one_by_one = run_backtest(market, cfg, tmp_path / "one_by_one",
                              signal=together.signal if not cfg.strategy.signal_delay else None)
    assert len(together.trades) > 20
    outputs_equal(tmp_path / "together", tmp_path / "one_by_one")
    assert together.metrics == one_by_one.metrics


@pytest.mark.parametrize("name", ["defaults", "no_retry_no_lots", "resize_hold_delay"])
def test_the_strategys_requests_sent_without_backtrader_orders_write_what_orders_write(
        market, market_dir, tmp_path, monkeypatch, name):
    """With nothing but its own retry book listening, the engine's strategy hands its requests to the broker as
    they are; with a listener (here: a broker that takes only orders) it sends Backtrader orders. Same files."""
    from ashare_sim.backtest.broker import AShareBroker
    cfg = load_config(overrides={"data.path": str(market_dir), "backtest.start": "2020-01-01",
                                 "strategy.top_n": 20, **SETTINGS[name]})
    sent = []
    send = AShareBroker.send_requests
    monkeypatch.setattr(AShareBroker, "send_requests", lambda self, r, heard: sent.append(len(r)) or send(self, r, heard))
    direct = run_backtest(market, cfg, tmp_path / "direct")
    assert sum(sent) == len(direct.orders) > 50
    monkeypatch.delattr(AShareBroker, "send_requests")
    with_orders = run_backtest(market, cfg, tmp_path / "orders",
                               signal=direct.signal if not cfg.strategy.signal_delay else None)
    outputs_equal(tmp_path / "direct", tmp_path / "orders")
    assert direct.metrics == with_orders.metrics
