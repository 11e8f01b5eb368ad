"""scarline: self-evolving, governed, auditable trading agents.

``import scarline as sl`` gives the researcher's API (docs/api.md): ``sl.backtest``,
``sl.Strategy``, ``sl.grid``, ``sl.load_run``, ``sl.replay``, ``sl.gates``. It is loaded on
first use, so ``import scarline.events`` (and the CLI's start-up) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scarline._version import __version__

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
