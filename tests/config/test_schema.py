"""Typed config: defaults, documentation, validation messages, --set overrides."""
import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from ashare_sim.common.errors import ConfigError, UserError
from ashare_sim.common.typed import field_paths, to_plain
from ashare_sim.config import Config, load_config, parse_override, with_overrides
from ashare_sim.resources import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_yaml_equals_the_schema_defaults():
    # A shipped file's relative paths resolve against the working directory; apart from that it is the schema.
    shipped = to_plain(load_config("default"))
    assert shipped["data"]["path"] == str(Path.cwd() / "data" / "synthetic")
    assert shipped["output"]["dir"] == str(Path.cwd() / "out")
    shipped["data"]["path"], shipped["output"]["dir"] = "data/synthetic", "out"
    assert shipped == to_plain(Config())


def test_every_key_is_documented_in_config_yaml():
    text = DEFAULT_CONFIG.read_text()
    for path in field_paths(Config):
        leaf = path.split(".")[-1]
        line = next((ln for ln in text.splitlines() if re.match(rf"\s*{leaf}:", ln)), None)
        assert line is not None, f"{path} missing from config.yaml"
        assert "#" in line, f"{path} has no comment in config.yaml"


def test_defaults_are_the_realistic_execution():
    cfg = Config()
    assert cfg.data.path == "data/synthetic"
    assert cfg.strategy.top_n == 50 and cfg.strategy.targets_file is None
    assert cfg.broker.cash == 10_000_000 and cfg.broker.deal_price == "vwap"
    assert cfg.broker.limit_rule == "strict" and cfg.broker.volume_cap == 0.10 and cfg.broker.retry is True
    assert cfg.broker.slippage.model == "sqrt_impact" and cfg.broker.slippage.impact == 0.3
    assert cfg.broker.dividend_tax is True
    assert cfg.broker.commission.rate == 0.0003 and cfg.broker.commission.min == 5.0
    assert cfg.broker.stamp_duty == "schedule" and cfg.broker.transfer_fee == "schedule"
    assert (cfg.backtest.start, cfg.backtest.end) == (None, None)      # the market's (or the lists') span


def test_study_preset_is_the_studys_idealised_execution():
    cfg = load_config("configs/study.yaml")
    b = cfg.broker
    assert (b.deal_price, b.slippage.model, b.slippage.bps, b.volume_cap) == ("open", "fixed_bps", 0.0, None)
    round_trip = 2 * b.commission.rate + float(b.stamp_duty) + 2 * float(b.transfer_fee)
    assert round_trip == pytest.approx(0.003) and b.commission.min == 0 and b.dividend_tax is False
    assert to_plain(cfg.strategy) == to_plain(Config().strategy)     # the same strategy, only execution differs


def test_end_before_start_is_refused():
    with pytest.raises(ConfigError, match="backtest.end': 2022-12-31 is before start 2023-01-01"):
        load_config(None, ["backtest.start=2023-01-01", "backtest.end=2022-12-31"])


@pytest.mark.parametrize("override, message", [
    ("broker.volume_kap=0.1", "broker.volume_kap': unknown key (did you mean 'volume_cap'?)"),
    ("brokr.cash=1", "brokr': unknown key (did you mean 'broker'?)"),
    ("broker.cash=-5", "broker.cash': got -5.0; must be > 0"),
    ("broker.volume_cap=1.5", "broker.volume_cap': got 1.5; must be <= 1"),
    ("broker.cash=lots", "broker.cash': got 'lots'; expected a number"),
    ("broker.deal_price=opn", "choose one of open, close, vwap (did you mean 'open'?)"),
    ("broker.retry=maybe", "broker.retry': got 'maybe'; expected true or false"),
    ("backtest.start=yesterday", "expected a date YYYY-MM-DD"),
    ("strategy.top_n=2.5", "expected a whole number"),
    ("strategy.factors.use=[roe, sizee]", "unknown factor 'sizee' (did you mean 'size'?)"),
    ("broker.stamp_duty=sometimes", "broker.stamp_duty"),
])
def test_bad_values_name_the_key_and_value(override, message):
    with pytest.raises(ConfigError) as exc:
        load_config(None, [override])
    assert message in str(exc.value)


