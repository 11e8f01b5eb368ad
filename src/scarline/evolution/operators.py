"""Mutation operators: each changes some genes of the selected rows, all rows at once.

Every operator is deterministic given its generator, draws the same amount of randomness for
a given number of rows whatever the genes hold (so a no-op row never shifts later draws), and
declares what it may touch in :data:`OPERATOR_GENES`. It never leaves the
:class:`~scarline.evolution.genome.GeneDomain`: float genes stay in their ``[min, max]``, at
least ``min_features`` features stay on, entry and risk indices stay valid, and the risk
index never decreases (an offspring's risk can be tightened, never loosened).

Each operator returns a :class:`MutationLog` of the rows it actually changed, so the kernel
can journal Mutation events.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike
from pydantic import Field

from scarline.evolution.genome import GeneDomain, Genes, clip_gene
from scarline.learning.qnet import QPopulation
from scarline.strict import Strict


@dataclass(frozen=True, eq=False)
class MutationLog:
    """What one operator did: ``before``/``after`` are ``float64[K, len(fields)]`` per row."""

    operator: str
    rows: np.ndarray  # int64[K], the agents actually changed
    fields: tuple[str, ...]
    before: np.ndarray
    after: np.ndarray

    def __len__(self) -> int:
        return self.rows.size


OPERATOR_GENES: dict[str, tuple[str, ...]] = {
    "weights": ("weights", "sigma"),
    "hyper": ("lr", "epsilon_floor", "scar_sensitivity"),
    "add_feature": ("feature_mask",),
    "drop_feature": ("feature_mask",),
    "swap_topology": ("entry",),
    "tighten_risk": ("risk",),
}
"""The declared domain of each operator: the genes it may change (all others stay equal)."""


def _rows(rows: np.ndarray, n: int) -> np.ndarray:
    rows = np.asarray(rows)
    if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
        raise ValueError(f"rows must be a 1-D integer array, got {rows.dtype}{list(rows.shape)}")
    rows = rows.astype(np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise ValueError(f"rows must be in [0, {n}), got {rows.min()}..{rows.max()}")
    if np.unique(rows).size != rows.size:
        raise ValueError("rows must be distinct")
    return rows


def _log(
    name: str, rows: np.ndarray, fields: tuple[str, ...], before: ArrayLike, after: ArrayLike
) -> MutationLog:
    k = len(fields)
    return MutationLog(
        name,
        rows.astype(np.int64),
        fields,
        np.asarray(before, np.float64).reshape(-1, k),
        np.asarray(after, np.float64).reshape(-1, k),
    )


def mutate_weights(
    net: QPopulation,
    rows: np.ndarray,
    genes: Genes,
    domain: GeneDomain,
    generator: torch.Generator,
) -> MutationLog:
    """Self-adaptive Gaussian mutation of the weights of ``rows`` (a (1, λ)-ES step).

    Each row first mutates its own step size, ``sigma' = sigma · exp(tau · N(0, 1))`` clipped
    to the domain, with Schwefel's learning rate ``tau = 1 / sqrt(2 · sqrt(P))`` (P = weights
    per agent; Schwefel 1977, Beyer & Schwefel 2002, "Evolution strategies: a comprehensive
    introduction", Natural Computing 1, §4.1), then every weight and bias of the row moves by
    ``sigma' · N(0, 1)``. Step sizes that produce good offspring are inherited with them, so
    the population tunes its own mutation strength instead of relying on a fixed one.

    Draws, in order: K normals for the step sizes, then for each tensor of
    ``net.parameters()`` the ``[K, …]`` normals of its rows. Rows outside ``rows`` are not
    touched. A learner must then reset those rows (``DQNLearner.reset_rows``).
    """
    if net.n_agents != genes.n:
        raise ValueError(f"genes hold {genes.n} agents, the network {net.n_agents}")
    rows = _rows(rows, genes.n)
    k = rows.size
    if k == 0:
        return _log("weights", rows, ("sigma",), [], [])
    params = net.parameters()
    n_params = sum(p[0].numel() for p in params)
    tau = 1.0 / math.sqrt(2.0 * math.sqrt(n_params))
    z = torch.randn(k, generator=generator, dtype=torch.float64).numpy()
    before = genes.sigma[rows].astype(np.float64)
    after = clip_gene(before * np.exp(tau * z), *domain.bounds("sigma"))
    genes.sigma[rows] = after
    idx = torch.from_numpy(rows)
    step = torch.from_numpy(after)
    with torch.no_grad():
        for p in params:
            noise = torch.randn((k, *p.shape[1:]), generator=generator, dtype=p.dtype)
            scale = step.view(-1, *([1] * (p.dim() - 1)))
            p.index_copy_(0, idx, p.index_select(0, idx) + scale * noise)
    return _log("weights", rows, ("sigma",), before, after)


def mutate_hyper(
    genes: Genes, rows: np.ndarray, domain: GeneDomain, rng: np.random.Generator
) -> MutationLog:
    """Perturb learning rate, exploration floor and scar sensitivity of ``rows``.

    ``lr`` and ``scar_sensitivity`` are scale parameters, so they move by a log-normal factor
    (``exp(step · N(0, 1))``, steps ``domain.lr_log_step`` / ``scar_sensitivity_log_step``);
    ``epsilon_floor`` is a probability near 0 and moves additively (``epsilon_floor_step``).
    All are clipped to the domain. Draws ``[K, 3]`` normals.
    """
    rows = _rows(rows, genes.n)
    z = rng.standard_normal((rows.size, 3))
    fields = OPERATOR_GENES["hyper"]
    before = np.stack([getattr(genes, f)[rows].astype(np.float64) for f in fields], axis=1)
    proposed = (
        before[:, 0] * np.exp(domain.lr_log_step * z[:, 0]),
        before[:, 1] + domain.epsilon_floor_step * z[:, 1],
        before[:, 2] * np.exp(domain.scar_sensitivity_log_step * z[:, 2]),
    )
    for f, values in zip(fields, proposed, strict=True):
        getattr(genes, f)[rows] = clip_gene(values, *domain.bounds(f))
    after = np.stack([getattr(genes, f)[rows].astype(np.float64) for f in fields], axis=1)
    return _log("hyper", rows, fields, before, after)


def _flip_one(
    name: str,
    genes: Genes,
    rows: np.ndarray,
    eligible_cell: np.ndarray,
    row_ok: np.ndarray,
    rng: np.random.Generator,
    value: bool,
) -> MutationLog:
    """Set one uniformly chosen eligible feature of every ``row_ok`` row to ``value``."""
    keys = rng.random(eligible_cell.shape)  # always K x F draws
    keys[~eligible_cell] = -1.0  # argmax of iid uniforms over the eligible cells: uniform pick
    pick = keys.argmax(axis=1)[row_ok]
    changed = rows[row_ok]
    genes.feature_mask[changed, pick] = value
    before = np.stack([pick, np.full(pick.size, float(not value))], axis=1)
    after = np.stack([pick, np.full(pick.size, float(value))], axis=1)
    return _log(name, changed, ("feature", "enabled"), before, after)


def op_add_feature(
    genes: Genes, rows: np.ndarray, domain: GeneDomain, rng: np.random.Generator
) -> MutationLog:
    """Each row turns on one of its off features, chosen uniformly (no-op if all are on)."""
    rows = _rows(rows, genes.n)
    off = ~genes.feature_mask[rows]
    return _flip_one("add_feature", genes, rows, off, off.any(axis=1), rng, True)


def op_drop_feature(
    genes: Genes, rows: np.ndarray, domain: GeneDomain, rng: np.random.Generator
) -> MutationLog:
    """Each row turns off one of its on features, never going below ``min_features``."""
    rows = _rows(rows, genes.n)
    on = genes.feature_mask[rows]
    return _flip_one(
        "drop_feature", genes, rows, on, on.sum(axis=1) > domain.min_features, rng, False
    )


def op_swap_execution_topology(
    genes: Genes, rows: np.ndarray, domain: GeneDomain, rng: np.random.Generator
) -> MutationLog:
    """Market entry ↔ limit entry (to the next of ``domain.entries``); no draws.

    A no-op when the domain allows a single entry style.
    """
    rows = _rows(rows, genes.n)
    n_entries = len(domain.entries)
    if n_entries < 2:
        rows = rows[:0]
    before = genes.entry[rows].astype(np.int64)
    after = (before + 1) % n_entries
    genes.entry[rows] = after
    return _log("swap_topology", rows, ("entry",), before, after)


def op_tighten_risk(
    genes: Genes, rows: np.ndarray, domain: GeneDomain, rng: np.random.Generator
) -> MutationLog:
    """Move to the next, tighter risk template (capped at the last); never loosens; no draws."""
    rows = _rows(rows, genes.n)
    last = len(domain.risk_templates) - 1
    risk = genes.risk[rows].astype(np.int64)
    changed, before = rows[risk < last], risk[risk < last]
    after = before + 1
    genes.risk[changed] = after
    caps = np.asarray(domain.risk_templates, dtype=np.float32).astype(np.float64)
    return _log(
        "tighten_risk",
        changed,
        ("risk_template", "exposure_cap"),
        np.stack([before, caps[before]], axis=1),
        np.stack([after, caps[after]], axis=1),
    )


GeneOperator = Callable[[Genes, np.ndarray, GeneDomain, np.random.Generator], MutationLog]

OPERATORS: dict[str, GeneOperator] = {
    "hyper": mutate_hyper,
    "add_feature": op_add_feature,
    "drop_feature": op_drop_feature,
    "swap_topology": op_swap_execution_topology,
    "tighten_risk": op_tighten_risk,
}
"""The gene operators by name (``mutate_weights`` also needs the network: name "weights")."""

MUTATION_ORDER: tuple[str, ...] = ("weights", *OPERATORS)
"""The fixed order :func:`mutate` applies the operators in (and returns their logs in)."""


class MutationRates(Strict):
    """Probability that each operator is applied to a given offspring row."""

    weights: float = Field(
        default=1.0, ge=0, le=1, description="self-adaptive Gaussian noise on the weights"
    )
    hyper: float = Field(
        default=0.5, ge=0, le=1, description="mutate lr, exploration floor, scar sensitivity"
    )
    add_feature: float = Field(default=0.05, ge=0, le=1, description="one unused feature on")
    drop_feature: float = Field(default=0.05, ge=0, le=1, description="one used feature off")
    swap_topology: float = Field(default=0.05, ge=0, le=1, description="market <-> limit entry")
    tighten_risk: float = Field(
        default=0.02, ge=0, le=1, description="one risk template tighter (never looser)"
    )


def mutate(
    genes: Genes,
    net: QPopulation,
    rows: np.ndarray,
    rates: MutationRates,
    domain: GeneDomain,
    rng: np.random.Generator,
    torch_gen: torch.Generator,
) -> list[MutationLog]:
    """Apply every operator of :data:`MUTATION_ORDER` to a Bernoulli(rate) subset of ``rows``.

    For each operator in turn: K uniforms choose its subset (drawn even at rate 0 or 1), then
    the operator runs on that subset. Returns one log per operator, in that order.
    """
    rows = _rows(rows, genes.n)
    logs = []
    for name in MUTATION_ORDER:
        chosen = rows[rng.random(rows.size) < getattr(rates, name)]
        if name == "weights":
            logs.append(mutate_weights(net, chosen, genes, domain, torch_gen))
        else:
            logs.append(OPERATORS[name](genes, chosen, domain, rng))
    return logs
