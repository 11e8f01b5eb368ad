"""scarline: self-evolving, governed, auditable trading agents.

``import scarline as sl`` gives the researcher's API (docs/api.md): ``sl.backtest``,
``sl.Strategy``, ``sl.grid``, ``sl.load_run``, ``sl.replay``, ``sl.gates``. It is loaded on
first use, so ``import scarline.events`` (and the CLI's start-up) stays light.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from scarline._version import __version__

# OpenMP's idle threads (torch's intra-op pool) spin for a while after every parallel torch
# op by default, on the cores the compiled kernels' own threads need (learning/row_split.py):
# the N = 4096 learning arena ran ~20 % faster with them asleep at once, inference and
# torch's own update no slower. Read when torch loads, so set here, before any module of the
# package imports it; a user's own setting wins (docs/architecture.md, "Compiled passes").
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if TYPE_CHECKING:
    from scarline.api import (
        GateReport,
        Observation,
        ReplayResult,
        Result,
        Strategy,
        gates,
        load_run,
        replay,
    )
    from scarline.api.backtest import Grid, backtest, grid  # the function, not its module

__all__ = [
    "GateReport",
    "Grid",
    "Observation",
    "ReplayResult",
    "Result",
    "Strategy",
    "__version__",
    "backtest",
    "gates",
    "grid",
    "load_run",
    "replay",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from scarline import api

        return getattr(api, name)
    raise AttributeError(f"module 'scarline' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The lazy API too, so a notebook's tab completion offers ``sl.backtest``."""
    return sorted({*globals(), *__all__})
