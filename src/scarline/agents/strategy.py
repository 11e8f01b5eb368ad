"""Your own strategy, in one of two forms, traded under the same risk engine, broker and WAL
as every built-in agent.

* **Vectorized**: implement ``signals(self, data) -> DataFrame``. ``data`` is the whole
  history, columns ``(field, symbol)`` (``data["close"]`` is time × symbol, prices in currency
  units, NaN where a symbol has no bar). Return target exposures in [-1, 1] of equity, same
  index, one column per symbol. An exposure decided on bar t's close executes at t+1, as for
  every agent. Before trading, scarline recomputes ``signals`` on truncated histories and
  refuses a strategy whose past values change (lookahead).
* **Event-driven**: implement ``decide(self, obs) -> array`` for stateful logic; ``obs`` is an
  :class:`Observation` of the history up to the current bar, positions and equity.

Parameters are the keyword arguments of ``__init__`` (kept in ``self.params``), so a grid of
them (``scarline.grid``) becomes a population of agents in one kernel.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

ParamValue = int | float | str | bool

INT64 = 2**63
"""A parameter's integer must fit TOML's (the run's config.toml records it)."""


def param_value(owner: str, key: str, value: object) -> ParamValue:
    """``value`` as the run's config records it: numpy scalars become Python numbers (so
    ``np.int64(10)`` from ``np.arange`` is ``10``); anything else, NaN, ±inf or an integer
    past 64 bits is refused naming ``owner`` and ``key`` (the config could not hold it, so
    replay could not rebuild the strategy)."""
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, int | float | str | bool):
        raise TypeError(
            f"{owner}: parameter {key!r} must be a number, text or bool (it is recorded in "
            f"the run's config), got {type(value).__name__}"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{owner}: parameter {key!r} is {value}; a parameter must be finite")
    if isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
        raise ValueError(f"{owner}: parameter {key!r} = {value} does not fit in 64 bits")
    return value


def _is_method(cls: type, name: str) -> bool:
    """Whether ``cls`` defines ``name`` as a method or property (a plain class attribute,
    ``fast = 10``, is a default a parameter may override)."""
    found = inspect.getattr_static(cls, name, None)
    return isinstance(found, property | staticmethod | classmethod) or inspect.isfunction(found)


class Strategy:
    """Base class of user strategies: override :meth:`signals` *or* :meth:`decide`."""

    def __init__(self, **params: ParamValue) -> None:
        taken = [k for k in params if k.startswith("_") or hasattr(Strategy, k)]
        if taken:
            raise TypeError(
                f"{type(self).__name__}: parameter name(s) {', '.join(taken)} would hide an "
                "attribute of Strategy; choose other names"
            )
        name = type(self).__name__
        methods = [k for k in params if _is_method(type(self), k)]
        if methods:
            raise TypeError(
                f"{name}: parameter name(s) {', '.join(methods)} would hide {name}'s own "
                "method or property of that name; choose other names"
            )
        self.__params = {key: param_value(name, key, value) for key, value in params.items()}
        for key, value in self.__params.items():
            setattr(self, key, value)

    @property
    def params(self) -> dict[str, ParamValue]:
        """The keyword arguments the run records (a copy): replay rebuilds the strategy from
        them, so a subclass's ``__init__`` must hand them to ``super().__init__``. A
        dataclass strategy's are its ``__init__`` fields (its generated ``__init__`` calls no
        ``super().__init__``)."""
        try:
            return dict(self.__params)
        except AttributeError:
            if dataclasses.is_dataclass(self):
                name = type(self).__name__
                return {
                    f.name: param_value(name, f.name, getattr(self, f.name))
                    for f in dataclasses.fields(self)
                    if f.init
                }
            raise TypeError(
                f"{type(self).__name__}: its __init__ does not call super().__init__(**params), "
                "so its parameters are unknown (the run records them, replay rebuilds it from "
                "them); call it with the keyword arguments"
            ) from None

    @property
    def label(self) -> str:
        """The agent's label: the class and its parameters, e.g. ``SmaCross(fast=10,slow=30)``."""
        inner = ",".join(f"{k}={v}" for k, v in self.params.items())
        return f"{type(self).__name__}({inner})"

    def signals(self, data: Any) -> Any:
        """Target exposures (time × symbol DataFrame in [-1, 1]) from the whole history."""
        raise NotImplementedError

    def decide(self, obs: Observation) -> np.ndarray:
        """Target exposure per symbol (``float[M]`` in [-1, 1]) at ``obs.t``'s close."""
        raise NotImplementedError

    @classmethod
    def form(cls) -> str:
        """``vectorized`` or ``event-driven``: which method the class overrides."""
        vectorized = cls.signals is not Strategy.signals
        event = cls.decide is not Strategy.decide
        if vectorized == event:
            raise TypeError(
                f"{cls.__name__}: override exactly one of signals(self, data) (vectorized) "
                "or decide(self, obs) (event-driven)"
            )
        return "vectorized" if vectorized else "event-driven"


@dataclass(frozen=True)
class Observation:
    """What an event-driven strategy sees at bar ``t``: arrays of rows ``0..t`` (views, do
    not write), its position (lots) and equity (currency) after bar t's fills."""

    t: int
    timestamps: np.ndarray  # int64[t + 1], ns since the epoch
    symbols: tuple[str, ...]
    open: np.ndarray  # float64[t + 1, M], currency units, NaN where no bar
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    position: np.ndarray  # float64[M], lots
    equity: float
    cash: float
