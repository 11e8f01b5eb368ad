"""Learning agents as a policy group: N Q-networks acting and learning together.

Each step the kernel first calls :meth:`QAgents.observe` with what the agents now see of
themselves (after the bar's fills and the mark): that closes the previous step's
transition (reward = log equity change, net of every cost), stores it in the replay
buffers and trains every ``train_every`` steps. Then :meth:`QAgents.decide` builds each
agent's observation — its instrument's row of the causal feature table plus its private
part — and acts epsilon-greedily, with each agent's epsilon floored by its scars. Once
frozen (the out-of-sample part), or when the group does not learn, it acts greedily:
exploring only serves learning, and evaluation measures the policy, not its noise.

Randomness comes from two named torch generators of the run's seed tree (acting,
learning), so a run and its replay draw identical numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from scarline.agents.config import QNetGroup
from scarline.agents.exposure import exposure_of
from scarline.agents.private import private_features
from scarline.errors import ConfigError
from scarline.events import EXPLORE, GREEDY
from scarline.evolution.behaviour import BehaviourTracker
from scarline.evolution.evolver import Births, Evolver
from scarline.evolution.genome import (
    Genes,
    Genome,
    GenomeLayout,
    decode_genome,
    genome_of,
    genomes_of,
    load_genome,
)
from scarline.evolution.migration import Arrivals, Immigrant, displaced_rows
from scarline.evolution.phenotype import phenotype
from scarline.features.market import market_features
from scarline.learning.acting import greedy_actions
from scarline.learning.buffer import ReplayBuffers, assemble
from scarline.learning.dqn import Batch, DQNLearner
from scarline.learning.qnet import EpsilonSchedule, QPopulation, configure_torch
from scarline.market.frame import MarketData
from scarline.regime.hmm import REGIME_NAMES
from scarline.rng import SeedTree
from scarline.stats import log_return

PRIVATE = ("exposure", "unrealized", "cash", "scars")
"""The per-agent part of an observation (fractions of the agent's equity; scars / 10)."""


@dataclass(frozen=True, eq=False)
class AgentView:
    """What the kernel shows a group about its own rows after the mark (cash units, lots)."""

    equity: np.ndarray  # int64[n]
    cash: np.ndarray  # int64[n]
    position: np.ndarray  # int64[n, M]
    unrealized: np.ndarray  # int64[n]
    scars: np.ndarray  # int64[n]
    floor: np.ndarray  # float64[n], exploration floor from scars
    alive: np.ndarray  # bool[n]
    lot_value: np.ndarray  # int64[M], cash units of one lot at the last close


def _regime_heads(
    cfg: QNetGroup, regime: np.ndarray | None, index: int
) -> tuple[int, np.ndarray | None]:
    """``(heads, regime labels int64[T])`` of a group: 3 heads with ``qnet.regime_heads``."""
    if not cfg.qnet.regime_heads:
        return 1, None
    if regime is None:
        raise ConfigError(
            f"agents[{index}].qnet.regime_heads needs the macro regime: set [regime.hmm] enabled"
        )
    if cfg.evolution.enabled:
        raise ConfigError(
            f"agents[{index}].qnet.regime_heads: not supported with evolution yet "
            "(genomes hold one head)"
        )
    return len(REGIME_NAMES), np.ascontiguousarray(regime, dtype=np.int64)


class QAgents:
    name = "q-network"
    explore = True  # flags.exploration (set by the population): False = greedy at every step
    compiled_acting = False  # schema 11 on (set by the population): learning/acting.py
    exploration_held = (
        False  # the operator's runtime flag freeze_exploration: True = greedy from now on
    )

    def __init__(
        self,
        market: MarketData,
        cfg: QNetGroup,
        seeds: SeedTree,
        index: int,
        periods_per_year: float = 252.0,
        regime: np.ndarray | None = None,
        compiled_update: bool = True,
    ) -> None:
        """``compiled_update``: ``qnet.update = "auto"`` is the compiled update (schema 12
        on); False for a replay of an older run."""
        configure_torch(cfg.qnet.torch_threads)
        self.cfg = cfg.qnet
        self.learning = cfg.learn
        self.n_agents = cfg.count
        self.labels = [f"q-network#{i}" for i in range(cfg.count)]
        m = market.n_instruments
        self.instrument = np.arange(cfg.count, dtype=np.int64) % m
        self._inst_t = torch.from_numpy(self.instrument)
        self.features_cfg = cfg.features
        self.features = market_features(market, cfg.features)
        self._table = torch.from_numpy(np.array(self.features.values, dtype=np.float32))
        self._table_np = self._table.numpy()  # the same memory, for the compiled acting
        obs_dim = self.features.n_features + len(PRIVATE)
        self.heads, self._regime = _regime_heads(cfg, regime, index)
        self.net = QPopulation(
            cfg.count,
            obs_dim,
            self.cfg.hidden,
            self.heads * self.cfg.n_actions,
            seeds.torch_generator(f"agents/{index}/q-init"),
        )
        self.learner = DQNLearner(self.net, self.cfg, compiled_update)
        if self._regime is not None:
            self.learner.heads = self.heads
            self.learner.head_of_t = torch.from_numpy(self._regime)
        self.buffers = ReplayBuffers(cfg.count, self.cfg.buffer_capacity, len(PRIVATE))
        self._act_gen = seeds.torch_generator(f"agents/{index}/q-act")
        self._learn_gen = seeds.torch_generator(f"agents/{index}/q-learn")
        self._levels = np.asarray(self.cfg.actions, dtype=np.float32)
        self._m = m
        self._private = torch.zeros(cfg.count, len(PRIVATE))
        self._no_exploration = np.zeros(cfg.count, dtype=np.float32)
        self._no_exploration.flags.writeable = False  # read, never written
        self._epsilon = EpsilonSchedule(self.cfg)
        self._all_greedy = np.full(cfg.count, GREEDY, dtype=np.uint8)
        self._all_greedy.flags.writeable = False  # handed out as reasons: read, never written
        self._floor = torch.zeros(cfg.count)
        self._alive = torch.ones(cfg.count, dtype=torch.bool)
        self._last_equity: np.ndarray | None = None
        self._prev: tuple[int, torch.Tensor, torch.Tensor] | None = None
        self.frozen_from: int | None = None  # no learning or exploration from this step on
        self.losses: list[float] = []  # mean loss of each update, for diagnostics
        # genes: founders reproduce the plain learning group exactly (all features, qnet.lr,
        # no own floor, full exposure, market entry); evolution changes them per agent
        evo = cfg.evolution
        self.layout = GenomeLayout(
            tuple(self.features.names),
            PRIVATE,
            tuple(self.cfg.actions),
            tuple(self.cfg.hidden),
            evo.domain,
        )
        self.genes = Genes.founders(cfg.count, self.features.n_features, evo.domain, self.cfg.lr)
        self._express()
        self.evolver: Evolver | None = None
        self.tracker: BehaviourTracker | None = None
        if evo.enabled:
            self.evolver = Evolver(evo, cfg.count, periods_per_year, seeds, index)
        self.births: Births | None = None  # the last life cycle's, until the population takes it
        self.greedy: torch.Tensor | None = None  # bool[N]: exploration frozen by the drift sentry
        self.reasons = np.full(cfg.count, GREEDY, dtype=np.uint8)  # of the last decide
        self._immigrants: dict[int, list[Immigrant]] = {}  # by the life-cycle step they arrive
        self.parked: np.ndarray | None = None  # bool[N]: rows with no policy, held flat

    def _express(self) -> None:
        """Rebuild the phenotype tensors from the genes (at start and after births)."""
        self.phenotype = phenotype(self.genes, self.layout.domain, self.cfg.lr, len(PRIVATE))
        self.learner.lr_scale = self.phenotype.lr_scale
        self._all_features = bool(self.genes.feature_mask.all())

    def genome(self, i: int) -> Genome:
        """Agent ``i``'s canonical genome now (weights as learned so far)."""
        return genome_of(i, self.genes, self.net, self.layout)

    def genomes(self, rows: list[int]) -> list[Genome]:
        """The canonical genomes of agents ``rows`` (one batched gather)."""
        return genomes_of(rows, self.genes, self.net, self.layout)

    def freeze_at(self, step: int) -> None:
        """Stop learning and exploring from ``step`` (the out-of-sample part of a run)."""
        self.frozen_from = step

    def extend(self, market: MarketData, regime: np.ndarray | None = None) -> None:
        """The market grew by rows (a live session): rebuild the causal feature table, and
        with regime heads take the macro regime of the grown market (``regime``)."""
        self.features = market_features(market, self.features_cfg)
        self._table = torch.from_numpy(np.array(self.features.values, dtype=np.float32))
        self._table_np = self._table.numpy()
        if self._regime is not None and regime is not None:
            self._regime = np.ascontiguousarray(regime, dtype=np.int64)
            self.learner.head_of_t = torch.from_numpy(self._regime)

    @property
    def feature_table(self) -> torch.Tensor:
        """``float32[T, M, F]``: the market part of every observation (causal features)."""
        return self._table

    def feature_row(self, t: int) -> np.ndarray:
        """Row ``t`` of :attr:`feature_table`, a numpy view. Indexing the tensor is a torch op,
        run cold once a step: the kernel's features hash took 50–62 µs a step that way in the
        inference arena, 14–17 µs this way."""
        return self._table_np[t]

    def freeze_exploration(self, rows: np.ndarray, frozen: bool = True) -> None:
        """Agents ``rows`` act greedily from now on (a drift alarm), or explore again (a
        newborn in the slot); learning goes on either way."""
        if self.greedy is None:
            self.greedy = torch.zeros(self.n_agents, dtype=torch.bool)
        self.greedy[torch.from_numpy(np.asarray(rows, dtype=np.int64))] = frozen

    def _frozen(self, t: int) -> bool:
        return self.frozen_from is not None and t >= self.frozen_from

    def observe(self, t: int, view: AgentView) -> None:
        private, equity = private_features(
            view.equity,
            view.position,
            self.instrument,
            view.lot_value,
            view.unrealized,
            view.cash,
            view.scars,
        )
        private_t = torch.from_numpy(private)
        last_equity = self._last_equity  # set with _prev, at the previous step
        if (
            self._prev is not None
            and last_equity is not None
            and self.learning
            and not self._frozen(t)
        ):
            prev_t, prev_private, prev_action = self._prev
            step_return = log_return(last_equity, equity)
            reward = (self.cfg.reward_scale * step_return).astype(np.float32)
            done = torch.from_numpy(~view.alive)
            self.buffers.add(
                prev_t, prev_private, prev_action, torch.from_numpy(reward), t, private_t, done
            )
            if self.learner.due(t):
                loss = self.learner.learn(
                    self.buffers, self._table, self._inst_t, self._learn_gen, self._obs_mask()
                )
                self.losses.append(float(loss.numpy().mean()))  # numpy: no cold torch op
        if self.evolver is not None:
            self._evolve(t, view, equity, private[:, 0])
        self._last_equity = equity
        self._private = private_t
        self._floor = torch.from_numpy(view.floor.astype(np.float32))
        self._alive = torch.from_numpy(view.alive.copy())

    def probe_batch(self, size: int, generator: torch.Generator) -> Batch:
        """A replay sample for diagnostics, drawn from ``generator`` (not the run's streams)."""
        return self.learner.sample(self.buffers, self._table, self._inst_t, generator, size)

    def _evolve(self, t: int, view: AgentView, equity: np.ndarray, exposure: np.ndarray) -> None:
        """Track behaviour; on a life-cycle step (before any freeze) breed into the worst slots.

        A newborn keeps its parent's weights (mutated), genes (mutated) and replay memory;
        its Adam moments start at zero and its target network is a copy of its own weights
        (a parent's moments describe a different loss surface once the weights moved).
        """
        assert self.evolver is not None
        if self.tracker is None:
            self.tracker = BehaviourTracker(equity)
        self.tracker.update(equity, exposure)
        if not self.evolver.due(t) or self._frozen(t):
            return
        chosen = self.evolver.choose(self.tracker, view.alive)
        retired = self.genomes(chosen.slots[chosen.culled].tolist())
        logs = self.evolver.breed(chosen, self.genes, self.net)
        if chosen.slots.size:
            slots, parents = torch.from_numpy(chosen.slots), torch.from_numpy(chosen.parents)
            self.buffers.copy_rows(slots, parents)
            self.learner.reset_rows(slots)
            self.tracker.reborn(chosen.slots, equity)
            self._express()
        arrivals = self._arrive(t, chosen.fitness, view.alive, chosen.slots, equity)
        self.births = Births(t, chosen, logs, retired, arrivals)

    def admit(self, step: int, immigrants: list[Immigrant]) -> None:
        """Queue immigrants for the life cycle of ``step`` (a migration between islands)."""
        if self.evolver is None or not self.evolver.due(step) or self._frozen(step):
            raise ValueError(f"step {step} is not a life cycle of this group: cannot admit")
        self._immigrants.setdefault(step, []).extend(immigrants)

    def _arrive(
        self,
        t: int,
        fitness: np.ndarray,
        alive: np.ndarray,
        newborn_slots: np.ndarray,
        equity: np.ndarray,
    ) -> Arrivals | None:
        """Immigrants due at ``t`` replace the worst living agents not born in this cycle.

        They arrive as exact copies (no mutation: their offspring here are mutated) and start
        like newborns: zero Adam moments, target = own weights, behaviour history from now.
        They keep the slot's replay memory (same instrument, same market): the origin's
        memory stays on its island.
        """
        immigrants = self._immigrants.pop(t, None)
        if not immigrants:
            return None
        newborn = np.zeros(self.n_agents, dtype=bool)
        newborn[newborn_slots] = True
        slots = displaced_rows(fitness, alive, newborn, len(immigrants))
        immigrants = immigrants[: slots.size]
        if slots.size == 0:
            return None
        assert self.evolver is not None and self.tracker is not None
        retired = self.genomes(slots.tolist())
        for i, immigrant in zip(slots.tolist(), immigrants, strict=True):
            load_genome(self.net, self.genes, i, decode_genome(immigrant.genome), self.layout)
        self.learner.reset_rows(torch.from_numpy(slots))
        self.tracker.reborn(slots, equity)
        self.evolver.offspring[slots] = True
        self._express()
        return Arrivals(slots, immigrants, retired)

    def _observations(self, t: int) -> torch.Tensor:
        """``float32[N, obs_dim]``: every agent's observation at ``t``, masked by its genes."""
        obs = assemble(self._table, self._inst_t, t, self._private)
        mask = self._obs_mask()
        return obs if mask is None else obs * mask

    def _greedy(self, t: int, head: int) -> torch.Tensor:
        """``int64[N]`` greedy actions at ``t``: compiled from schema 11 on (observation,
        network and argmax in one call, :mod:`scarline.learning.acting`), else in torch."""
        if not self.compiled_acting:
            return self.net.greedy(self._observations(t), self.heads, head)
        mask = self._obs_mask()
        actions = greedy_actions(
            self.net,
            self._table_np[t],
            self.instrument,
            self._private.numpy(),
            None if mask is None else mask.numpy(),
            self.heads,
            head,
            self.learner.split,
        )
        return torch.from_numpy(actions)

    def _obs_mask(self) -> torch.Tensor | None:
        """None while every feature is on (the common case skips a multiply)."""
        return None if self._all_features else self.phenotype.obs_mask

    def install(self, rows: list[int], genome: Genome | None) -> None:
        """Rows ``rows`` act with ``genome`` from now on (weights and genes; a live
        session's policy swap), or stay flat with None (nothing to run there)."""
        if self.parked is None:
            self.parked = np.zeros(self.n_agents, dtype=bool)
        self.parked[rows] = genome is None
        if genome is not None:
            for i in rows:
                load_genome(self.net, self.genes, i, genome, self.layout)
            self.learner.sync_target()
            self._express()

    def load_genomes(self, genomes: list[Genome], instruments: np.ndarray | None = None) -> None:
        """Rows 0..K-1 take these genomes (weights and genes), e.g. to evaluate policies from
        a run's vault; the target network follows. ``instruments`` (``int64[N]``) reassigns
        which instrument each row trades (default: row mod M), so a policy can be evaluated
        on the instrument it learned on."""
        for i, g in enumerate(genomes):
            load_genome(self.net, self.genes, i, g, self.layout)
        self.learner.sync_target()
        self._express()
        if instruments is not None:
            inst = np.asarray(instruments, dtype=np.int64)
            if inst.shape != (self.n_agents,) or inst.min() < 0 or inst.max() >= self._m:
                raise ValueError(f"instruments must be int64[{self.n_agents}] in [0, {self._m})")
            self.instrument = inst.copy()
            self._inst_t = torch.from_numpy(self.instrument)

    def decide(self, t: int) -> np.ndarray:
        head = 0 if self._regime is None else int(self._regime[t])
        if self._frozen(t) or not self.learning or not self.explore:
            # greedy for good: no later step reads the exploration draws, so none are made
            action = self._greedy(t, head)
            self.reasons = self._all_greedy
        else:
            # in numpy: torch ops run once a step cost ~5x their hot time (EpsilonSchedule)
            if self.exploration_held:  # the operator's flag, which may be lifted: draw on
                epsilon = self._no_exploration
            else:  # the schedule at this age, floored by scars and genes (a max: exact)
                floor = np.maximum(self._floor.numpy(), self.phenotype.floor.numpy())
                epsilon = np.maximum(floor, self._epsilon(t))
                if self.greedy is not None:  # the drift sentry froze their exploration
                    epsilon[self.greedy.numpy()] = 0.0
            # act's draws on the greedy actions, however computed (QPopulation.explore)
            greedy = self._greedy(t, head).numpy()
            action = torch.from_numpy(
                self.net.explore_numpy(greedy, epsilon, self._act_gen, self.heads)
            )
            self.reasons = np.where(self.net.explored.numpy(), EXPLORE, GREEDY).astype(np.uint8)
        self._prev = (t, self._private, action)
        # rows without a policy (a live session's empty slots, ``parked``) stay flat
        return exposure_of(
            action.numpy(), self._levels, self.phenotype.cap, self.instrument, self.parked, self._m
        )
