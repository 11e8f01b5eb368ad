"""The population: every configured agent group behind one batched ``decide``.

Agent ids are rows 0..N-1 in config order; each group decides for its own slice (groups
are few, so looping over groups is fine; nothing loops over agents).
"""

from __future__ import annotations

import numpy as np

from scarline.agents.baselines import BuyAndHold, MeanReversion, Momentum, RandomEntry
from scarline.agents.config import (
    AgentGroup,
    BuyAndHoldGroup,
    MeanReversionGroup,
    MomentumGroup,
    PythonGroup,
    QNetGroup,
    RandomEntryGroup,
    SmaGroup,
)
from scarline.agents.policy import Policy
from scarline.agents.qagents import AgentView, QAgents
from scarline.agents.sizing import MODES, Sizer
from scarline.agents.sma import SmaCrossover, crossover_pairs
from scarline.agents.strategy import ParamValue, Strategy
from scarline.agents.strategy_loader import load_strategy_class
from scarline.agents.user import UserStrategies
from scarline.errors import ConfigError
from scarline.events import RANDOM, RULE
from scarline.evolution.census import Census, GenomeSink
from scarline.evolution.genome import Genome
from scarline.evolution.migration import ISLAND_ID_STRIDE
from scarline.market.frame import MarketData
from scarline.market.frequency import periods_per_year
from scarline.rng import SeedTree


def build_group(
    group: AgentGroup,
    market: MarketData,
    seeds: SeedTree,
    index: int,
    regime: np.ndarray | None = None,
    compiled_update: bool = True,
) -> Policy:
    match group:
        case SmaGroup():
            pairs = crossover_pairs(group.fast, group.slow)
            if not pairs:
                raise ConfigError(
                    f"agents[{index}]: no (fast, slow) pair with fast < slow in "
                    f"fast={group.fast}, slow={group.slow}"
                )
            return SmaCrossover(market, pairs, allow_short=group.allow_short)
        case BuyAndHoldGroup():
            return BuyAndHold(market)
        case MomentumGroup():
            return Momentum(market, group.lookbacks, group.threshold, group.allow_short)
        case MeanReversionGroup():
            return MeanReversion(market, group.windows, group.z_entry, group.allow_short)
        case QNetGroup():
            ppy = periods_per_year(market.frequency, market.timestamps, market.calendar)
            return QAgents(market, group, seeds, index, ppy, regime, compiled_update)
        case PythonGroup():
            try:
                sets = group.param_sets()
            except ValueError as err:
                raise ConfigError(f"agents[{index}].{err}") from err
            cls = load_strategy_class(group.strategy, group.path)
            try:
                form = cls.form()
                strategies = [_rebuilt(cls, params) for params in sets]
            except (TypeError, ValueError) as err:
                raise ConfigError(f"agents[{index}] ({group.strategy}): {err}") from err
            return UserStrategies(market, strategies, form, group.allow_short)
        case RandomEntryGroup():
            rng = seeds.generator(f"agents/{index}/random-entry")
            return RandomEntry(
                market, group.count, group.p_entry, group.p_exit, rng, group.allow_short
            )
    raise ConfigError(f"agents[{index}]: unknown kind")  # pragma: no cover - pydantic guards


def _rebuilt(cls: type[Strategy], params: dict[str, ParamValue]) -> Strategy:
    """``cls(**params)``, refused unless it records ``params`` as given: replay rebuilds the
    strategy from the recorded ones, so an ``__init__`` that alters them (``fast * 2``) or
    does not pass them to ``super().__init__`` would run something else than the run says."""
    made = cls(**params)
    kept = made.params  # a TypeError naming the class when super().__init__ was not called
    if any(key not in kept or kept[key] != value for key, value in params.items()):
        raise ValueError(
            f"{cls.__name__}(**{params}) records the parameters {kept}; its __init__ must pass "
            "its keyword arguments to super().__init__ unchanged"
        )
    return made


def _reasons(group: Policy) -> np.ndarray:
    if isinstance(group, QAgents):
        return group.reasons
    code = RANDOM if isinstance(group, RandomEntry) else RULE
    return np.full(group.n_agents, code, dtype=np.uint8)


