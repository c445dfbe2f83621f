"""User-facing errors: one clear line naming the file / key / row and the fix.

The CLI turns a `UserError` into that line on stderr and exit status 2; anything
else is a bug and exits 1 (with a traceback under --debug).
"""
from __future__ import annotations


class UserError(Exception):
    """Bad usage, config or data. The message is shown to the user as is."""


class ConfigError(UserError):
    """A config key is unknown, mistyped or out of range."""

    def __init__(self, key_path: str, message: str):
        self.key_path = key_path
        self.detail = message
        super().__init__(f"config key '{key_path}': {message}")

    def within(self, section: str) -> "ConfigError":
        """The same error with the key path of the section it was found in put in front."""
        return ConfigError(f"{section}.{self.key_path}" if section else self.key_path, self.detail)


class DataError(UserError):
    """The market data directory is unreadable or inconsistent."""


def unopenable(label: str, path, exc: OSError, want: str, hint: str = "") -> UserError:
    """The one wording for a file the user named that cannot be opened: `label` names where it was
    given ("--fills", "rules table", ...), `want` what to give instead ("a YAML file")."""
    if isinstance(exc, FileNotFoundError):
        return UserError(f"{label} {path}: no such file{hint}")
    if isinstance(exc, IsADirectoryError):
        return UserError(f"{label} {path}: is a directory; give {want}")
    return UserError(f"{label} {path}: cannot be read ({exc.strerror or exc.__class__.__name__})")
