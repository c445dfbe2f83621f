"""Registries of extension points: a new model is one class with `@REGISTRY.register` plus its config entry.

    SLIPPAGE = Registry("slippage model", "broker.slippage.model")

    @SLIPPAGE.register("fixed_bps")
    class FixedBps: ...

    SLIPPAGE.get("fixed_bps")       # the class; ConfigError with a did-you-mean for an unknown name
"""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

from ashare_sim.common.errors import ConfigError
from ashare_sim.common.text import did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str, config_key: str):
        self.what = what
        self.config_key = config_key
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.what} '{name}' registered twice")
            self._items[name] = item
            return item
        return add

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            hint = did_you_mean(name, self._items)
            raise ConfigError(self.config_key, f"'{name}' is not a known {self.what}; choose one of "
                                               f"{', '.join(self._items)}{hint}") from None

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items
