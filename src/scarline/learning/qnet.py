"""The Q-network population: N independent MLPs held as stacked tensors, stepped in one call.

Layer k of every agent lives in one tensor ``W_k[N, in, out]`` and ``b_k[N, 1, out]``, so a
forward pass for all agents is one ``torch.baddbmm`` per layer (no Python loop over agents).
Agent i's network is row i of every tensor and no operation mixes rows, which is what keeps
agents independent when they are trained together (see :mod:`scarline.learning.dqn`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import torch
from torch import Tensor

from scarline.learning.config import QNetConfig


def configure_torch(threads: int) -> None:
    """Pin the torch settings a replayable run needs (call once, before building networks).

    Bit-for-bit reproducibility on CPU needs: the same torch build and CPU instruction set
    (oneDNN/MKL pick kernels by CPU features), float32 everywhere, every random draw from a
    seeded ``torch.Generator`` in a fixed order, and deterministic algorithms (set here; on
    CPU almost every op already is, and this makes any that is not raise instead of drifting).

    The intra-op thread count is not among them, so ``threads`` is a speed knob (0 leaves the
    process's setting alone): every op on the acting and learning path either works row by
    row (batched products split their batch across threads, one agent's matrices on one
    thread) or is a reduction with many outputs, which torch splits by output, never inside
    one sum. The only whole-tensor sum, the diagnostic mean loss, is not journaled.
    ``tests/learning/test_threads.py`` runs a learning run at 1, 2 and 3 threads and compares
    weights and WAL.
    """
    if threads < 0:
        raise ValueError(f"torch_threads must be >= 0, got {threads}")
    if threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def linear_epsilon(cfg: QNetConfig, age: Tensor) -> Tensor:
    """Per-agent epsilon from each agent's age in steps: linear from start to end, then flat.

    Scars raise an agent's floor on top of this: ``torch.maximum(linear_epsilon(...), floor)``.
    """
    frac = (age.to(torch.float32) / cfg.epsilon_decay_steps).clamp(0.0, 1.0)
    return cfg.epsilon_start + frac * (cfg.epsilon_end - cfg.epsilon_start)


class EpsilonSchedule:
    """:func:`linear_epsilon` of every age from 0, computed by torch in one call and read by
    index (``schedule(age)``, a ``float32``).

    Why: the five torch ops of the schedule, run once a step on a population of one age,
    cost 120–140 µs inside an arena step against ~20 µs in a hot loop (code and data the
    rest of the step evicted; docs/benchmarks.md). The rule that keeps replay exact: every
    op of the schedule treats each element alone, so an age's value is the same float32
    whether it is computed in a population of that age or in this table
    (``tests/learning/test_qnet.py`` holds the two equal).
    """

    def __init__(self, cfg: QNetConfig) -> None:
        self._cfg = cfg
        self._values = np.empty(0, dtype=np.float32)

    def __call__(self, age: int) -> np.float32:
        if age >= self._values.shape[0]:  # a live session outgrew it: twice the ages
            size = max(2 * self._values.shape[0], age + 1, 4096)
            self._values = linear_epsilon(self._cfg, torch.arange(size)).numpy()
        return self._values[age]


class QPopulation:
    """N MLPs ``obs_dim → hidden… → n_actions`` with ReLU, as stacked float32 tensors."""

    def __init__(
        self,
        n_agents: int,
        obs_dim: int,
        hidden: Sequence[int],
        n_actions: int,
        generator: torch.Generator,
        requires_grad: bool = True,
    ) -> None:
        if n_agents < 1 or obs_dim < 1 or n_actions < 1 or any(h < 1 for h in hidden):
            raise ValueError(
                f"QPopulation needs positive sizes, got n_agents={n_agents}, "
                f"obs_dim={obs_dim}, hidden={list(hidden)}, n_actions={n_actions}"
            )
        sizes = [obs_dim, *hidden, n_actions]
        weights, biases = [], []
        for fan_in, fan_out in pairwise(sizes):
            # torch.nn.Linear's default (kaiming_uniform_ with a=sqrt(5)): U(±1/sqrt(fan_in)).
            bound = 1.0 / math.sqrt(fan_in)
            weights.append(_uniform((n_agents, fan_in, fan_out), bound, generator))
            biases.append(_uniform((n_agents, 1, fan_out), bound, generator))
        self._set(weights, biases, requires_grad)

    @classmethod
    def from_config(
        cls, n_agents: int, obs_dim: int, cfg: QNetConfig, generator: torch.Generator
    ) -> QPopulation:
        return cls(n_agents, obs_dim, cfg.hidden, cfg.n_actions, generator)

    @classmethod
    def _from_tensors(
        cls, weights: list[Tensor], biases: list[Tensor], requires_grad: bool
    ) -> QPopulation:
        pop = cls.__new__(cls)
        pop._set(weights, biases, requires_grad)
        return pop

    def _set(self, weights: list[Tensor], biases: list[Tensor], requires_grad: bool) -> None:
        self.weights = [w.requires_grad_(requires_grad) for w in weights]
        self.biases = [b.requires_grad_(requires_grad) for b in biases]
        # numpy views of the same memory (in-place updates show): the compiled acting's
        self._arrays = tuple(p.detach().numpy() for p in self.parameters())

    def arrays(self) -> tuple[np.ndarray, ...]:
        """``(W0, b0, W1, b1, …)`` as numpy views of the tensors (no copy): what
        :func:`scarline.learning.acting.greedy_actions` reads."""
        return self._arrays

    @property
    def n_agents(self) -> int:
        return self.weights[0].shape[0]

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[1], *(w.shape[2] for w in self.weights)]

    @property
    def obs_dim(self) -> int:
        return self.weights[0].shape[1]

    @property
    def n_actions(self) -> int:
        return self.weights[-1].shape[2]

    def parameters(self) -> list[Tensor]:
        """``[W0, b0, W1, b1, …]``: the stacked tensors one optimizer trains for every agent."""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]

    # ---- inference -------------------------------------------------------------------------

    def forward(self, obs: Tensor) -> Tensor:
        """``float32[N, B, obs_dim] → float32[N, B, n_actions]`` (differentiable)."""
        h = obs
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if k < last:
                h = h.relu_()  # in place: one [N, B, hidden] buffer less (autograd-safe)
        return h

    def q_values(self, obs: Tensor) -> Tensor:
        """``float32[N, obs_dim] → float32[N, n_actions]``: one observation per agent, no grad."""
        with torch.no_grad():
            return self.forward(obs.unsqueeze(1)).squeeze(1)

    def act(
        self,
        obs: Tensor,
        epsilon: Tensor,
        generator: torch.Generator,
        heads: int = 1,
        head: int = 0,
    ) -> Tensor:
        """Epsilon-greedy actions ``int64[N]`` with a per-agent ``epsilon: float32[N]``.

        Both draws are made for every agent on every call, uniform-explore first, then the
        random action, so the generator advances the same way whatever the epsilons are.
        Greedy ties go to the lowest action index (``torch.argmax`` returns the first maximum).
        With ``heads`` > 1 the outputs are ``heads`` blocks of actions and block ``head`` acts
        (the macro regime's micro policy head).
        """
        n = obs.shape[0]
        q = self.q_values(obs)
        if heads > 1:
            q = q.view(n, heads, -1)[:, head]
        return self.explore(q.argmax(dim=1), epsilon, generator, heads)

    def explore(
        self, greedy: Tensor, epsilon: Tensor, generator: torch.Generator, heads: int = 1
    ) -> Tensor:
        """:meth:`act`'s draws on given ``greedy`` actions ``int64[N]`` (however computed):
        the explorers take a uniform random action of their head's block."""
        actions = self.explore_numpy(greedy.numpy(), epsilon.numpy(), generator, heads)
        return torch.from_numpy(actions)

    def explore_numpy(
        self, greedy: np.ndarray, epsilon: np.ndarray, generator: torch.Generator, heads: int = 1
    ) -> np.ndarray:
        """:meth:`explore` on numpy arrays (``int64[N]``, ``float32[N]``). The draws are
        torch's, in the same order (so the generator's stream is the same); the comparison
        and the choice are exact, so in numpy they give the same actions without two torch
        ops run cold every step."""
        n = greedy.shape[0]
        explore = torch.rand(n, generator=generator).numpy() < epsilon
        random_action = torch.randint(self.n_actions // heads, (n,), generator=generator)
        self.explored = torch.from_numpy(explore)  # who drew at random (the diary's reason)
        return np.where(explore, random_action.numpy(), greedy)

    def greedy(self, obs: Tensor, heads: int = 1, head: int = 0) -> Tensor:
        """:meth:`act` at epsilon 0 without its two draws: for a group that never explores
        again (frozen, not learning, or exploration off), whose generator no later step
        reads. The actions are the same (the lowest index on ties)."""
        n = obs.shape[0]
        q = self.q_values(obs)
        if heads > 1:
            q = q.view(n, heads, -1)[:, head]
        self.explored = torch.zeros(n, dtype=torch.bool)
        return q.argmax(dim=1)

    # ---- copies (target networks, export, evolution) ---------------------------------------

    def copy_(self, other: QPopulation) -> QPopulation:
        """Overwrite every weight in place with ``other``'s (e.g. a target-network sync)."""
        with torch.no_grad():
            for p, q in zip(self.parameters(), other.parameters(), strict=True):
                p.copy_(q)
        return self

    def clone(self) -> QPopulation:
        """A detached copy that does not require grad (what a target network is)."""
        return self._from_tensors(
            [w.detach().clone() for w in self.weights],
            [b.detach().clone() for b in self.biases],
            requires_grad=False,
        )

    def agent_state(self, i: int) -> dict[str, Tensor]:
        """One agent's weights as ``{"w0": [in, out], "b0": [out], "w1": …}`` (copies)."""
        state: dict[str, Tensor] = {}
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            state[f"w{k}"] = w[i].detach().clone()
            state[f"b{k}"] = b[i, 0].detach().clone()
        return state

    def set_agent_state(self, i: int, state: dict[str, Tensor]) -> None:
        """Load one agent's weights, in the layout :meth:`agent_state` returns."""
        mine = self.agent_state(i)
        if set(state) != set(mine):
            raise ValueError(f"agent state keys {sorted(state)} != expected {sorted(mine)}")
        for key, value in state.items():
            if tuple(value.shape) != tuple(mine[key].shape):
                raise ValueError(
                    f"agent state '{key}': shape {tuple(value.shape)} != {tuple(mine[key].shape)}"
                )
        with torch.no_grad():
            for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
                w[i].copy_(state[f"w{k}"])
                b[i, 0].copy_(state[f"b{k}"])

    def index_select(self, rows: Tensor) -> QPopulation:
        """A detached population of the agents ``rows`` (int64[K]), in that order."""
        return self._from_tensors(
            [w.detach().index_select(0, rows) for w in self.weights],
            [b.detach().index_select(0, rows) for b in self.biases],
            requires_grad=False,
        )

    def replace_rows(self, rows: Tensor, other: QPopulation, src_rows: Tensor) -> None:
        """Agents ``rows`` take the weights of ``other``'s agents ``src_rows`` (e.g. births).

        Only weights move; a learner must also reset those rows' optimizer moments and target
        weights (:meth:`scarline.learning.dqn.DQNLearner.reset_rows`).
        """
        with torch.no_grad():
            for p, q in zip(self.parameters(), other.parameters(), strict=True):
                p.index_copy_(0, rows, q.detach().index_select(0, src_rows))


def _uniform(shape: tuple[int, ...], bound: float, generator: torch.Generator) -> Tensor:
    return (torch.rand(shape, generator=generator) * 2.0 - 1.0) * bound
