"""Config of a learning (DQN) agent group: network shape, exploration, replay and optimizer.

One config describes every agent of a group; per-agent differences (epsilon floors from
scars, mutated weights) live in tensors, not here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from scarline.strict import Strict

MAX_LR = 1.0
"""The largest learning rate a new run takes. Adam moves each weight by about ``lr`` per
update: beyond 1 a learning rate is a typo (``3`` for ``3e-4``), and past float32's range
(~3.4e38) it silently turned every weight into NaN while the run went on."""

MAX_REWARD_SCALE = 1e6
"""The largest reward scale a new run takes. A step's log return is at most ~44 in size
(int64 cash), so rewards stay far inside float32; 1e308 made them ``inf`` and every weight
NaN, silently."""


class QNetConfig(Strict):
    """Defaults follow CleanRL's DQN, scaled down to tiny per-agent networks."""

    hidden: list[int] = Field(
        default_factory=lambda: [32],
        min_length=1,
        max_length=2,
        description="units of each hidden layer (one or two layers)",
    )
    actions: list[Annotated[float, Field(ge=-10.0, le=10.0)]] = Field(
        default_factory=lambda: [-1.0, 0.0, 1.0],
        min_length=2,
        max_length=1024,
        description="target exposure of each discrete action, e.g. short / flat / long",
    )
    epsilon_start: float = Field(
        default=1.0, ge=0, le=1, description="exploration rate at the first step"
    )
    epsilon_end: float = Field(
        default=0.05, ge=0, le=1, description="exploration rate after the decay (<= start)"
    )
    epsilon_decay_steps: int = Field(
        default=2000, ge=1, description="steps of the linear decay from start to end"
    )
    lr: float = Field(
        default=1e-3,
        gt=0,
        description="Adam learning rate, within the group's evolution.domain "
        "[lr_min, lr_max] (1e-5 .. 1e-2 by default); a new run takes at most 1",
    )
    gamma: float = Field(default=0.99, ge=0, le=1, description="discount factor")
    reward_scale: float = Field(
        default=100.0,
        gt=0,
        description="rewards (per-step log returns, ~1e-2) are multiplied by it, keeping "
        "Q-values near unit size; a new run takes at most 1e6",
    )
    huber_delta: float = Field(default=1.0, gt=0, description="Huber loss threshold")
    grad_clip: float = Field(default=10.0, gt=0, description="max gradient L2 norm, per agent")
    batch_size: int = Field(default=32, ge=1, description="transitions per update, per agent")
    buffer_capacity: int = Field(
        default=2048, ge=1, description="replay buffer size, transitions per agent"
    )
    train_every: int = Field(default=4, ge=1, description="steps between updates")
    target_update_every: int = Field(
        default=250, ge=1, description="updates (not steps) between target-network copies"
    )
    warmup_steps: int = Field(default=64, ge=0, description="no update before this step")
    torch_threads: int = Field(
        default=0,
        ge=0,
        le=1024,
        description="torch CPU threads; 0 keeps the process's setting (torch's default: the "
        "machine's cores; gate and island workers pin one). A speed knob only: results do not "
        "depend on it (docs/learning.md, Determinism)",
    )
    update: Literal["auto", "compiled", "torch"] = Field(
        default="auto",
        description="how a DQN update runs: 'compiled' (each agent's whole update in one "
        "compiled pass, ~1.5x faster), 'torch' (autograd and torch's Adam: the same algorithm, "
        "weights that differ in the last bits) or 'auto' (compiled for runs of schema 12 on, "
        "torch for older runs, so they replay; docs/learning.md, 'The compiled update')",
    )
    init: Literal["kaiming-uniform"] = Field(
        default="kaiming-uniform", description="weight initialization of the founders"
    )
    double: bool = Field(
        default=False,
        description="Double DQN (van Hasselt et al. 2016): the online network picks the next "
        "action and the target network values it, so the max over noisy action values does "
        "not inflate targets",
    )
    regime_heads: bool = Field(
        default=False,
        description="one block of action values per macro regime (calm / trend / chaos): the "
        "regime in force picks the block that acts, each transition trains its own block; "
        "needs [regime.hmm]",
    )
    shuffle_rewards: bool = Field(
        default=False,
        description=(
            "Placebo for the gates' label-shuffle test (never for real runs): each sampled "
            "batch's rewards are replaced by rewards of other transitions drawn uniformly "
            "from the same agent's replay buffer (the learner's own generator), so the reward "
            "distribution is kept but its link to observations and actions is broken."
        ),
    )

    @model_validator(mode="after")
    def _check(self) -> QNetConfig:
        if any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden: every layer needs >= 1 unit, got {self.hidden}")
        if self.epsilon_end > self.epsilon_start:
            raise ValueError(
                f"epsilon_end ({self.epsilon_end}) must be <= epsilon_start ({self.epsilon_start})"
            )
        if len(set(self.actions)) != len(self.actions):
            raise ValueError(f"actions: exposure levels must be distinct, got {self.actions}")
        return self

    def new_run_problems(self, where: str) -> list[str]:
        """Why a new run must not start with these values (empty: it may). Not a field
        bound: a run recorded with them before the bound existed still loads and replays."""
        problems = []
        if self.lr > MAX_LR:
            problems.append(
                f"{where}.lr = {self.lr} is above {MAX_LR}: Adam moves each weight by ~lr per "
                "update (a typo for e.g. 3e-4?)"
            )
        if self.reward_scale > MAX_REWARD_SCALE:
            problems.append(
                f"{where}.reward_scale = {self.reward_scale} is above {MAX_REWARD_SCALE:g}: "
                "rewards would leave float32 and turn the networks into NaN"
            )
        return problems

    @property
    def n_actions(self) -> int:
        return len(self.actions)