class Population:
    name = "population"

    def __init__(
        self,
        groups: list[AgentGroup],
        market: MarketData,
        seeds: SeedTree,
        genome_sink: GenomeSink | None = None,
        island: int = 0,
        regime: np.ndarray | None = None,
        *,
        explore: bool = True,
        compiled_acting: bool = False,
        compiled_update: bool = True,
    ) -> None:
        """``regime``: the committed macro regime of every step (``int64[T]``), for groups
        with regime heads; None when ``[regime.hmm]`` is off. ``explore``: ``flags.exploration``
        — False makes every learning group act greedily at every step. ``compiled_acting``:
        Q-network groups act through :mod:`scarline.learning.acting` (schema 11 on);
        ``compiled_update``: their ``qnet.update = "auto"`` is the compiled update (12 on)."""
        if not groups:
            raise ConfigError("agents: the population is empty; add at least one [[agents]] group")
        self.groups = [
            build_group(g, market, seeds, i, regime, compiled_update) for i, g in enumerate(groups)
        ]
        for group in self.groups:
            if isinstance(group, QAgents):
                group.explore = explore
                group.compiled_acting = compiled_acting
        sizes = [p.n_agents for p in self.groups]
        self.n_agents = sum(sizes)
        self.agent_ids = np.arange(self.n_agents, dtype=np.int64)
        self.labels: list[str] = [label for p in self.groups for label in p.labels]
        self.kinds: list[str] = [p.name for p in self.groups for _ in range(p.n_agents)]
        # without a learning group the reasons never change: built once, not per decision
        learning = any(isinstance(p, QAgents) for p in self.groups)
        self._fixed_reasons = None if learning else self._gather_reasons()
        # learners trade one instrument; a user's exposure is already a share of equity per
        # symbol: neither divides its fraction of equity over the M instruments
        one_instrument = [isinstance(p, QAgents | UserStrategies) for p in self.groups]
        self.sizer = Sizer(
            np.repeat([MODES[g.sizing.mode] for g in groups], sizes),
            np.repeat([g.sizing.fraction for g in groups], sizes),
            np.repeat([g.sizing.lots for g in groups], sizes),
            np.repeat([1 if one else market.n_instruments for one in one_instrument], sizes),
        )
        starts = np.cumsum([0, *sizes])
        self.learners = [
            (slice(int(starts[i]), int(starts[i + 1])), p)
            for i, p in enumerate(self.groups)
            if isinstance(p, QAgents)
        ]
        self.watchers = [
            (slice(int(starts[i]), int(starts[i + 1])), p)
            for i, p in enumerate(self.groups)
            if isinstance(p, QAgents) or (isinstance(p, UserStrategies) and not p.vectorized)
        ]
        evolving = [(rows, g) for rows, g in self.learners if g.evolver is not None]
        self.census: Census | None = None
        if evolving:
            self.census = Census(
                self.n_agents,
                evolving,
                genome_sink,
                id_base=island * ISLAND_ID_STRIDE,
                island=island,
            )
        self.limit_entry = np.zeros(self.n_agents, dtype=bool)
        self.scar_sensitivity = np.ones(self.n_agents)
        self.express()

    def express(self) -> None:
        """Refresh the per-agent traits genes decide outside the agents' own networks (entry
        style, scar sensitivity) — at start and after births."""
        for rows, group in self.learners:
            self.limit_entry[rows] = group.phenotype.limit_entry
            self.scar_sensitivity[rows] = group.phenotype.scar_sensitivity

    def observe(self, t: int, view: AgentView) -> None:
        """Show every learning group (rewards, training) and event-driven user strategy its
        own rows before it decides."""
        for rows, group in self.watchers:
            group.observe(
                t,
                AgentView(
                    view.equity[rows],
                    view.cash[rows],
                    view.position[rows],
                    view.unrealized[rows],
                    view.scars[rows],
                    view.floor[rows],
                    view.alive[rows],
                    view.lot_value,
                ),
            )

    def prefer(self, relative_trust: np.ndarray) -> None:
        """Evolving groups select by fitness and ``relative_trust`` (``[N]``, every row's)
        from now on (``[scars] trust_weight = "selection"``)."""
        for rows, group in self.learners:
            if group.evolver is not None:
                group.evolver.prefer(relative_trust[rows])

    def freeze_exploration(self, rows: np.ndarray, frozen: bool = True) -> None:
        """Learning agents among ``rows`` stop (or resume) exploring; others have nothing to
        freeze."""
        for span, group in self.learners:
            mine = rows[(rows >= span.start) & (rows < span.stop)]
            if mine.size:
                group.freeze_exploration(mine - span.start, frozen)

    def hold_exploration(self, held: bool) -> None:
        """Every learning agent acts greedily (``held``) or explores again as configured: the
        operator's runtime flag ``freeze_exploration``."""
        for _, group in self.learners:
            group.exploration_held = held

    def reasons(self) -> np.ndarray:
        """``uint8[N]`` why each agent decided as it did at the last :meth:`decide` (codes of
        :data:`scarline.events.REASONS`); read-only (a population of rules shares one)."""
        fixed = self._fixed_reasons
        return self._gather_reasons() if fixed is None else fixed

    def _gather_reasons(self) -> np.ndarray:
        out = np.concatenate([_reasons(p) for p in self.groups])
        out.flags.writeable = False
        return out

    def freeze_at(self, step: int) -> None:
        """Learning groups stop learning and exploring from ``step`` (out-of-sample)."""
        for _, group in self.learners:
            group.freeze_at(step)

    def install(self, group: int, rows: list[int], genome: Genome | None) -> None:
        """Rows ``rows`` of learning group ``group`` act with ``genome`` from now on (a
        live session's policy swap), or flat with None."""
        policy = self.groups[group]
        if not isinstance(policy, QAgents):
            raise ValueError(f"agents[{group}] is not a q-network group: no policy to swap")
        policy.install(rows, genome)

    def extend(self, market: MarketData, regime: np.ndarray | None = None) -> None:
        """The market grew by rows (a live session): every group rebuilds its causal
        tables from it (``regime``: the grown market's macro regime, for regime heads);
        decisions so far and all state carry on."""
        for group in self.groups:
            if isinstance(group, QAgents):
                group.extend(market, regime)
            else:
                group.extend(market)

    def decide(self, t: int) -> np.ndarray:
        if len(self.groups) == 1:
            return self.groups[0].decide(t)
        return np.concatenate([p.decide(t) for p in self.groups])

    def decide_span(self, start: int, stop: int) -> np.ndarray | None:
        """``[K, N, M]`` decisions of rows ``start .. stop - 1`` where every group's are
        functions of the bars alone (its ``decide_span`` gives them), else None."""
        spans = []
        for group in self.groups:
            span = getattr(group, "decide_span", None)
            rows = None if span is None else span(start, stop)
            if rows is None:
                return None
            spans.append(rows)
        return spans[0] if len(spans) == 1 else np.concatenate(spans, axis=1)
