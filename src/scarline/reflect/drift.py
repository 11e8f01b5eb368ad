"""Drift detectors over N agents at once: plain state (arrays) and update functions.

* :class:`PageHinkley` / :func:`page_hinkley_update` reproduce ``river.drift.PageHinkley``
  (river 0.26.1) exactly, per agent: the same float64 arithmetic in the same order, and the
  same reset (a detector that fired starts afresh at its next update).
* :class:`Baseline` / :func:`baseline_update`: a warm-up of ``min_instances`` observations
  per agent estimates the mean ``mu0`` and standard deviation ``sigma`` (Welford, ddof = 1,
  at least ``sigma_floor``); afterwards it standardizes: ``z = (x - mu0) / sigma``.
* :class:`Cusum` / :func:`cusum_update`: Page's two-sided CUSUM on those standardized
  values, ``g+ = max(0, g+ + z - k)``, ``g- = max(0, g- - z - k)``; fires when a watched side
  exceeds ``h``; a detector that fired starts afresh (warm-up included) at its next update.

Every update takes ``active: bool[N]``: the state of rows that are not active does not
change and they do not fire (their ``x`` may be NaN). ``step`` only dates change points.
The arithmetic runs on all N rows without masks (masked ufuncs cost ~5× more); the few
inactive rows' state is saved before and put back after, from one float64 block per
detector, so the states' arrays are row views of that block (steps and counts are float64
holding whole numbers).

Change point: both detectors date a change by the last step *before* the excursion that
fired — for Page-Hinkley the step at which the cumulative sum last attained its minimum
(``up``) or maximum (``down``); for CUSUM the step at which the fired side was last zero
(``g = S - min S`` for the cumulative sum ``S`` of ``z - k``, so the two definitions agree).
The changed observations are those after ``change_step`` up to the firing step.

Sides: ``+1`` = an increase of the mean (``up``), ``-1`` = a decrease (``down``). A mode
watches ``up``, ``down`` or ``both``; a side that is not watched is not computed.

This module holds what the detectors share (modes, sides, row selection); the detectors are
:mod:`scarline.reflect.page_hinkley` and :mod:`scarline.reflect.cusum`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol, TypeVar

import numpy as np

Mode = Literal["up", "down", "both"]
MODES: tuple[str, ...] = ("up", "down", "both")
UP, DOWN = 1, -1


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def as_rows(rows: np.ndarray) -> np.ndarray:
    """Row indexes from an index array or a boolean mask."""
    rows = np.asarray(rows)
    return np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64, copy=False)


def idle_rows(active: np.ndarray) -> np.ndarray | None:
    """The rows that are not active, or ``None`` when all are (the usual case)."""
    return None if active.all() else np.flatnonzero(~active)


class Detector(Protocol):
    live: np.ndarray  # float64[K, N]: the rows an update changes
    detected: np.ndarray  # bool[N]: fired at the last update


D = TypeVar("D", bound=Detector)


def update_active(
    state: D,
    x: np.ndarray,
    active: np.ndarray,
    step: int,
    core: Callable[[D, np.ndarray, int], np.ndarray],
) -> np.ndarray:
    """Run a detector's ``core`` arithmetic for the ``active`` rows: on all rows (``x`` zeroed
    where idle), then the idle rows' state is put back and they do not fire. Returns
    ``fired: bool[N]`` (a copy; ``state.detected`` keeps it)."""
    idle = idle_rows(active)
    if idle is None:
        fired = core(state, x, step)
    else:
        saved = state.live[:, idle]
        fired = core(state, np.where(active, x, 0.0), step)
        state.live[:, idle] = saved
        fired[idle] = False
    state.detected = fired
    return fired.copy()


def fired_sides(
    watch_up: bool, watch_down: bool, up: np.ndarray, down: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """int8 side of fired ``rows`` given each side's statistic: with both watched and over
    the threshold, the larger one (ties: up)."""
    if not watch_down:
        return np.full(len(rows), UP, dtype=np.int8)
    if not watch_up:
        return np.full(len(rows), DOWN, dtype=np.int8)
    return np.where(up[rows] >= down[rows], UP, DOWN).astype(np.int8)
