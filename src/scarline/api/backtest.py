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

from scarline.agents.strategy import ParamValue, Strategy, param_value
from scarline.agents.strategy_loader import source_file, spec_of
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
    if not (isinstance(strategy, type) and issubclass(strategy, Strategy)):
        raise ConfigError(
            f"grid: expected a scarline.Strategy subclass (the class, not an instance), "
            f"got {strategy!r}"
        )
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
    """A parameter value as the config holds it (numpy scalars become Python numbers; NaN,
    ±inf and other types refused in one line, not pydantic's four)."""
    try:
        return param_value("grid", name, value)
    except TypeError:
        raise ConfigError(
            f"grid {name}: {value!r} is not a parameter value (a number, string or bool)"
        ) from None
    except ValueError as err:
        raise ConfigError(str(err)) from None


def _group(item: object, where: str) -> dict[str, Any]:
    cls = item.strategy if isinstance(item, Grid) else type(item)
    if not (isinstance(item, Strategy | Grid) and issubclass(cls, Strategy)):
        what = f"the class {item.__name__}" if isinstance(item, type) else type(item).__name__
        raise ConfigError(
            f"{where}: expected a scarline.Strategy instance or grid(...), got {what}"
        )
    cls.form()  # exactly one of signals / decide
    group: dict[str, Any] = {
        "kind": "python",
        "strategy": spec_of(cls),
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
    if isinstance(config, str | Path):
        return load_config(config)
    raise ConfigError(
        f"config: expected a TOML path, a dict or a RunConfig, not {type(config).__name__}"
    )


def _items(strategies: object) -> list[object]:
    """``strategies`` as a list: one ``Strategy`` or ``Grid`` alone is a list of one."""
    if strategies is None:
        return []
    if isinstance(strategies, Strategy | Grid | str | bytes | dict):
        return [strategies]  # a str or dict is then refused by name in _group
    try:
        return list(strategies)  # type: ignore[call-overload]
    except TypeError:
        return [strategies]


def _scalar(value: object) -> object:
    """A numpy number as the Python one (``seed=np.int64(3)``), so the config validates it."""
    return value.item() if isinstance(value, np.generic) else value


def _out_dir(out_dir: str | Path | None, cfg: RunConfig) -> Path:
    """Where the run goes: ``out_dir``, else the config's ``out_dir``; a path that is a file
    is refused naming it (before the data is written there)."""
    if out_dir is None:
        return Path(cfg.out_dir)
    if not isinstance(out_dir, str | Path):
        raise ConfigError(f"out_dir: expected a directory path, not {type(out_dir).__name__}")
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"out_dir {path}: not a directory")
    return path


def backtest(
    data: pd.DataFrame | str | Path,
    strategies: Strategy | Grid | Sequence[Strategy | Grid] = (),
    config: str | Path | dict[str, Any] | RunConfig | None = None,
    *,
    cash: float | None = None,
    fees_bps: float | None = None,
    slippage_bps: float | None = None,
    calendar: Calendar | None = None,
    out_dir: str | Path | None = None,
    run_id: str | None = None,
    seed: int | None = None,
    report: bool | None = None,
) -> Result:
    """Run ``strategies`` on ``data`` (a DataFrame, a file path or a dataset name such as
    ``"sp500"``) and return the :class:`~scarline.api.result.Result`.

    ``strategies`` (one, or a list) replace the config's agents when given (else the
    config's run); ``cash``, ``fees_bps``, ``slippage_bps``, ``calendar`` (``"exchange"`` or
    ``"24/7"``: how the statistics annualize), ``seed``, ``report`` and ``out_dir`` (else the
    config's, ``runs``) override the config.
    """
    cfg = _base_config(config)
    items = _items(strategies)
    if run_id is not None and not isinstance(run_id, str):
        raise ConfigError(f"run_id: expected text, not {type(run_id).__name__}")
    out = _out_dir(out_dir, cfg)
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
    cfg = cfg.with_overrides(**{key: _scalar(value) for key, value in overrides.items()})
    if items:
        groups = [_group(s, f"strategies[{i}]") for i, s in enumerate(items)]
        raw = cfg.model_dump(mode="json")
        raw["agents"] = groups
        cfg = validate_config(raw, "strategies")
    summary = execute_run(cfg, run_id=run_id, out_dir=out)
    return Result(summary.run_dir)
