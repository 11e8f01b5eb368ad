"""Per-agent replay ring buffers that store *where* the market was, not what it looked like.

An observation is ``concat(market part, private part)``. The market part of agent i at time t
is ``table[t, instrument[i]]`` of a shared feature table ``float32[T, M, F]`` that the kernel
holds anyway, so a buffer slot keeps only the time index t and the agent's private part
(position, PnL, scars …). Every agent adds one transition per step together, so the write
position and the time indices are shared by all agents: ``t`` is stored once per slot
(``[C]``), everything agent-specific in one packed float32 record ``[N, C, 2P + 3]``
(actions and done flags are small integers, exact in float32). See :func:`assemble`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from numba import njit
from torch import Tensor


class Transitions(NamedTuple):
    """A sampled batch, every field ``[N, B, …]``; observations via :func:`assemble`."""

    t: Tensor  # int64[N, B]
    private: Tensor  # float32[N, B, P]
    action: Tensor  # int64[N, B]
    reward: Tensor  # float32[N, B]
    next_t: Tensor  # int64[N, B]
    next_private: Tensor  # float32[N, B, P]
    done: Tensor  # bool[N, B]


def assemble(table: Tensor, instrument: Tensor, t_idx: Tensor | int, private: Tensor) -> Tensor:
    """Full observations ``cat([table[t, instrument_of_agent], private], -1)``.

    ``table``: float32[T, M, F] shared market features (a market-wide column set is just
    M = 1 with every instrument index 0); ``instrument``: int64[N]; ``private``: float32[N, P]
    with an int ``t_idx`` (acting), or float32[N, B, P] with int64[N, B] ``t_idx`` (learning).
    The market rows are one ``index_select`` on the flattened table (rows ``t * M + m``):
    the same floats as ``table[t_idx, instrument]``, 3x faster than advanced indexing.
    """
    if not isinstance(t_idx, Tensor):
        market = table[t_idx].index_select(0, instrument)
    else:
        t, m, f = table.shape
        rows = t_idx * m + instrument.view(instrument.shape[0], *([1] * (t_idx.dim() - 1)))
        market = table.reshape(t * m, f).index_select(0, rows.flatten()).view(*t_idx.shape, f)
    return torch.cat([market, private], dim=-1)


class ReplayBuffers:
    """N ring buffers of capacity C, written together by :meth:`add`, sampled per agent."""

    def __init__(self, n_agents: int, capacity: int, private_dim: int) -> None:
        if n_agents < 1 or capacity < 1 or private_dim < 0:
            raise ValueError(
                f"ReplayBuffers needs n_agents >= 1, capacity >= 1, private_dim >= 0; "
                f"got {n_agents}, {capacity}, {private_dim}"
            )
        n, c, p = n_agents, capacity, private_dim
        self.n_agents, self.capacity, self.private_dim = n, c, p
        self.t = torch.zeros(c, dtype=torch.int64)  # shared by every agent
        self.next_t = torch.zeros(c, dtype=torch.int64)
        # One float32 record per (agent, slot): [private | next_private | reward, action, done].
        # Sampling is random access into hundreds of MiB: one packed row per transition (one
        # or two cache lines, one index_select) is ~4x faster than five per-field gathers.
        self.record = torch.zeros(n, c, 2 * p + 3, dtype=torch.float32)
        self.size = torch.zeros(n, dtype=torch.int64)  # filled slots per agent
        self.pos = 0  # the slot the next add writes (shared)
        self.written = 0  # slots ever written (shared): [written, C) is still untouched

    def add(
        self,
        t: int,
        private: Tensor,
        action: Tensor,
        reward: Tensor,
        next_t: int,
        next_private: Tensor,
        done: Tensor,
    ) -> None:
        """Store one transition for every agent (private: [N, P]; action, reward, done: [N])."""
        want = (self.n_agents, self.private_dim)
        if tuple(private.shape) != want or tuple(next_private.shape) != want:
            raise ValueError(
                f"private parts must be {want}, got {tuple(private.shape)} "
                f"and {tuple(next_private.shape)}"
            )
        for name, x in (("action", action), ("reward", reward), ("done", done)):
            if tuple(x.shape) != (self.n_agents,):
                raise ValueError(f"{name} must be ({self.n_agents},), got {tuple(x.shape)}")
        s = self.pos
        # one compiled pass over numpy views of the tensors (torch's ~10 small ops cost
        # ~40 µs a step): the same float32 casts torch's stack, cat and copy make
        _store(
            self.record.numpy(), self.size.numpy(), self.t.numpy(), self.next_t.numpy(), s, t,
            next_t, private.detach().numpy(), next_private.detach().numpy(),
            reward.detach().numpy(), action.numpy(), done.numpy(),
        )  # fmt: skip
        self.pos = (s + 1) % self.capacity
        self.written = min(self.written + 1, self.capacity)

    def copy_rows(self, rows: Tensor, src_rows: Tensor) -> None:
        """Agents ``rows`` take the memories of agents ``src_rows`` (a newborn inherits its
        parent's experience; the ring position and time indices are shared, so rows align).
        Only written slots are copied: early in a run most of the ring is untouched zeros."""
        w = self.written
        self.record[rows, :w] = self.record[src_rows, :w]
        self.size[rows] = self.size[src_rows]

    def clear_rows(self, rows: Tensor) -> None:
        """Forget agents ``rows``' transitions (e.g. a newborn in a dead agent's slot)."""
        self.size[rows] = 0

    def sample(self, batch_size: int, generator: torch.Generator) -> Tensor:
        """Slot indices ``int64[N, B]``, uniform over each agent's own filled slots.

        Agent i's filled slots are the ``size[i]`` most recently written ones, so one
        uniform draw per (agent, sample) picks how far back to look.
        """
        if int(self.size.min()) == 0:
            empty = torch.nonzero(self.size == 0).flatten()[:8].tolist()
            raise ValueError(f"cannot sample: agents {empty}… have no transitions yet")
        u = torch.rand(self.n_agents, batch_size, generator=generator)
        size = self.size.unsqueeze(1)
        back = torch.minimum((u * size).to(torch.int64), size - 1)  # guard float rounding
        return (self.pos - 1 - back) % self.capacity

    def gather(self, indices: Tensor) -> Transitions:
        """The transitions at ``indices`` (int64[N, B]) of each agent's own buffer."""
        p, (n, c, width) = self.private_dim, self.record.shape
        flat = indices + torch.arange(n).unsqueeze(1) * c  # rows of the [N * C, width] view
        rec = self.record.view(n * c, width).index_select(0, flat.flatten()).view(*flat.shape, -1)
        return Transitions(
            t=self.t[indices],
            private=rec[..., :p],
            action=rec[..., 2 * p + 1].to(torch.int64),
            reward=rec[..., 2 * p],
            next_t=self.next_t[indices],
            next_private=rec[..., p : 2 * p],
            done=rec[..., 2 * p + 2] > 0.5,
        )

    def nbytes(self) -> int:
        """Bytes held by the buffers (the shared market table is not counted)."""
        tensors = (self.t, self.next_t, self.record, self.size)
        return sum(x.nelement() * x.element_size() for x in tensors)


@njit(cache=True, error_model="numpy")
def _store(
    record: np.ndarray, size: np.ndarray, t_of: np.ndarray, next_t_of: np.ndarray, slot: int,
    t: int, next_t: int, private: np.ndarray, next_private: np.ndarray, reward: np.ndarray,
    action: np.ndarray, done: np.ndarray,
) -> None:  # fmt: skip
    """Every agent's transition into ``slot`` of its ring (``[private | next_private |
    reward, action, done]``, each value cast to float32 once, as torch's copy into the
    float32 record does) at times ``t`` → ``next_t``, and one more filled slot, up to the
    capacity."""
    t_of[slot] = t
    next_t_of[slot] = next_t
    capacity = record.shape[1]
    p = private.shape[1]
    for i in range(record.shape[0]):
        row = record[i, slot]
        for j in range(p):
            row[j] = private[i, j]
            row[p + j] = next_private[i, j]
        row[2 * p] = reward[i]
        row[2 * p + 1] = action[i]
        row[2 * p + 2] = 1.0 if done[i] else 0.0
        size[i] = min(size[i] + 1, capacity)
