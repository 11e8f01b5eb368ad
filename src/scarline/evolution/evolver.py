"""One learning group's life cycle: score, choose who is replaced and who breeds, mutate.

Runs every ``every`` steps, vectorized over the group (no loop per agent):

1. **Fitness** = annualized Sharpe since birth (net of costs) + lambda × novelty of the
   agent's behaviour against the population and the archive; NaN for the dead. Annualized
   so lambda means the same on minute and daily bars. With ``[scars] trust_weight =
   "selection"`` steps 2 and 3 rank by fitness rank × relative trust instead (see
   :mod:`scarline.evolution.trust`); the fitness recorded stays the plain one.
2. **Replacement**: the dead first, then the worst living agents old enough to be judged
   (tournament mode), or whoever falls outside the mu best of parents ∪ last offspring
   (mu + lambda mode).
3. **Parents**: k-tournaments among the survivors, or uniform among the mu best.
4. **Offspring** take their parent's weights and genes, then :func:`mutate` changes them.

The caller (the agent group) resets what a newborn must not inherit: optimizer moments,
replay memory, behaviour history, scars (documented in docs/evolution.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from scarline.evolution.behaviour import BehaviourTracker
from scarline.evolution.config import EvolutionConfig
from scarline.evolution.fitness import fitness
from scarline.evolution.genome import Genes, Genome
from scarline.evolution.migration import Arrivals
from scarline.evolution.novelty import NoveltyArchive
from scarline.evolution.operators import MutationLog, mutate
from scarline.evolution.selection import mu_plus_lambda, replacement_rows, tournament
from scarline.evolution.trust import trusted_key
from scarline.learning.qnet import QPopulation
from scarline.rng import SeedTree


@dataclass(frozen=True, eq=False)
class Selection:
    """Who is replaced and by whose offspring, in the group's local rows."""

    slots: np.ndarray  # int64[K] rows that receive newborns
    parents: np.ndarray  # int64[K] the row of each newborn's parent
    culled: np.ndarray  # bool[K] the slot's agent was alive (culled, not ruined)
    fitness: np.ndarray  # float64[N] every row's fitness at this cycle (NaN: dead)


@dataclass(frozen=True, eq=False)
class Births:
    """One cycle's outcome: the selection, what mutation did, and the genomes of the culled
    as they were when they left (the lineage's final hashes); on a migration step also the
    immigrants placed after the group's own offspring."""

    step: int
    selection: Selection
    mutations: list[MutationLog]
    retired: list[Genome]  # one per culled slot, in slot order
    arrivals: Arrivals | None = None


class Evolver:
    def __init__(
        self,
        cfg: EvolutionConfig,
        n_agents: int,
        periods_per_year: float,
        seeds: SeedTree,
        index: int,
    ) -> None:
        self.cfg = cfg
        self._annualize = float(np.sqrt(periods_per_year))
        self.rng = seeds.generator(f"agents/{index}/evolution")
        self.torch_gen = seeds.torch_generator(f"agents/{index}/mutation")
        self.archive = NoveltyArchive(cfg.novelty_k, cfg.archive_capacity, cfg.archive_quota)
        self.offspring = np.zeros(n_agents, dtype=bool)  # born in the last cycle
        self.trust: np.ndarray | None = None  # relative trust [N] when selection prefers it

    def prefer(self, relative_trust: np.ndarray) -> None:
        """Let the next life cycles rank by fitness rank × ``relative_trust`` (``[N]`` in
        [0, 1], updated by the population every step)."""
        self.trust = np.asarray(relative_trust, dtype=np.float64)

    def due(self, step: int) -> bool:
        return step > 0 and step % self.cfg.every == 0

    def fitness(self, tracker: BehaviourTracker, alive: np.ndarray) -> np.ndarray:
        """Annualized Sharpe since birth + lambda × novelty; NaN for the dead. Feeds the
        archive."""
        sharpe = np.where(alive, tracker.sharpe() * self._annualize, np.nan)
        novelty = np.zeros(alive.shape[0])
        if self.cfg.novelty_lambda > 0 and alive.any():
            desc = tracker.descriptors()[alive]
            scores = self.archive.score(desc)
            novelty[alive] = scores
            self.archive.add(desc, scores, self.rng)
        return fitness(sharpe, novelty, self.cfg.novelty_lambda)

    def choose(self, tracker: BehaviourTracker, alive: np.ndarray) -> Selection:
        """Score everyone, pick the slots to refill and each newborn's parent."""
        fit = self.fitness(tracker, alive)
        key = fit if self.trust is None else trusted_key(fit, self.trust)
        if self.cfg.selection == "tournament":
            slots, parents = self._tournament(key, tracker.age, alive)
        else:
            slots, parents = self._mu_plus_lambda(key, alive)
        return Selection(slots, parents, alive[slots].copy(), fit)

    def breed(self, chosen: Selection, genes: Genes, net: QPopulation) -> list[MutationLog]:
        """Newborns take their parent's weights and genes, then mutate (in place)."""
        slots, parents = chosen.slots, chosen.parents
        if slots.size:
            net.replace_rows(torch.from_numpy(slots), net, torch.from_numpy(parents))
            genes.put(slots, genes, parents)
        logs = mutate(genes, net, slots, self.cfg.rates, self.cfg.domain, self.rng, self.torch_gen)
        self.offspring[:] = False
        self.offspring[slots] = True
        return logs

    def _n_births(self, n: int) -> int:
        return max(1, round(self.cfg.birth_fraction * n))

    def _tournament(
        self, fit: np.ndarray, age: np.ndarray, alive: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        judged = alive & (age >= self.cfg.min_age)
        n_births = min(self._n_births(fit.size), int((~alive).sum() + judged.sum()))
        if n_births == 0 or not alive.any():
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        # the young rank above everyone when choosing whom to replace: never culled
        cull_key = np.where(alive & ~judged, np.inf, fit)
        slots = replacement_rows(cull_key, alive, n_births)
        breeders = fit.copy()
        breeders[slots] = np.nan
        if not np.isfinite(breeders).any():
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        parents = tournament(breeders, slots.size, self.cfg.tournament_k, self.rng)
        return slots.astype(np.int64), parents

    def _mu_plus_lambda(self, fit: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = fit.size
        mu = n - self._n_births(n)
        old, young = np.flatnonzero(~self.offspring), np.flatnonzero(self.offspring)
        kept_old, kept_young = mu_plus_lambda(fit[old], fit[young], mu)
        survivors = np.sort(np.concatenate([old[kept_old], young[kept_young]]))
        survivors = survivors[alive[survivors]]
        if survivors.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        slots = np.setdiff1d(np.arange(n), survivors).astype(np.int64)
        parents = survivors[self.rng.integers(0, survivors.size, slots.size)].astype(np.int64)
        return slots, parents
