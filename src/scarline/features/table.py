"""The shared market part of every observation, computed once and looked up by time index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class FeatureTable:
    """``values`` ``float32[T, M, F]`` (never NaN: 0 where undefined), ``ready`` ``bool[T, M, F]``
    (False where the value is undefined: no bar, too little history, normalizer warm-up),
    ``names`` the F column names. Arrays are read-only: many agents share one table, and
    replay buffers store the time index t rather than a copy of the row.
    """

    values: np.ndarray
    ready: np.ndarray
    names: list[str]

    def __post_init__(self) -> None:
        if self.values.dtype != np.float32 or self.values.ndim != 3:
            raise ValueError(f"values must be float32[T, M, F], got {self.values.dtype}")
        if self.ready.shape != self.values.shape or self.ready.dtype != np.bool_:
            raise ValueError("ready must be bool with the shape of values")
        if len(self.names) != self.values.shape[2] or len(set(self.names)) != len(self.names):
            raise ValueError(f"need {self.values.shape[2]} unique names, got {self.names}")
        if not np.isfinite(self.values).all():
            raise ValueError("feature values must be finite")
        self.values.setflags(write=False)
        self.ready.setflags(write=False)

    @property
    def n_steps(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.values.shape[2])

    def row(self, t: int) -> np.ndarray:
        """``float32[M, F]``: every instrument's features at bar t (a read-only view)."""
        return self.values[t]

    def index(self, name: str) -> int:
        """Column of feature ``name`` (KeyError naming the known features if absent)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no feature {name!r}; have {self.names}") from None
