"""Per-agent replay ring buffers that store *where* the market was, not what it looked like.

An observation is ``concat(market part, private part)``. The market part of agent i at time t
is ``table[t, instrument[i]]`` of a shared feature table ``float32[T, M, F]`` that the kernel
holds anyway, so a buffer slot keeps only the time index t and the agent's private part
(position, PnL, scars …). Every agent adds one transition per step together, so the write
position and the time indices are shared by all agents: ``t`` is stored once per slot
(``[C]``), everything agent-specific as ``[N, C, …]``. See :func:`assemble`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
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
    """
    inst = instrument.view(instrument.shape[0], *([1] * (private.dim() - 2)))
    return torch.cat([table[t_idx, inst], private], dim=-1)


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
        self.t = torch.zeros(c, dtype=torch.int64)
        self.next_t = torch.zeros(c, dtype=torch.int64)
        self.private = torch.zeros(n, c, p, dtype=torch.float32)
        self.next_private = torch.zeros(n, c, p, dtype=torch.float32)
        self.action = torch.zeros(n, c, dtype=torch.int64)
        self.reward = torch.zeros(n, c, dtype=torch.float32)
        self.done = torch.zeros(n, c, dtype=torch.bool)
        self.size = torch.zeros(n, dtype=torch.int64)  # filled slots per agent
        self.pos = 0  # the slot the next add writes (shared)

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
        s = self.pos
        self.t[s] = t
        self.next_t[s] = next_t
        self.private[:, s] = private
        self.next_private[:, s] = next_private
        self.action[:, s] = action
        self.reward[:, s] = reward
        self.done[:, s] = done
        self.pos = (s + 1) % self.capacity
        self.size.add_(1).clamp_(max=self.capacity)

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
        vec = indices.unsqueeze(-1).expand(-1, -1, self.private_dim)
        return Transitions(
            t=self.t[indices],
            private=self.private.gather(1, vec),
            action=self.action.gather(1, indices),
            reward=self.reward.gather(1, indices),
            next_t=self.next_t[indices],
            next_private=self.next_private.gather(1, vec),
            done=self.done.gather(1, indices),
        )

    def nbytes(self) -> int:
        """Bytes held by the buffers (the shared market table is not counted)."""
        tensors = (self.t, self.next_t, self.private, self.next_private, self.action)
        tensors += (self.reward, self.done, self.size)
        return sum(x.nelement() * x.element_size() for x in tensors)
