"""What every execution model is given: its own parameters and the market it trades in (`Env`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ashare_sim.common.registry import Model, Registry
from ashare_sim.common.typed import params_of


@dataclass(frozen=True)
class Env:
    """What a model may read besides its parameters."""
    market: Any                 # data.market.Market (None when only describing)
    rules: Any                  # rules.RulesTable
    crowd: int = 1              # broker.crowd: similar funds trading the same lists on the same days
    deal: Any = None            # the deal price model (strict price limits test the deal price)


class ExecutionModel(Model):
    """A model of the execution core. `build` makes it from its parameters (None when they switch it off);
    `describe` says in one line what it assumes, for the execution-assumptions block."""

    @classmethod
    def build(cls, params: Any, env: Env) -> "ExecutionModel | None":
        return cls(params, env)

    @classmethod
    def describe(cls, params: Any, rules: Any) -> str:
        return cls.description

    def __init__(self, params: Any = None, env: Env | None = None):
        self.params = params
        self.env = env


def model_params(cls: type, broker: Any) -> Any:
    """The model's `Params` from the broker config (its keys live in `broker.<subsection>`)."""
    if cls.Params is None:
        return None
    section = broker
    for part in filter(None, cls.subsection.split(".")):
        section = getattr(section, part)
    return params_of(cls, section)


def build_all(registry: Registry, broker: Any, env: Env) -> list:
    """Every model of `registry` its parameters switch on, in registration order."""
    built = (cls.build(model_params(cls, broker), env) for cls in registry.classes())
    return [m for m in built if m is not None]


def build_chosen(registry: Registry, name: str, broker: Any, env: Env) -> Any:
    """The model of `registry` the config names."""
    cls = registry.get(name)
    return cls.build(model_params(cls, broker), env)


def describe_chosen(registry: Registry, name: str, broker: Any, rules: Any) -> str:
    cls = registry.get(name)
    return cls.describe(model_params(cls, broker), rules)
