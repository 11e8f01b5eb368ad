"""A step's decision as the cells that changed: what the WAL's Decision and the trace hold.

At N = 4096 agents × 20 instruments a dense decision (actions and target lots) is ~1 MB per
step, more than a whole step's budget to encode and hash. The cells whose action or target
changed since the previous step are few — they are the only ones that can produce orders —
and from the all-zero start they determine every dense decision exactly. Actions are
compared bit for bit, so even ``-0.0`` after ``0.0`` counts as a change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

_UNSIGNED = {size: np.dtype(f"u{size}") for size in (1, 2, 4, 8)}  # raw bits by item size
_SMALL = 64
"""Up to this many cells a quiet step is recognized by comparing raw bytes (~0.2 µs, where
the element-wise comparison costs ~3 µs of numpy calls on arrays of one): the same answer,
since the same dtype and shape give equal bytes exactly when every element's bits are."""


@dataclass(frozen=True, eq=False)
class Changes:
    """K changed cells in row-major (agent row, instrument) order, with their new values."""

    agent: np.ndarray  # int64[K], agent ids
    instrument: np.ndarray  # int64[K]
    actions: np.ndarray  # [K], the policy's action dtype
    target_qty: np.ndarray  # int64[K] lots


class ChangeTracker:
    """Holds the last dense decision (all zero at first) and reports what differs from it."""

    def __init__(self, agent_ids: np.ndarray) -> None:
        self.agent_ids = np.asarray(agent_ids, dtype=np.int64)
        self._bits: np.ndarray | None = None  # actions' raw bits, [N, M] unsigned ints
        self._target: np.ndarray | None = None  # int64[N, M]
        self._none: dict[np.dtype, Changes] = {}  # no change, per action dtype
        warm_up()

    def _unchanged(self, dtype: np.dtype) -> Changes:
        """No changed cell: built once per action dtype (zero-length arrays are safe to share)."""
        none = self._none.get(dtype)
        if none is None:
            empty = np.zeros(0, np.int64)
            none = Changes(empty, empty, np.zeros(0, dtype), empty)
            self._none[dtype] = none
        return none

    def update(self, actions: np.ndarray, target: np.ndarray) -> Changes:
        """The cells where ``actions`` ([N, M]) or ``target`` (int64[N, M]) changed."""
        actions = np.ascontiguousarray(actions)
        bits = actions.view(_UNSIGNED[actions.dtype.itemsize])
        if self._bits is None or self._target is None:
            self._bits = np.zeros_like(bits)
            self._target = np.zeros(target.shape, dtype=np.int64)
        elif bits.dtype != self._bits.dtype:
            raise ValueError(f"decision action dtype changed to {actions.dtype}")
        elif (
            bits.size <= _SMALL
            and target.dtype == np.int64
            and bits.shape == self._bits.shape == target.shape
            and bits.tobytes() == self._bits.tobytes()
            and target.tobytes() == self._target.tobytes()
        ):
            return self._unchanged(actions.dtype)
        if (
            target.dtype == np.int64
            and bits.shape == self._bits.shape == target.shape
            and target.flags.c_contiguous
        ):
            cells = np.empty(bits.size, dtype=np.int64)
            k = changed_cells(bits.ravel(), self._bits.ravel(), target.ravel(),
                              self._target.ravel(), cells)  # fmt: skip
            if not k:  # the usual step: nothing changed
                return self._unchanged(actions.dtype)
            cells = cells[:k]
            new_bits, new_target = bits.ravel()[cells], target.ravel()[cells]
        else:
            cells = self._changed_numpy(bits, target)
            if not cells.size:
                return self._unchanged(actions.dtype)
            new_bits, new_target = bits.ravel()[cells], target.ravel()[cells]
            self._bits.ravel()[cells] = new_bits
            self._target.ravel()[cells] = new_target
        m = target.shape[1]
        return Changes(
            agent=self.agent_ids[cells // m],
            instrument=(cells % m).astype(np.int64),
            actions=new_bits.view(actions.dtype),
            target_qty=new_target.astype(np.int64, copy=False),
        )

    def _changed_numpy(self, bits: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The flat indices of the changed cells, in numpy: the reference
        :func:`changed_cells` equals, and the path for targets of another dtype or shape."""
        assert self._bits is not None and self._target is not None
        diff = bits != self._bits
        diff |= target != self._target
        return np.flatnonzero(diff)


@njit(cache=True)
def changed_cells(
    bits: np.ndarray, last_bits: np.ndarray, target: np.ndarray, last_target: np.ndarray,
    cells: np.ndarray,
) -> int:  # fmt: skip
    """One pass over the flat cells: writes the indices where the bits or the target differ
    from the last ones into ``cells`` and takes them over into ``last_*`` (in place); how
    many. Comparisons and copies only, so it is the numpy reference's answer exactly."""
    k = 0
    for i in range(bits.shape[0]):
        if bits[i] != last_bits[i] or target[i] != last_target[i]:
            cells[k] = i
            last_bits[i] = bits[i]
            last_target[i] = target[i]
            k += 1
    return k


def warm_up() -> None:
    """Load :func:`changed_cells` for the actions' raw bits of rules (int8), Q-agents
    (float32) and user strategies (float64) when a tracker is built, not on a step."""
    if len(changed_cells.signatures) >= 3:
        return
    target, cells = np.zeros(1, np.int64), np.zeros(1, np.int64)
    for size in (1, 4, 8):
        bits = np.zeros(1, _UNSIGNED[size])
        changed_cells(bits, bits.copy(), target, target.copy(), cells)
