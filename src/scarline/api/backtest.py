"""``scarline.backtest``: your strategies (and any configured agents) in one normal run.

Every keyword wins over ``config``; the run is a normal run directory (WAL, manifest,
equity.parquet, trades.parquet), so ``replay``, ``gates`` and the ledger work on it. Each
strategy instance (or :class:`Grid`) becomes a ``kind = "python"`` group naming the class and
the file that defines it, which the run records and replay re-imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scarline.agents.strategy import ParamValue, Strategy
from scarline.agents.strategy_loader import source_file
from scarline.api.data_input import frame_source
from scarline.api.result import Result
from scarline.config import Calendar, RunConfig, load_config, validate_config
from scarline.errors import ConfigError
from scarline.runner import execute_run


@dataclass(frozen=True)
class Grid:
    """A parameter grid of one strategy class: one agent per combination, in one kernel."""

    strategy: type[Strategy]
    grid: dict[str, list[ParamValue]]
    params: dict[str, ParamValue] = field(default_factory=dict)

    @property
    def size(self) -> int:
        n = 1
        for values in self.grid.values():
            n *= len(values)
        return n


def grid(strategy: type[Strategy], **values: Sequence[ParamValue] | ParamValue) -> Grid:
    """``grid(SmaCross, fast=[5, 10], slow=[30, 50])``: 4 agents; a scalar is a fixed param.
    A list, tuple, ``range`` or 1-D numpy array is a parameter's values (numpy numbers as
    Python numbers, so the config records them)."""
    lists: dict[str, list[ParamValue]] = {}
    fixed: dict[str, ParamValue] = {}
    for name, value in values.items():
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                raise ConfigError(f"grid {name}: a 1-D array of values, not shape {value.shape}")
            value = value.tolist()
        if isinstance(value, list | tuple | range):
            lists[name] = [_plain(name, v) for v in value]
        else:
            fixed[name] = _plain(name, value)
    return Grid(strategy, lists, fixed)


def _plain(name: str, value: object) -> ParamValue:
    """A parameter value as the config holds it (numpy scalars become Python numbers)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    raise ConfigError(f"grid {name}: {value!r} is not a parameter value (a number, string or bool)")


def _group(item: Strategy | Grid, where: str) -> dict[str, Any]:
    cls = item.strategy if isinstance(item, Grid) else type(item)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(f"{where}: expected a scarline.Strategy instance or grid(...)")
    cls.form()  # exactly one of signals / decide
    group: dict[str, Any] = {
        "kind": "python",
        "strategy": f"{cls.__module__}:{cls.__qualname__}",
        "path": str(source_file(cls)),
    }
    if isinstance(item, Grid):
        group |= {"params": dict(item.params), "grid": dict(item.grid)}
    else:
        group["params"] = dict(item.params)
    return group


def _base_config(config: str | Path | dict[str, Any] | RunConfig | None) -> RunConfig:
    if config is None:
        return RunConfig(report=False)
    if isinstance(config, RunConfig):
        return config
    if isinstance(config, dict):
        return validate_config(config, "config")
    return load_config(config)


def backtest(
    data: pd.DataFrame | str | Path,
    strategies: Sequence[Strategy | Grid] = (),
    config: str | Path | dict[str, Any] | RunConfig | None = None,
    *,
    cash: float | None = None,
    fees_bps: float | None = None,
    slippage_bps: float | None = None,
    calendar: Calendar | None = None,
    out_dir: str | Path = "runs",
    run_id: str | None = None,
    seed: int | None = None,
    report: bool | None = None,
) -> Result:
    """Run ``strategies`` on ``data`` (a DataFrame, a file path or a dataset name such as
    ``"sp500"``) and return the :class:`~scarline.api.result.Result`.

    ``strategies`` replace the config's agents when given (else the config's run);
    ``cash``, ``fees_bps``, ``slippage_bps``, ``calendar`` (``"exchange"`` or ``"24/7"``:
    how the statistics annualize), ``seed`` and ``report`` override the config.
    """
    cfg = _base_config(config)
    out = Path(out_dir)
    # anything but a path or a name is a frame: frame_source refuses what is not a DataFrame
    source = str(data) if isinstance(data, str | Path) else str(frame_source(data, out))
    overrides: dict[str, Any] = {"data.source": source}
    if not isinstance(data, str | Path):  # a frame: the config's dates were for its own data
        overrides |= {"data.start": None, "data.end": None}
    if cash is not None:
        overrides["accounts.initial_cash"] = cash
    if fees_bps is not None:
        overrides["execution.fees.bps"] = fees_bps
    if slippage_bps is not None:
        overrides["execution.slippage.fixed_bps"] = slippage_bps
    if calendar is not None:
        overrides["data.calendar"] = calendar
    if seed is not None:
        overrides["seed"] = seed
    if report is not None:
        overrides["report"] = report
    cfg = cfg.with_overrides(**overrides)
    if strategies:
        groups = [_group(s, f"strategies[{i}]") for i, s in enumerate(strategies)]
        raw = cfg.model_dump(mode="json")
        raw["agents"] = groups
        cfg = validate_config(raw, "strategies")
    summary = execute_run(cfg, run_id=run_id, out_dir=out)
    return Result(summary.run_dir)
