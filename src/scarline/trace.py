"""The decision trace hash: what replay parity compares.

A running BLAKE2b-256 over every step's decisions — the step index, then the changed cells
(agent ids, instruments, actions, target quantities; see :mod:`scarline.decisions`), each
as its length and raw little-endian bytes — so two runs agree on it exactly when every
agent decided the same thing at every step (the changes from the all-zero start determine
every dense decision).
"""

from __future__ import annotations

import hashlib

import numpy as np

_QUIET_LENGTHS = (0).to_bytes(8, "little") * 4  # a decision's four arrays, all empty


class DecisionTrace:
    def __init__(self) -> None:
        self._h = hashlib.blake2b(digest_size=32)
        self.steps = 0

    def update(self, step: int, *arrays: np.ndarray) -> None:
        parts = [step.to_bytes(8, "little", signed=True)]
        for a in arrays:  # each prefixed by its length, so the byte stream parses one way
            parts.append(a.size.to_bytes(8, "little"))
            if not a.size:
                continue
            if a.dtype.byteorder == ">":  # the bytes are little-endian's
                a = a.astype(a.dtype.newbyteorder("<"))
            parts.append(a.tobytes())  # C order, as ascontiguousarray would lay it out
        self._h.update(b"".join(parts))  # one update of the same bytes: the same hash
        self.steps += 1

    def quiet(self, step: int) -> None:
        """``update(step, *four empty arrays)`` in one call: a step where no cell changed."""
        self._h.update(step.to_bytes(8, "little", signed=True) + _QUIET_LENGTHS)
        self.steps += 1

    def quiet_span(self, start: int, stop: int) -> None:
        """:meth:`quiet` for every step of ``start .. stop - 1``, in one update of the same
        bytes (a running hash of a concatenation is the hash of its pieces in turn)."""
        rows = np.zeros((stop - start, 5), dtype="<i8")  # the step, then four zero lengths
        rows[:, 0] = np.arange(start, stop)
        self._h.update(rows.tobytes())
        self.steps += stop - start

    def hexdigest(self) -> str:
        return self._h.hexdigest()

    def __deepcopy__(self, memo: dict[int, object]) -> DecisionTrace:
        """A copy that goes on from the same running hash (hash objects do not pickle)."""
        out = DecisionTrace.__new__(DecisionTrace)
        out._h, out.steps = self._h.copy(), self.steps
        return out
