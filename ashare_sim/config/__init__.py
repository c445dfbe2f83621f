"""The typed configuration: the schema (config.schema) and how a config is loaded (config.load)."""
from ashare_sim.config.load import (
    config_file,
    load_config,
    parse_override,
    with_overrides,
)
from ashare_sim.config.schema import BrokerConfig, Config

__all__ = ["BrokerConfig", "Config", "config_file", "load_config", "parse_override", "with_overrides"]
