"""Config of a learning group's evolution (``[agents.evolution]`` of a q-network group).

Evolution is off by default: a run with learning agents but no evolution is the learning
issue's arena, unchanged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from scarline.evolution.genome import GeneDomain
from scarline.evolution.operators import MutationRates
from scarline.strict import Strict


class EvolutionConfig(Strict):
    """Every ``every`` steps: score, cull, select parents, breed mutated offspring.

    ``selection = "tournament"`` draws each parent as the best of ``tournament_k`` random
    living agents. ``"mu+lambda"`` is steady-state (mu + lambda): last cycle's offspring
    (lambda) compete with the others (mu) on fitness, the mu best of the union survive and
    breed uniformly, the rest are replaced. ``min_age`` protects an agent from culling until
    its fitness has had that many steps to mean something (the dead are always replaced).
    """

    enabled: bool = Field(default=False, description="run life cycles in this group")
    every: int = Field(default=250, ge=1, description="steps between life cycles (G)")
    birth_fraction: float = Field(
        default=0.25, gt=0, le=1, description="share of the group replaced per cycle, dead first"
    )
    min_age: int = Field(
        default=250, ge=0, description="steps of its own before an agent can be culled"
    )
    selection: Literal["tournament", "mu+lambda"] = Field(
        default="tournament", description="how survivors and parents are chosen (see above)"
    )
    tournament_k: int = Field(default=4, ge=1, description="agents per parent tournament")
    novelty_lambda: float = Field(
        default=0.1, ge=0, description="weight of novelty in fitness (Sharpe + lambda x novelty)"
    )
    novelty_k: int = Field(default=15, ge=1, description="nearest neighbours that define novelty")
    archive_capacity: int = Field(
        default=2048, ge=1, description="past behaviours kept in the novelty archive"
    )
    archive_quota: int = Field(
        default=8, ge=0, description="most novel behaviours archived per cycle"
    )
    rates: MutationRates = Field(default_factory=MutationRates)
    domain: GeneDomain = Field(default_factory=GeneDomain)
