"""The one extension mechanism: a registry of small classes, each carrying what the rest of the
simulator needs to know about it.

    SLIPPAGE = Registry("slippage model", "broker.slippage.model")

    @SLIPPAGE.register
    class FixedBps(Model):
        name = "fixed_bps"                                  # the config value that selects it
        description = "a fixed number of basis points against the trader"
        reason = None                                       # the reason code it refuses with, if any

        @dataclass(frozen=True)
        class Params(Section):                              # its typed config keys (or no Params)
            bps: float = key(0.0, "fixed_bps: basis points against the trader", ge=0)

    SLIPPAGE.get("fixed_bps")       # the class; ConfigError with a did-you-mean for an unknown name
    "fixed_bps" in SLIPPAGE, list(SLIPPAGE)                 # names, in registration order

A registry's `section` is the config section its models' keys live in (a model's `subsection`, e.g.
`commission`, below it); config.schema assembles those sections from the models' Params, so adding a
model is one class here plus its lines in config.yaml and the docs.
"""
from __future__ import annotations

from typing import Any, ClassVar, Iterator

from ashare_sim.common.errors import ConfigError
from ashare_sim.common.text import did_you_mean


class Model:
    """Base of every registered class (see the module docstring)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    reason: ClassVar[Any] = None
    Params: ClassVar[type | None] = None
    subsection: ClassVar[str] = ""             # where its keys live below the registry's section


class Registry:
    ALL: ClassVar[list["Registry"]] = []        # every registry of the package (docs and tests walk them)

    def __init__(self, what: str, config_key: str, section: str = ""):
        self.what = what
        self.config_key = config_key            # the key whose value names a model ("" when all apply)
        self.section = section                  # the config section of its models' keys
        self._items: dict[str, type] = {}
        Registry.ALL.append(self)

    def register(self, cls: type) -> type:
        name = getattr(cls, "name", "")
        if not name or not isinstance(name, str):
            raise TypeError(f"{cls.__qualname__}: a registered {self.what} needs a `name`")
        if not str(getattr(cls, "description", "")).strip():
            raise TypeError(f"{cls.__qualname__}: a registered {self.what} needs a one-line `description`")
        if name in self._items:
            raise ValueError(f"{self.what} '{name}' registered twice")
        self._items[name] = cls
        return cls

    def get(self, name: str) -> Any:
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise ConfigError(self.config_key, f"'{name}' is not a known {self.what}; choose one of "
                                               f"{', '.join(self._items)}{did_you_mean(name, self._items)}") from None

    def classes(self) -> list[type]:
        return list(self._items.values())

    def names(self) -> list[str]:
        return list(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {', '.join(self._items)})"
