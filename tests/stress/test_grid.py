"""Grid files: axes are a cross product, scenarios an explicit list; every key validated up front."""
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.common.text import short_labels, value_text
from ashare_sim.config.schema import Config
from ashare_sim.stress.grid import load_grid


def grid(tmp_path, text, name="g.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_axes_are_the_cross_product_in_file_order(tmp_path):
    g = load_grid(grid(tmp_path, "axes:\n  broker.slippage.bps: [0, 10, 30]\n  broker.volume_cap: [null, 0.05]\n"
                                 "base: {broker.slippage.model: fixed_bps}\n"), Config())
    assert [s.name for s in g.scenarios] == ["bps=0,volume_cap=none", "bps=0,volume_cap=0.05", "bps=10,volume_cap=none",
                                             "bps=10,volume_cap=0.05", "bps=30,volume_cap=none", "bps=30,volume_cap=0.05"]
    assert g.varied == ["broker.slippage.bps", "broker.volume_cap"]
    last = g.scenarios[-1].cfg.broker
    assert (last.slippage.bps, last.volume_cap, last.slippage.model) == (30, 0.05, "fixed_bps")
    assert g.value(g.scenarios[0], "broker.volume_cap") is None


def test_explicit_scenarios_keep_their_names_and_numbers_read_like_set(tmp_path):
    g = load_grid(grid(tmp_path, "scenarios:\n  - {name: base}\n  - {name: big, broker.cash: 1e9}\n"
                                 "  - {name: late, strategy.signal_delay: 1}\n"), Config())
    assert [s.name for s in g.scenarios] == ["base", "big", "late"]
    assert g.scenarios[1].cfg.broker.cash == 1e9            # YAML reads 1e9 as text; the key's type decides
    assert g.varied == ["broker.cash", "strategy.signal_delay"]


def test_relative_paths_resolve_against_the_grid_folder(tmp_path):
    g = load_grid(grid(tmp_path, "scenarios:\n  - {name: a, strategy.targets_file: lists.csv}\n"), Config())
    assert g.scenarios[0].cfg.strategy.targets_file == str(tmp_path / "lists.csv")


@pytest.mark.parametrize("text, message", [
    ("axes:\n  broker.slipage.bps: [0, 10]\n", "g.yaml: axes broker.slipage.bps[0] = 0: config key 'broker.slipage': "
                                              "unknown key (did you mean 'slippage'?)"),
    ("axes:\n  broker.volume_cap: [0.1, 1.5]\n", "g.yaml: axes broker.volume_cap[1] = 1.5: config key "
                                                "'broker.volume_cap': got 1.5; must be <= 1"),
    ("axes:\n  broker.volume_cap: []\n", "g.yaml: axes broker.volume_cap: the list is empty"),
    ("axes:\n  broker.volume_cap: 0.1\n", "g.yaml: axes broker.volume_cap: expected a list of values"),
    ("axes: {}\n", "g.yaml: axes: no axis given"),
    ("axes:\n  broker.deal_price: [open, opne]\n", "did you mean 'open'?"),
    ("axes:\n  broker.crowd: [1, 1]\n", "g.yaml: axes broker.crowd: value 1 appears twice"),
    ("axes:\n  broker.crowd: [1]\nscenarios:\n  - {name: a}\n", "give either 'axes:' (a cross product) or "
                                                                "'scenarios:' (an explicit list), not both"),
    ("base: {broker.crowd: 2}\n", "found neither"),
    ("axis:\n  broker.crowd: [1]\n", "g.yaml: unknown top-level key 'axis' (did you mean 'axes'?)"),
    ("scenarios:\n  - {name: a}\n  - {name: a, broker.crowd: 2}\n", "scenario name 'a' appears twice"),
    ("scenarios:\n  - {broker.crowd: 2}\n", "g.yaml: scenarios[0]: name None: give each scenario a name"),
    ("scenarios:\n  - {name: a/b}\n", "name 'a/b'"),
    ("scenarios:\n  - {name: a, broker.cash: -1}\n", "g.yaml: scenarios[0] (a): config key 'broker.cash': got -1.0"),
    ("scenarios: []\n", "scenarios: expected a non-empty list"),
    ("axes: [1, 2\n", "g.yaml line 2: not valid YAML: expected ',' or ']'"),
    ("- 1\n- 2\n", "expected a mapping with 'axes:' or 'scenarios:'"),
    ("", "got an empty file"),
    ("scenarios:\n  - {name: a, backtest.start: 2015-13-01}\n",
     "g.yaml: scenarios[0] (a): config key 'backtest.start': got '2015-13-01'; expected a date"),
    ("axes:\n  broker.crowd: [1, 2]\nbase: {broker.crowd: 3}\n", "also set in base"),
    ("axes:\n  strategy.factors.ic_window: [6, 24]\n", "axes strategy.factors.ic_window[0] = 6: config key "
                                                      "'strategy.factors.ic_min_periods': 12 exceeds ic_window 6"),
])
def test_a_bad_grid_is_one_error_naming_the_file_and_entry(tmp_path, text, message):
    with pytest.raises(UserError) as err:
        load_grid(grid(tmp_path, text), Config())
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_missing_grid_file(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load_grid(tmp_path / "none.yaml", Config())


def test_labels_and_value_texts():
    assert short_labels(["broker.slippage.bps", "broker.volume_cap", "a.cash", "b.cash"]) == {
        "broker.slippage.bps": "bps", "broker.volume_cap": "volume_cap", "a.cash": "a.cash", "b.cash": "b.cash"}
    assert [value_text(v) for v in (None, True, 0.05, 1e9, 10_000_000, 1.5e9, 12_345_678, "vwap")] == [
        "none", "true", "0.05", "1e9", "1e7", "1.5e9", "12345678", "vwap"]
