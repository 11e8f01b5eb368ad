"""Selection: who reproduces, who survives, which slots the newborns take.

Fitness is ``float64[N]`` with NaN for dead agents (see :mod:`scarline.evolution.fitness`).
A dead agent never reproduces. All choices are vectorized and deterministic: random ones
depend only on the numpy Generator, and ties always go to the lower row (parents before
children in :func:`mu_plus_lambda`).
"""

from __future__ import annotations

import numpy as np


def _fitness(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {values.shape}")
    return values


def tournament(
    fitness: np.ndarray, n_children: int, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Parent row of each child, ``int64[n_children]``, by k-tournaments.

    Each child draws ``k`` contestants uniformly with replacement among the agents with a
    finite fitness and takes the fittest (ties: the first drawn). Larger k means stronger
    selection pressure; k = 1 is uniform choice. Draws ``[n_children, k]`` integers.
    """
    fitness = _fitness(fitness, "fitness")
    if k < 1:
        raise ValueError(f"tournament size k must be >= 1, got {k}")
    if n_children < 0:
        raise ValueError(f"n_children must be >= 0, got {n_children}")
    eligible = np.flatnonzero(np.isfinite(fitness))
    if eligible.size == 0:
        raise ValueError(
            f"tournament: no agent with a finite fitness among {fitness.size} (all dead?)"
        )
    contestants = eligible[rng.integers(0, eligible.size, size=(n_children, k))]
    best = fitness[contestants].argmax(axis=1)
    return contestants[np.arange(n_children), best].astype(np.int64)


def _rank(fitness: np.ndarray) -> np.ndarray:
    """Rows best first: finite by descending fitness, then NaN; ties by lower row."""
    dead = np.isnan(fitness)
    key = np.where(dead, 0.0, -fitness)
    return np.lexsort((np.arange(fitness.size), key, dead))


def mu_plus_lambda(
    parent_fitness: np.ndarray, child_fitness: np.ndarray, mu: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``mu`` best of parents ∪ children, as (kept parent rows, kept child rows).

    Elitist: a parent survives unless ``mu`` others beat it. NaN (dead) ranks last; ties go
    to parents, then to the lower row. Both outputs are ``int64``, ascending.
    """
    parent_fitness = _fitness(parent_fitness, "parent_fitness")
    child_fitness = _fitness(child_fitness, "child_fitness")
    n_parents, total = parent_fitness.size, parent_fitness.size + child_fitness.size
    if not 0 <= mu <= total:
        raise ValueError(f"mu must be in [0, {total}], got {mu}")
    kept = _rank(np.concatenate([parent_fitness, child_fitness]))[:mu]
    kept.sort()
    parents = kept[kept < n_parents]
    return parents.astype(np.int64), (kept[kept >= n_parents] - n_parents).astype(np.int64)


def replacement_rows(fitness: np.ndarray, alive: np.ndarray, n_births: int) -> np.ndarray:
    """The slots that receive ``n_births`` offspring, ``int64[n_births]``.

    Dead slots first (ascending row), then the worst living agents (ascending fitness, NaN
    first, ties by lower row): births fill the room ruin left before they push anyone out.
    """
    fitness = _fitness(fitness, "fitness")
    alive = np.asarray(alive, dtype=bool)
    if alive.shape != fitness.shape:
        raise ValueError(f"alive has shape {alive.shape}, fitness {fitness.shape}")
    if not 0 <= n_births <= fitness.size:
        raise ValueError(f"n_births must be in [0, {fitness.size}], got {n_births}")
    living = np.flatnonzero(alive)
    f = fitness[living]
    unknown = np.isnan(f)
    worst_first = living[np.lexsort((living, np.where(unknown, 0.0, f), ~unknown))]
    return np.concatenate([np.flatnonzero(~alive), worst_first])[:n_births].astype(np.int64)
