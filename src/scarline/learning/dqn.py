"""DQN for a whole population at once: one loss per agent, one Adam over the stacked weights.

Readable top to bottom in the manner of CleanRL's ``dqn.py``. Agents stay independent while
sharing tensors and an optimizer because:

- the summed loss ``sum_i loss_i`` has gradient ``d loss_i`` on agent i's rows (the rows are
  never mixed by the forward pass);
- gradient clipping is per agent (a global clip would let one agent's huge loss shrink
  everyone's step);
- Adam's moments are per element, so agent i's step depends only on agent i's gradients (the
  step counter and learning rate are shared, which is harmless because all agents update
  together; no weight decay).

With ``update = "compiled"`` the same update runs agent by agent in one compiled pass
(:mod:`scarline.learning.update_kernel`), where these properties hold by construction.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from scarline.learning.buffer import Observed, ReplayBuffers, ReplaySource
from scarline.learning.config import QNetConfig
from scarline.learning.qnet import QPopulation
from scarline.learning.row_split import RowSplit
from scarline.learning.update_kernel import AdamHyper, AdamMoments, dqn_update

_ADAM_BETAS = (0.9, 0.999)  # torch.optim.Adam's defaults, which the torch update uses
_ADAM_EPS = 1e-8


def _array(x: Tensor, dtype: type) -> np.ndarray:
    """A C-ordered numpy array of ``x`` in ``dtype`` (a view when it already is one)."""
    return np.ascontiguousarray(x.detach().numpy(), dtype=dtype)


def _arrays(batch: Batch) -> tuple[np.ndarray, ...]:
    """``batch`` as the compiled update takes it (heads of zeros with one head)."""
    no_head = np.zeros(tuple(batch.action.shape), dtype=np.int64)
    return (
        _array(batch.obs, np.float32), _array(batch.action, np.int64),
        _array(batch.reward, np.float32), _array(batch.next_obs, np.float32),
        _array(batch.done, np.bool_),
        no_head if batch.head is None else _array(batch.head, np.int64),
        no_head if batch.next_head is None else _array(batch.next_head, np.int64),
    )  # fmt: skip


def clip_grad_norm_per_agent_(params: list[Tensor], max_norm: float) -> Tensor:
    """Scale each agent's gradient slices so that agent's L2 norm is at most ``max_norm``.

    Agent i's norm is taken over row i of every stacked parameter, like
    ``torch.nn.utils.clip_grad_norm_`` on agent i's own network. Returns the norms before
    clipping, ``float32[N]``.
    """
    grads = [p.grad for p in params if p.grad is not None]
    sq = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0)
    norm = sq.sqrt()
    scale = (max_norm / (norm + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))
    return norm


class Batch(NamedTuple):
    """``[N, B, …]`` transitions with observations rebuilt from the feature table."""

    obs: Tensor
    action: Tensor
    reward: Tensor
    next_obs: Tensor
    done: Tensor
    head: Tensor | None = None  # int64[N, B]: the regime head of obs (None: one head)
    next_head: Tensor | None = None


def select_head(q: Tensor, head: Tensor, heads: int) -> Tensor:
    """``q`` ``[N, B, heads * A]`` → ``[N, B, A]``: each sample's own head's action values."""
    n, b, _ = q.shape
    blocks = q.view(n, b, heads, -1)
    index = head.view(n, b, 1, 1).expand(n, b, 1, blocks.shape[3])
    return blocks.gather(2, index).squeeze(2)


class DQNLearner:
    """Trains ``online`` in place; keeps the target network and the optimizer."""

    def __init__(self, online: QPopulation, cfg: QNetConfig, compiled_auto: bool = True) -> None:
        """``compiled_auto``: whether ``update = "auto"`` means the compiled update (the run's
        schema is 12 or later, :data:`scarline.events.COMPILED_UPDATE_SCHEMA`)."""
        self.cfg = cfg
        self.online = online
        self.target = online.clone()
        # update = "compiled": Adam's moments live in the kernel's layout, no torch optimizer
        self.moments: AdamMoments | None = None
        self.optimizer: torch.optim.Adam | None = None
        if cfg.update == "compiled" or (cfg.update == "auto" and compiled_auto):
            n_params = sum(p[0].numel() for p in online.parameters())
            self.moments = AdamMoments(online.n_agents, n_params)
        else:
            # foreach: one multi-tensor kernel per Adam op instead of one per parameter (2.4x
            # at N = 4096); bit-identical to the single-tensor loop, so runs recorded with it
            # replay (tests/learning/test_dqn.py). fused=True is 4x faster again but rounds
            # differently.
            self.optimizer = torch.optim.Adam(online.parameters(), lr=cfg.lr, foreach=True)
        self.updates = 0
        self.grad_norm = torch.zeros(online.n_agents)  # per agent, before clipping, last update
        # per-agent learning rate as a multiple of cfg.lr (evolved genes); None: all 1
        self.lr_scale: Tensor | None = None
        # regime heads: the output is `heads` blocks of actions; head_of_t[t] (int64[T]) is
        # the block that acted at step t, so each transition trains its own regime's head
        self.heads = 1
        self.head_of_t: Tensor | None = None
        # the compiled passes' threads: torch's count (configure_torch), results do not vary
        self.split = RowSplit(torch.get_num_threads)
        self._scratch: Observed | None = None  # learn()'s batch arrays, reused

    def due(self, step: int) -> bool:
        """Whether the kernel should train at ``step`` (after warm-up, every ``train_every``)."""
        return step >= self.cfg.warmup_steps and step % self.cfg.train_every == 0

    def update(
        self,
        obs: Tensor,
        action: Tensor,
        reward: Tensor,
        next_obs: Tensor,
        done: Tensor,
        head: Tensor | None = None,
        next_head: Tensor | None = None,
    ) -> Tensor:
        """One DQN step on ``[N, B, …]`` batches; returns each agent's loss, ``float32[N]``."""
        cfg = self.cfg
        batch = Batch(obs, action, reward, next_obs, done, head, next_head)
        if self.moments is not None:
            loss = self._compiled_update(_arrays(batch), self.moments)
        else:
            assert self.optimizer is not None
            loss = self.td_loss(self.online, batch)
            self.optimizer.zero_grad()
            loss.sum().backward()  # agent i's rows get exactly d loss_i
            self.grad_norm = clip_grad_norm_per_agent_(self.online.parameters(), cfg.grad_clip)
            self._step(self.optimizer)
        return self._updated(loss)

    def _updated(self, loss: Tensor) -> Tensor:
        """Count the update; sync the target network every ``target_update_every``."""
        self.updates += 1
        if self.updates % self.cfg.target_update_every == 0:
            self.sync_target()
        return loss.detach()

    def _compiled_update(
        self, batch: tuple[np.ndarray, ...] | ReplaySource, moments: AdamMoments
    ) -> Tensor:
        """:meth:`update`'s work in one compiled pass per agent
        (:func:`scarline.learning.update_kernel.dqn_update`): the same algorithm, with
        torch's Adam defaults (betas 0.9, 0.999; eps 1e-8) and ``lr_scale`` scaling each
        agent's step."""
        cfg, step, n = self.cfg, self.updates + 1, self.online.n_agents
        beta1, beta2 = _ADAM_BETAS
        hyper = AdamHyper(
            cfg.gamma, cfg.huber_delta, cfg.grad_clip, cfg.lr / (1.0 - beta1**step), beta1,
            beta2, _ADAM_EPS, math.sqrt(1.0 - beta2**step),
        )  # fmt: skip
        scale = (
            np.ones(n, dtype=np.float32)
            if self.lr_scale is None
            else _array(self.lr_scale, np.float32)
        )
        loss, norm = dqn_update(
            self.online.arrays(), self.target.arrays(), moments, batch, hyper, scale,
            self.online.n_actions // self.heads, self.cfg.double, self.split,
        )  # fmt: skip
        self.grad_norm = torch.from_numpy(norm)
        return torch.from_numpy(loss)

    def _step(self, optimizer: torch.optim.Adam) -> None:
        """Adam's step, scaled per agent by ``lr_scale``: without weight decay an Adam step
        is exactly proportional to the learning rate, so scaling the step of row i by
        ``lr_i / lr`` is Adam with learning rate ``lr_i`` for agent i."""
        if self.lr_scale is None:
            optimizer.step()
            return
        params = self.online.parameters()
        before = [p.detach().clone() for p in params]
        optimizer.step()
        with torch.no_grad():
            for p, old in zip(params, before, strict=True):
                scale = self.lr_scale.view(-1, *([1] * (p.dim() - 1)))
                p.copy_(old.lerp_(p, scale))  # old + scale * (new - old), in place

    def td_loss(self, online: QPopulation, batch: Batch) -> Tensor:
        """Huber TD error of ``online`` against the target network, ``float32[N]``.

        Public so one fixed probe batch can be scored with any weights (before and after
        training): on markets the logged training loss is dominated by reward noise.
        """
        with torch.no_grad():
            target_q = self.target.forward(batch.next_obs)
            if batch.next_head is not None:
                target_q = select_head(target_q, batch.next_head, self.heads)
            if self.cfg.double:  # Double DQN: the online net picks, the target net values
                online_q = online.forward(batch.next_obs)
                if batch.next_head is not None:
                    online_q = select_head(online_q, batch.next_head, self.heads)
                best = online_q.argmax(dim=2, keepdim=True)
                target_max = target_q.gather(2, best).squeeze(2)
            else:
                target_max = target_q.max(dim=2).values
            not_done = 1.0 - batch.done.to(torch.float32)
            td_target = batch.reward + self.cfg.gamma * target_max * not_done
        q_all = online.forward(batch.obs)
        if batch.head is not None:
            q_all = select_head(q_all, batch.head, self.heads)
        q_taken = q_all.gather(2, batch.action.unsqueeze(2)).squeeze(2)
        loss = F.huber_loss(q_taken, td_target, reduction="none", delta=self.cfg.huber_delta)
        return loss.mean(dim=1)  # [N]: one loss per agent

    def sample(
        self,
        buffers: ReplayBuffers,
        table: Tensor,
        instrument: Tensor,
        generator: torch.Generator,
        size: int | None = None,
        obs_mask: Tensor | None = None,
    ) -> Batch:
        """``size`` (default ``batch_size``) transitions per agent with rebuilt observations,
        multiplied by ``obs_mask`` ``[N, D]`` when given (features an agent does not use).

        With ``shuffle_rewards`` (a placebo) the rewards come from a second, independent
        uniform draw over each agent's own filled slots, made after the batch's draw from
        the same ``generator``: off, no extra number is drawn.
        """
        observed = self._observe(buffers, table, instrument, generator, size, obs_mask, None)
        return self._batch(observed)

    def learn(
        self,
        buffers: ReplayBuffers,
        table: Tensor,
        instrument: Tensor,
        generator: torch.Generator,
        obs_mask: Tensor | None = None,
    ) -> Tensor:
        """One :meth:`update` on a freshly sampled batch. The torch update's batch is
        written over the last one's arrays (an update keeps nothing of its batch); the
        compiled update reads each agent's batch straight from its buffer (the same draws,
        the same values), never writing the population's out."""
        if self.moments is None:
            self._scratch = self._observe(
                buffers, table, instrument, generator, None, obs_mask, self._scratch
            )
            return self.update(*self._batch(self._scratch))
        draw, shuffled = self._draws(buffers, self.cfg.batch_size, generator)
        source = buffers.source(draw, table, instrument, obs_mask, shuffled, self.head_of_t)
        return self._updated(self._compiled_update(source, self.moments))

    def _draws(
        self, buffers: ReplayBuffers, size: int, generator: torch.Generator
    ) -> tuple[Tensor, Tensor | None]:
        """The batch's draws, then (placebo only) the rewards' draws: the order replay needs."""
        draw = buffers.draw(size, generator)
        shuffled = buffers.draw(size, generator) if self.cfg.shuffle_rewards else None
        return draw, shuffled

    def _observe(
        self,
        buffers: ReplayBuffers,
        table: Tensor,
        instrument: Tensor,
        generator: torch.Generator,
        size: int | None,
        obs_mask: Tensor | None,
        into: Observed | None,
    ) -> Observed:
        draw, shuffled = self._draws(buffers, size or self.cfg.batch_size, generator)
        return buffers.batch(draw, table, instrument, obs_mask, self.split, shuffled, into)

    def _batch(self, b: Observed) -> Batch:
        if self.head_of_t is None:
            return Batch(b.obs, b.action, b.reward, b.next_obs, b.done)
        head, next_head = self.head_of_t[b.t], self.head_of_t[b.next_t]
        return Batch(b.obs, b.action, b.reward, b.next_obs, b.done, head, next_head)

    def sync_target(self) -> None:
        self.target.copy_(self.online)

    def reset_rows(self, rows: Tensor) -> None:
        """After agents ``rows`` got new weights: zero their Adam moments, copy their target.

        Adam's step counter is shared, so bias correction is already ~1 for a reset row and
        its steps start larger than a fresh optimizer's (up to ~6x lr per element for a
        steady gradient) until its second moment warms up over ~1/(1-beta2) = 1000 updates.
        """
        if self.moments is not None:
            self.moments.reset_rows(rows.numpy())
        elif self.optimizer is not None:
            with torch.no_grad():
                for p in self.online.parameters():
                    state = self.optimizer.state.get(p, {})
                    for key in ("exp_avg", "exp_avg_sq"):
                        if key in state:
                            state[key][rows] = 0.0
        self.target.replace_rows(rows, self.online, rows)