def test_set_overrides_parse_yaml_and_validate():
    cfg = load_config(None, ["broker.volume_cap=null", "broker.slippage.bps=30", "broker.stamp_duty=0.002",
                             "backtest.start=2015-01-01"])
    assert cfg.broker.volume_cap is None
    assert cfg.broker.slippage.bps == 30.0
    assert cfg.broker.stamp_duty == 0.002
    assert cfg.backtest.start == dt.date(2015, 1, 1)


def test_override_without_equals_is_a_user_error():
    with pytest.raises(UserError, match="expected KEY=VALUE"):
        parse_override("broker.cash")


def test_errors_from_a_file_name_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"broker": {"cash": 0}}))
    with pytest.raises(ConfigError, match=r"c\.yaml: config key 'broker.cash'"):
        load_config(path)


def test_invalid_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("broker:\n  cash: [1,\n")
    with pytest.raises(UserError, match=r"c\.yaml line \d+: not valid YAML"):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(UserError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_with_overrides_for_stress_grids():
    cfg = with_overrides(Config(), {"broker.slippage.bps": 10, "broker.volume_cap": 0.05})
    assert cfg.broker.slippage.bps == 10 and cfg.broker.volume_cap == 0.05
    with pytest.raises(ConfigError, match="did you mean 'bps'"):
        with_overrides(Config(), {"broker.slippage.bp": 10})


def test_yaml_off_is_the_word_off_not_false(tmp_path):
    # YAML 1.1 parses a bare `off` as false; the choice `off` must still work unquoted.
    assert load_config(None, ["broker.limit_rule=off"]).broker.limit_rule == "off"
    path = tmp_path / "c.yaml"
    path.write_text("broker:\n  limit_rule: off\n")
    assert load_config(path).broker.limit_rule == "off"
    with pytest.raises(ConfigError, match="choose one of"):
        load_config(None, ["broker.deal_price=off"])


def test_set_values_take_the_type_of_their_key():
    cfg = load_config(None, ["broker.cash=1e7", "data.path=no", "strategy.targets_file=off",
                             "broker.stamp_duty=1e-3", "backtest.start=20190301"])
    assert cfg.broker.cash == 10_000_000.0                  # YAML 1.1 reads 1e7 as text; the key wants a number
    assert cfg.data.path == "no" and cfg.strategy.targets_file == "off"   # text keys keep the text, not false
    assert cfg.broker.stamp_duty == 0.001
    assert cfg.backtest.start == dt.date(2019, 3, 1)
    assert load_config(None, ["strategy.targets_file=null"]).strategy.targets_file is None


def test_relative_paths_in_a_config_file_resolve_against_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "c.yaml").write_text("data:\n  path: market\nstrategy:\n  targets_file: lists.csv\n"
                                   "output:\n  dir: /abs/out\n")
    monkeypatch.chdir(tmp_path)
    cfg = load_config(folder / "c.yaml", ["rules.table=mine.yaml"])
    assert cfg.data.path == str(folder / "market") and cfg.strategy.targets_file == str(folder / "lists.csv")
    assert cfg.output.dir == "/abs/out"
    assert cfg.rules.table == "mine.yaml"                    # --set: relative to the working directory


def test_absurd_cash_is_refused_with_the_range():
    with pytest.raises(ConfigError, match="config key 'broker.cash': got 1e\\+308; must be <= 1e\\+12"):
        load_config(None, ["broker.cash=1e308"])


def test_1e7_in_a_file_is_a_number_as_on_the_command_line(tmp_path):
    (tmp_path / "c.yaml").write_text("broker:\n  cash: 1e7\n")
    assert load_config(tmp_path / "c.yaml").broker.cash == 1e7
