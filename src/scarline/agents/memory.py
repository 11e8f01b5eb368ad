"""How much memory a population will take, checked before anything is allocated.

``count = 1_000_000_000`` or ``hidden = [100_000_000]`` must not end in a ``MemoryError`` (or
the kernel's OOM killer) halfway through building the kernel: the estimate below is made from
the config and the market's shape alone, compared with what the machine has available, and a
population that does not fit is refused with a :class:`~scarline.errors.ConfigError` that says
how much it needs. The estimate counts the big arrays (Q-network weights with their target
copy, gradients and Adam moments; replay buffers; the batch each update samples; the shared
feature table; per-agent account, risk and equity rows); it is a lower bound of the peak, not
an exact figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from scarline.agents.config import (
    AgentGroup,
    MeanReversionGroup,
    MomentumGroup,
    QNetGroup,
    RandomEntryGroup,
    SmaGroup,
)
from scarline.errors import ConfigError
from scarline.features.market import feature_names
from scarline.machine_memory import available_memory, gib
from scarline.market.frame import MarketData

PRIVATE_FEATURES = 4
"""= ``len(scarline.agents.qagents.PRIVATE)`` (a test keeps them equal): spelled here so the
estimate does not import torch."""

COPIES_PER_PARAMETER = 5
"""float32 copies of every Q-network parameter: online, target, gradient, Adam m and v."""

PER_AGENT_INSTRUMENT_BYTES = 160
"""Per agent and instrument: positions, pending orders, costs, targets, risk state (int64 /
float64 rows of accounts, broker, risk engine, decisions)."""

PER_AGENT_BYTES = 1024
"""Per agent: scalars of accounts, scars, trust, ladder and labels."""

SAMPLE_FIXED_BYTES = 4 + 8 + 4 + 1 + 8 + 8
"""Per sampled transition of an update, besides its two observations: the uniform draw
(float32), action, reward, done, t and next t (``learning.buffer.Observed``)."""

FEATURE_TABLE_BYTES = 8 * 3 + 4 + 1
"""Per feature cell ``[T, M, F]``: raw, normalized and moments (float64), the table (float32)
and its ready mask (bool)."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes the population needs (``parts``: what each group and the shared rows take)."""

    total: int
    parts: dict[str, int]


def qnet_parameters(group: QNetGroup, obs_dim: int) -> int:
    """Weights and biases of one agent's network (with one action block per regime head)."""
    heads = 3 if group.qnet.regime_heads else 1
    sizes = [obs_dim, *group.qnet.hidden, heads * group.qnet.n_actions]
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in pairwise(sizes))


def _agents(group: AgentGroup) -> int:
    """Agents of a group (an upper bound for SMA: every pair, even fast >= slow)."""
    if isinstance(group, QNetGroup | RandomEntryGroup):
        return group.count
    if isinstance(group, SmaGroup):
        return len(group.fast) * len(group.slow)
    if isinstance(group, MomentumGroup):
        return len(group.lookbacks)
    if isinstance(group, MeanReversionGroup):
        return len(group.windows)
    return 1


def estimate_memory(
    groups: Sequence[AgentGroup], market: MarketData, *, keep_equity: bool = True
) -> MemoryEstimate:
    """Bytes of the big arrays a population of ``groups`` on ``market`` allocates."""
    steps, m = market.n_steps, market.n_instruments
    n = sum(_agents(g) for g in groups)
    parts = {"agents": n * (PER_AGENT_BYTES + m * PER_AGENT_INSTRUMENT_BYTES)}
    if keep_equity:
        parts["equity paths"] = n * steps * 8
    for i, group in enumerate(groups):
        if not isinstance(group, QNetGroup):
            continue
        features = len(feature_names(group.features, market.exog_names))
        obs_dim = features + PRIVATE_FEATURES
        q = group.qnet
        parts[f"agents[{i}] networks"] = (
            group.count * qnet_parameters(group, obs_dim) * COPIES_PER_PARAMETER * 4
        )
        record = 2 * PRIVATE_FEATURES + 3
        parts[f"agents[{i}] replay buffers"] = group.count * q.buffer_capacity * record * 4
        if group.learn:  # each update samples batch_size transitions per agent, observed
            sample = SAMPLE_FIXED_BYTES + 2 * obs_dim * 4
            parts[f"agents[{i}] update batch"] = group.count * q.batch_size * sample
        parts[f"agents[{i}] feature table"] = steps * m * features * FEATURE_TABLE_BYTES
    return MemoryEstimate(sum(parts.values()), parts)


def check_memory(
    groups: Sequence[AgentGroup],
    market: MarketData,
    *,
    keep_equity: bool = True,
    available: int | None = None,
) -> MemoryEstimate:
    """The estimate, or a :class:`ConfigError` when it exceeds the available memory
    (``available``: bytes, default :func:`available_memory`)."""
    estimate = estimate_memory(groups, market, keep_equity=keep_equity)
    have = available if available is not None else available_memory()
    if have is not None and estimate.total > have:
        biggest = sorted(estimate.parts.items(), key=lambda kv: -kv[1])[:3]
        detail = ", ".join(f"{name} {gib(size)}" for name, size in biggest)
        raise ConfigError(
            f"agents: the population needs about {gib(estimate.total)} of memory ({detail}), "
            f"but {gib(have)} is available: lower agents[].count, qnet.hidden, "
            "qnet.buffer_capacity or qnet.batch_size, or use a shorter market"
        )
    return estimate
