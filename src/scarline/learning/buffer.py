"""Per-agent replay ring buffers that store *where* the market was, not what it looked like.

An observation is ``concat(market part, private part)``. The market part of agent i at time t
is ``table[t, instrument[i]]`` of a shared feature table ``float32[T, M, F]`` that the kernel
holds anyway, so a buffer slot keeps only the time index t and the agent's private part
(position, PnL, scars …). Every agent adds one transition per step together, so the write
position and the time indices are shared by all agents: ``t`` is stored once per slot
(``[C]``), everything agent-specific in one packed float32 record per (agent, slot)
(actions and done flags are small integers, exact in float32). See :func:`assemble`.

The records are stored slot-major, ``[C, N, 2P + 3]``: a step's add writes one contiguous
block (every agent's record of that slot), where agent-major rows lay each agent's record a
whole ring apart (~90 KB at C = 2048), so an add touched a page and a cache line per agent
(2–6 % of an arena learning step at N = 4096, in interleaved runs). A sample reads random
slots either way. The values, and so every run's bits, do not depend on the layout.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from numba import njit
from torch import Tensor

from scarline.learning.row_split import RowSplit


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


class Observed(NamedTuple):
    """A sampled batch with rebuilt observations, every field ``[N, B, …]``."""

    obs: Tensor  # float32[N, B, D]
    action: Tensor  # int64[N, B]
    reward: Tensor  # float32[N, B]
    next_obs: Tensor  # float32[N, B, D]
    done: Tensor  # bool[N, B]
    t: Tensor  # int64[N, B]
    next_t: Tensor  # int64[N, B]


class ReplaySource(NamedTuple):
    """What a compiled pass needs to read every agent's sample straight from the buffers:
    numpy views of the buffers and of the draws (:meth:`ReplayBuffers.source`)."""

    record: np.ndarray  # float32[C, N, 2P + 3]: slot-major (see the module docstring)
    t_of: np.ndarray  # int64[C]
    next_t_of: np.ndarray  # int64[C]
    filled: np.ndarray  # int64[N]
    pos: int
    u: np.ndarray  # float32[N, B]: the draws that pick the slots
    u_reward: np.ndarray  # float32[N, B]: the draws that pick the rewards' slots
    same_rewards: bool  # no placebo: the rewards are the slots' own
    market: np.ndarray  # float32[T, M, F]
    instrument: np.ndarray  # int64[N]
    mask: np.ndarray  # float32[N, D] (empty: none)
    has_mask: bool
    head_of_t: np.ndarray  # int64[T]: the regime head of each bar (empty: one head)
    has_heads: bool


_NO_MASK = np.empty((0, 0), dtype=np.float32)
_NO_HEADS = np.empty(0, dtype=np.int64)


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
        # Stored slot-major in ``ring`` (the module docstring); ``record`` is its agent-major view.
        self.ring = torch.zeros(c, n, 2 * p + 3, dtype=torch.float32)
        self.record = self.ring.transpose(0, 1)  # [N, C, 2P + 3], a view: no copy
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
            self.ring.numpy(), self.size.numpy(), self.t.numpy(), self.next_t.numpy(), s, t,
            next_t, private.detach().numpy(), next_private.detach().numpy(),
            reward.detach().numpy(), action.numpy(), done.numpy(),
        )  # fmt: skip
        self.pos = (s + 1) % self.capacity
        self.written = min(self.written + 1, self.capacity)

    def copy_rows(self, rows: Tensor, src_rows: Tensor) -> None:
        """Agents ``rows`` take the memories of agents ``src_rows`` (a newborn inherits its
        parent's experience; the ring position and time indices are shared, so rows align).
        Only written slots are copied: early in a run most of the ring is untouched zeros."""
        targets, sources = _agent_rows(rows, self.n_agents), _agent_rows(src_rows, self.n_agents)
        if targets.shape != sources.shape:
            raise ValueError(f"copy_rows: {targets.size} rows but {sources.size} source rows")
        w = self.written
        if w and targets.size:  # slot by slot, each block in cache (torch on the view: ~2.5x)
            scratch = np.empty((targets.size, self.ring.shape[2]), dtype=np.float32)
            _copy_rows(self.ring.numpy(), targets, sources, w, scratch)
        size = self.size.numpy()
        size[targets] = size[sources]

    def clear_rows(self, rows: Tensor) -> None:
        """Forget agents ``rows``' transitions (e.g. a newborn in a dead agent's slot)."""
        self.size[rows] = 0

    def sample(self, batch_size: int, generator: torch.Generator) -> Tensor:
        """Slot indices ``int64[N, B]``, uniform over each agent's own filled slots (the
        slots :meth:`batch` reads for the same draws; with :meth:`gather`, its reference)."""
        u = self.draw(batch_size, generator).numpy()
        slots = np.empty(u.shape, dtype=np.int64)
        _slots(u, self.size.numpy(), self.pos, self.capacity, slots)
        return torch.from_numpy(slots)

    def draw(self, batch_size: int, generator: torch.Generator) -> Tensor:
        """The uniform draws ``float32[N, B]`` that pick a sample's slots (see :func:`_slot`).

        Agent i's filled slots are the ``size[i]`` most recently written ones, so one
        uniform draw per (agent, sample) picks how far back to look.
        """
        if self.size.numpy().min() == 0:  # in numpy: torch's min ran cold, ~90 µs against ~20
            empty = torch.nonzero(self.size == 0).flatten()[:8].tolist()
            raise ValueError(f"cannot sample: agents {empty}… have no transitions yet")
        return torch.rand(self.n_agents, batch_size, generator=generator)

    def gather(self, indices: Tensor) -> Transitions:
        """The transitions at ``indices`` (int64[N, B]) of each agent's own buffer, in torch:
        a learner samples through :meth:`batch`, which tests hold to this."""
        p, (c, n, width) = self.private_dim, self.ring.shape
        flat = indices * n + torch.arange(n).unsqueeze(1)  # rows of the [C * N, width] view
        rec = self.ring.view(c * n, width).index_select(0, flat.flatten()).view(*flat.shape, -1)
        return Transitions(
            t=self.t[indices],
            private=rec[..., :p],
            action=rec[..., 2 * p + 1].to(torch.int64),
            reward=rec[..., 2 * p],
            next_t=self.next_t[indices],
            next_private=rec[..., p : 2 * p],
            done=rec[..., 2 * p + 2] > 0.5,
        )

    def batch(
        self,
        draw: Tensor,
        table: Tensor,
        instrument: Tensor,
        mask: Tensor | None,
        split: RowSplit,
        reward_draw: Tensor | None = None,
        into: Observed | None = None,
    ) -> Observed:
        """The transitions that ``draw`` (from :meth:`draw`) picks, with observations rebuilt:
        :meth:`sample`'s slots, :meth:`gather` and :func:`assemble` on both ends, times
        ``mask`` ``[N, D]`` when given, in one compiled pass over the agents (on ``split``'s
        threads). ``reward_draw``: take each reward from the slots it picks instead (the
        placebo's second draw).

        The same bits as those torch ops (copies and one float32 product each), faster (6.3
        against 9.1 ms at N = 4096): the record rows are random reads across hundreds of
        MiB, and torch made a pass over the batch per op. Nor does it wake torch's thread
        team, whose spin-wait after each op takes a core from the compiled passes.

        ``into``: a batch of the same shape to overwrite (a learner's scratch: at N = 4096
        fresh arrays are ~20 MB that the OS faults in page by page on every update).
        """
        u = draw.numpy()
        n, size = u.shape
        dim = table.shape[2] + self.private_dim
        if into is None or tuple(into.obs.shape) != (n, size, dim):
            into = Observed(
                obs=torch.empty((n, size, dim), dtype=torch.float32),
                action=torch.empty((n, size), dtype=torch.int64),
                reward=torch.empty((n, size), dtype=torch.float32),
                next_obs=torch.empty((n, size, dim), dtype=torch.float32),
                done=torch.empty((n, size), dtype=torch.bool),
                t=torch.empty((n, size), dtype=torch.int64),
                next_t=torch.empty((n, size), dtype=torch.int64),
            )
        obs, action, reward, next_obs, done, t, next_t = (x.numpy() for x in into)
        src = self.source(draw, table, instrument, mask, reward_draw)

        def rows(lo: int, hi: int) -> None:
            _observed_rows(lo, hi, src, obs, next_obs, action, reward, done, t, next_t)

        split.run(rows, n)
        return into

    def source(
        self,
        draw: Tensor,
        table: Tensor,
        instrument: Tensor,
        mask: Tensor | None,
        reward_draw: Tensor | None = None,
        head_of_t: Tensor | None = None,
    ) -> ReplaySource:
        """The sample ``draw`` picks, as a compiled pass reads it (see :meth:`batch`);
        ``head_of_t``: each bar's regime head, for a learner with regime heads."""
        u = draw.numpy()
        return ReplaySource(
            record=self.ring.numpy(),
            t_of=self.t.numpy(),
            next_t_of=self.next_t.numpy(),
            filled=self.size.numpy(),
            pos=self.pos,
            u=u,
            u_reward=u if reward_draw is None else reward_draw.numpy(),
            same_rewards=reward_draw is None,
            market=np.ascontiguousarray(table.numpy()),
            instrument=instrument.numpy(),
            mask=_NO_MASK if mask is None else mask.numpy(),
            has_mask=mask is not None,
            head_of_t=_NO_HEADS if head_of_t is None else head_of_t.numpy(),
            has_heads=head_of_t is not None,
        )

    def nbytes(self) -> int:
        """Bytes held by the buffers (the shared market table is not counted)."""
        tensors = (self.t, self.next_t, self.ring, self.size)
        return sum(x.nelement() * x.element_size() for x in tensors)


@njit(cache=True, error_model="numpy")
def _store(
    record: np.ndarray, size: np.ndarray, t_of: np.ndarray, next_t_of: np.ndarray, slot: int,
    t: int, next_t: int, private: np.ndarray, next_private: np.ndarray, reward: np.ndarray,
    action: np.ndarray, done: np.ndarray,
) -> None:  # fmt: skip
    """Every agent's transition into ``slot`` (``record``: the slot-major ``[C, N, 2P + 3]``
    store): ``[private | next_private | reward, action, done]``, each value cast to float32
    once, as torch's copy into the float32 record does, at times ``t`` → ``next_t``; and
    one more filled slot per agent, up to the capacity."""
    t_of[slot] = t
    next_t_of[slot] = next_t
    capacity = record.shape[0]
    p = private.shape[1]
    block = record[slot]  # every agent's record of this slot, contiguous
    for i in range(record.shape[1]):
        row = block[i]
        for j in range(p):
            row[j] = private[i, j]
            row[p + j] = next_private[i, j]
        row[2 * p] = reward[i]
        row[2 * p + 1] = action[i]
        row[2 * p + 2] = 1.0 if done[i] else 0.0
        size[i] = min(size[i] + 1, capacity)


def _agent_rows(rows: Tensor, n_agents: int) -> np.ndarray:
    """``rows`` as ``int64`` agent indices in ``[0, n_agents)``, a negative one counted from
    the end as torch's indexing does; ``IndexError`` for one out of range (the compiled copy
    does not check)."""
    index = torch.as_tensor(rows, dtype=torch.int64).reshape(-1).numpy()
    if index.size and (index.min() < -n_agents or index.max() >= n_agents):
        raise IndexError(f"agent rows out of range for {n_agents} agents: {index.tolist()[:8]}")
    return np.where(index < 0, index + n_agents, index)


@njit(cache=True, error_model="numpy")
def _copy_rows(
    ring: np.ndarray, rows: np.ndarray, src_rows: np.ndarray, written: int, scratch: np.ndarray
) -> None:
    """``ring[s, rows[r]] = ring[s, src_rows[r]]`` for the first ``written`` slots: per slot
    every source first (into ``scratch``), then every row, so a row that is also a source
    gives its old record, as torch's indexed assignment does."""
    width = ring.shape[2]
    for s in range(written):
        block = ring[s]
        for r in range(rows.shape[0]):
            source = block[src_rows[r]]
            for j in range(width):
                scratch[r, j] = source[j]
        for r in range(rows.shape[0]):
            target = block[rows[r]]
            for j in range(width):
                target[j] = scratch[r, j]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _masked(value: np.float32, mask: np.ndarray, i: int, k: int, masked: bool) -> np.float32:
    """``value`` times agent ``i``'s mask of input ``k`` when there is a mask: the product a
    pass over the finished observation made, made as the value is written (a strided pass
    over the layers' transposed inputs less, ~6 % of an update at N = 4096 with masks)."""
    return value * mask[i, k] if masked else value


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _slot(u: np.float32, filled: int, pos: int, capacity: int) -> int:
    """The slot a uniform draw ``u`` picks among the ``filled`` most recently written:
    ``floor(u * filled)`` steps back from the last write, in float32 as torch computed it
    (the int64 count is cast to float32 first), capped for rounding; Python's modulo."""
    back: int = min(int(u * np.float32(filled)), filled - 1)
    return (pos - 1 - back) % capacity


@njit(cache=True, error_model="numpy")
def _slots(u: np.ndarray, filled: np.ndarray, pos: int, capacity: int, out: np.ndarray) -> None:
    for i in range(u.shape[0]):
        for b in range(u.shape[1]):
            out[i, b] = _slot(u[i, b], filled[i], pos, capacity)


@njit(cache=True, nogil=True, error_model="numpy")
def _observed_rows(
    lo: int, hi: int, src: ReplaySource, obs: np.ndarray, next_obs: np.ndarray,
    action: np.ndarray, reward: np.ndarray, done: np.ndarray, t: np.ndarray,
    next_t: np.ndarray,
) -> None:  # fmt: skip
    """:func:`observed_agent` for agents ``lo`` … ``hi - 1``, into their rows."""
    slots = np.empty(src.u.shape[1], dtype=np.int64)
    rows = np.empty((src.u.shape[1], src.record.shape[2]), dtype=np.float32)
    for i in range(lo, hi):
        observed_agent(
            i, src, obs[i], next_obs[i], action[i], reward[i], done[i], t[i], next_t[i],
            slots, rows,
        )  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def observed_agent(
    i: int, src: ReplaySource, obs: np.ndarray, next_obs: np.ndarray, action: np.ndarray,
    reward: np.ndarray, done: np.ndarray, t: np.ndarray, next_t: np.ndarray,
    slots: np.ndarray, rows: np.ndarray,
) -> None:  # fmt: skip
    """Agent ``i``'s sample: the slots its draws ``src.u[i]`` pick, and each slot's
    observation ``market[t, instrument[i]] ++ private`` (times ``mask[i]``), the next one,
    action, reward (from the slots ``u_reward[i]`` picks unless ``same_rewards``) and done,
    into the ``[B, …]`` arrays ``obs`` … ``next_t``. ``slots`` and ``rows`` are scratch.

    Also the compiled update's loader (:mod:`scarline.learning.update_kernel`), which reads
    an agent's sample straight from the buffer; its ``obs`` and ``next_obs`` are then the
    transposes of the ``[D, B]`` inputs its layers read (strided views: a sample a column).
    """
    record, t_of, next_t_of, filled, pos = src.record, src.t_of, src.next_t_of, src.filled, src.pos
    u, u_reward, market, mask, masked = src.u, src.u_reward, src.market, src.mask, src.has_mask
    instrument = src.instrument
    f = market.shape[2]
    capacity, width = record.shape[0], record.shape[2]
    p = (width - 3) // 2
    size = u.shape[1]
    for b in range(size):
        slots[b] = _slot(u[i, b], filled[i], pos, capacity)
    # first the random reads alone, a few instructions a sample, so that the cache misses
    # of every sample are in flight at once: the two ends of each record (its one or two
    # cache lines), then of each market row; the copies after them read from the cache.
    # A copy loop per record kept only a few records in flight: the full update at N = 4096
    # took 40–43 ms on one thread that way, 36–38 ms this way (bench/learner.py's setup)
    m = instrument[i]
    last, f_last = width - 1, f - 1
    for b in range(size):
        rec = record[slots[b], i]
        rows[b, 0] = rec[0]
        rows[b, last] = rec[last]
    for b in range(size):
        s = slots[b]
        now, then = t_of[s], next_t_of[s]
        t[b] = now
        next_t[b] = then
        if f:
            obs[b, 0] = _masked(market[now, m, 0], mask, i, 0, masked)
            obs[b, f_last] = _masked(market[now, m, f_last], mask, i, f_last, masked)
            next_obs[b, 0] = _masked(market[then, m, 0], mask, i, 0, masked)
            next_obs[b, f_last] = _masked(market[then, m, f_last], mask, i, f_last, masked)
    for b in range(size):
        rec = record[slots[b], i]
        for k in range(1, last):
            rows[b, k] = rec[k]
        o, no, mo, mn = obs[b], next_obs[b], market[t[b], m], market[next_t[b], m]
        for k in range(1, f_last):
            o[k] = _masked(mo[k], mask, i, k, masked)
            no[k] = _masked(mn[k], mask, i, k, masked)
    for b in range(size):
        rec, o, no = rows[b], obs[b], next_obs[b]
        for k in range(p):
            o[f + k] = _masked(rec[k], mask, i, f + k, masked)
            no[f + k] = _masked(rec[p + k], mask, i, f + k, masked)
        if src.same_rewards:
            reward[b] = rec[2 * p]
        else:
            reward[b] = record[_slot(u_reward[i, b], filled[i], pos, capacity), i, 2 * p]
        action[b] = np.int64(rec[2 * p + 1])
        done[b] = rec[2 * p + 2] > 0.5
