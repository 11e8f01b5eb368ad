"""Latency models: from when a submitted order may execute.

A decision on bar t's close is submitted at step t and can never execute before bar t+1's
open; latency only pushes that later. A model maps submit (step, ts) to an eligibility
pair (``min_step``, ``min_ts``): an order is due at the first bar with
``bar.step >= min_step`` and ``bar.ts >= min_ts``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from scarline.execution.config import LatencyConfig

NO_TS_BOUND = np.iinfo(np.int64).min
"""``min_ts`` of a model that only counts steps."""


class LatencyModel(Protocol):
    def eligibility(self, step: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(min_step, min_ts)``, ``int64[K]`` each, for orders submitted at ``step``/``ts``."""
        ...

    @property
    def params(self) -> tuple[int, int]:
        """``(0, steps)`` or ``(1, ns)``: the model for the kernel's compiled loop, which
        computes one order's eligibility itself (``quiet_rows._first_due``)."""
        ...


class StepsLatency:
    """Due at step ``submit + 1 + steps``."""

    def __init__(self, steps: int = 0) -> None:
        if steps < 0:
            raise ValueError("latency steps must be >= 0")
        self.steps = int(steps)

    def eligibility(self, step: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        step = np.asarray(step, dtype=np.int64)
        return step + 1 + self.steps, np.full(step.shape, NO_TS_BOUND, dtype=np.int64)

    @property
    def params(self) -> tuple[int, int]:
        return 0, self.steps


class NsLatency:
    """Due at the first bar with ``ts >= submit_ts + ns``, and never before ``submit + 1``."""

    def __init__(self, ns: int = 0) -> None:
        if ns < 0:
            raise ValueError("latency ns must be >= 0")
        self.ns = int(ns)

    def eligibility(self, step: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        step = np.asarray(step, dtype=np.int64)
        return step + 1, np.asarray(ts, dtype=np.int64) + self.ns

    @property
    def params(self) -> tuple[int, int]:
        return 1, self.ns


def build_latency_model(cfg: LatencyConfig) -> LatencyModel:
    if cfg.kind == "steps":
        return StepsLatency(cfg.steps)
    if cfg.kind == "ns":
        return NsLatency(cfg.ns)
    raise ValueError(f"unknown latency model kind {cfg.kind!r}")
