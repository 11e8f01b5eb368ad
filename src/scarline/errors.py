"""User-facing errors.

Everything a user can cause (bad config, bad data file, broken WAL) raises a
:class:`ScarlineError` whose message names the file, line or field. The CLI prints
the message and exits non-zero instead of showing a traceback.
"""

from __future__ import annotations


class ScarlineError(Exception):
    """An error caused by input the user can fix; ``str(err)`` is the whole message."""

    exit_code: int = 1


class ConfigError(ScarlineError):
    """A config file is unreadable, has an unknown key or a value of the wrong type."""


class DataError(ScarlineError):
    """A market data file or dataset name cannot be loaded."""


class WalError(ScarlineError):
    """The write-ahead log is missing, torn beyond recovery or fails verification."""


class MissingWalError(WalError):
    """A run directory without its ``wal/``: nothing was judged, so bad input (exit 2) from
    every command, not a failed check (1)."""

    exit_code = 2
