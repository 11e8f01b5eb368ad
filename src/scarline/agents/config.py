"""Config of the agent population: a list of groups, each a policy kind with its parameters."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from scarline.agents.learning_config import QNetConfig
from scarline.evolution.config import EvolutionConfig
from scarline.features.config import FeatureConfig
from scarline.strict import Strict

_Strict = Strict


class SizingConfig(_Strict):
    """How many lots an entry buys: ``all-in`` (all cash, split over the instruments entered
    at once), ``fraction`` (of equity per instrument, divided by M) or ``fixed`` lots."""

    mode: Literal["all-in", "fraction", "fixed"] = "fraction"
    fraction: float = Field(default=1.0, gt=0, le=10)
    lots: int = Field(default=1, ge=1)


class _Group(_Strict):
    allow_short: bool = False
    sizing: SizingConfig = SizingConfig()


class SmaGroup(_Group):
    kind: Literal["sma-crossover"] = "sma-crossover"
    fast: list[int] = Field(default_factory=lambda: [10])
    slow: list[int] = Field(default_factory=lambda: [30])


class BuyAndHoldGroup(_Group):
    kind: Literal["buy-and-hold"] = "buy-and-hold"


class MomentumGroup(_Group):
    kind: Literal["momentum"] = "momentum"
    lookbacks: list[int] = Field(default_factory=lambda: [20, 60, 120])
    threshold: float = 0.0


class MeanReversionGroup(_Group):
    kind: Literal["mean-reversion"] = "mean-reversion"
    windows: list[int] = Field(default_factory=lambda: [20])
    z_entry: float = Field(default=1.0, gt=0)


class RandomEntryGroup(_Group):
    kind: Literal["random-entry"] = "random-entry"
    count: int = Field(default=8, ge=1)
    p_entry: float = Field(default=0.05, ge=0, le=1)
    p_exit: float = Field(default=0.05, ge=0, le=1)


class QNetGroup(_Group):
    """Learning agents: a batched population of small Q-networks (DQN), one instrument each
    (agent i trades instrument i mod M)."""

    kind: Literal["q-network"] = "q-network"
    count: int = Field(default=256, ge=1)
    learn: bool = True
    qnet: QNetConfig = QNetConfig()
    features: FeatureConfig = FeatureConfig()
    evolution: EvolutionConfig = EvolutionConfig()


AgentGroup = Annotated[
    SmaGroup | BuyAndHoldGroup | MomentumGroup | MeanReversionGroup | RandomEntryGroup | QNetGroup,
    Field(discriminator="kind"),
]
