"""Config of the agent population: a list of groups, each a policy kind with its parameters."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from scarline.evolution.config import EvolutionConfig
from scarline.features.config import FeatureConfig
from scarline.learning.config import QNetConfig
from scarline.strict import Strict as _Strict

MAX_WINDOW = 1_000_000
"""Rule windows are in bars: at least 1, at most a million (beyond that, surely a typo)."""

Window = Annotated[int, Field(ge=1, le=MAX_WINDOW)]

MAX_AGENTS = 2**31 - 1
"""The largest group count (agent ids are int64, but tensors index with int32 in places);
whether the machine can hold that many is checked against its memory before allocation."""


class SizingConfig(_Strict):
    """How many lots an entry buys: ``all-in`` (all cash, split over the instruments entered
    at once), ``fraction`` (of equity per instrument, divided by M) or ``fixed`` lots."""

    mode: Literal["all-in", "fraction", "fixed"] = Field(
        default="fraction", description="how an entry is sized (see above)"
    )
    fraction: float = Field(
        default=1.0, gt=0, le=10, description='share of equity per entry with mode "fraction"'
    )
    lots: int = Field(default=1, ge=1, le=10**9, description='lots per entry with mode "fixed"')


class _Group(_Strict):
    allow_short: bool = Field(
        default=False,
        description="rule agents may go short (buy-and-hold ignores it; Q-networks short "
        "through negative qnet.actions)",
    )
    sizing: SizingConfig = SizingConfig()


class SmaGroup(_Group):
    kind: Literal["sma-crossover"] = Field(
        default="sma-crossover",
        description="long while the fast SMA is above the slow (short below)",
    )
    fast: list[Window] = Field(
        default_factory=lambda: [10], description="fast windows (bars); one agent per pair"
    )
    slow: list[Window] = Field(
        default_factory=lambda: [30], description="slow windows (bars); pairs need fast < slow"
    )


class BuyAndHoldGroup(_Group):
    kind: Literal["buy-and-hold"] = Field(
        default="buy-and-hold", description="one agent, long every instrument from its first bar"
    )


class MomentumGroup(_Group):
    kind: Literal["momentum"] = Field(
        default="momentum", description="long while the trailing return beats threshold"
    )
    lookbacks: list[Window] = Field(
        default_factory=lambda: [20, 60, 120],
        description="trailing-return windows (bars), one agent each",
    )
    threshold: float = Field(
        default=0.0,
        ge=-1e6,
        le=1e6,
        description="return (fraction) to beat; short below -threshold if allowed",
    )


class MeanReversionGroup(_Group):
    kind: Literal["mean-reversion"] = Field(
        default="mean-reversion", description="long below the mean by z_entry sd, out at the mean"
    )
    windows: list[Window] = Field(
        default_factory=lambda: [20], description="mean/sd windows (bars), one agent each"
    )
    z_entry: float = Field(
        default=1.0, gt=0, le=1e6, description="entry distance from the mean, in sd"
    )


class RandomEntryGroup(_Group):
    kind: Literal["random-entry"] = Field(
        default="random-entry", description="the placebo: seeded random entries and exits"
    )
    count: int = Field(default=8, ge=1, le=MAX_AGENTS, description="number of placebo agents")
    p_entry: float = Field(
        default=0.05, ge=0, le=1, description="chance per bar to enter when flat"
    )
    p_exit: float = Field(default=0.05, ge=0, le=1, description="chance per bar to exit")


class QNetGroup(_Group):
    """Learning agents: a batched population of small Q-networks (DQN), one instrument each
    (agent i trades instrument i mod M)."""

    kind: Literal["q-network"] = Field(
        default="q-network", description="learning agents (DQN), see docs/learning.md"
    )
    count: int = Field(
        default=256, ge=1, le=MAX_AGENTS, description="number of agents in the group"
    )
    learn: bool = Field(default=True, description="false: no training; the agents act greedily")
    qnet: QNetConfig = Field(
        default=QNetConfig(), description="network shape, exploration, replay and optimizer"
    )
    features: FeatureConfig = Field(
        default=FeatureConfig(), description="the market features each agent observes"
    )
    evolution: EvolutionConfig = Field(
        default=EvolutionConfig(), description="the group's life cycles (off by default)"
    )


ParamValue = int | float | str | bool
MAX_GRID = 100_000
"""The most agents one python group's grid may expand to."""


class PythonGroup(_Group):
    """Your own strategy (``scarline.Strategy`` subclass): one agent per parameter set, the
    ``grid``'s product over ``params`` (see docs/strategies.md)."""

    kind: Literal["python"] = Field(default="python", description="a user strategy")
    strategy: str = Field(
        pattern=r"^[^\W\d][\w.]*:[^\W\d]\w*$",  # identifiers, Unicode ones too
        max_length=300,
        description="the class, as module:Class",
    )
    path: str | None = Field(
        default=None,
        max_length=4096,
        description="the .py file defining it (else the module is imported from PYTHONPATH)",
    )
    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="keyword arguments of every agent's strategy"
    )
    grid: dict[str, list[ParamValue]] = Field(
        default_factory=dict,
        description="parameters to sweep: one agent per combination (over params)",
    )
    allow_short: bool = Field(
        default=True, description="negative exposures go short (false: they are flat)"
    )

    def param_sets(self) -> list[dict[str, ParamValue]]:
        """Every agent's keyword arguments, in grid order (the last key varies fastest)."""
        sets: list[dict[str, ParamValue]] = [dict(self.params)]
        for key, values in self.grid.items():
            if not values:
                raise ValueError(f"grid.{key}: give at least one value")
            sets = [s | {key: v} for s in sets for v in values]
            if len(sets) > MAX_GRID:
                raise ValueError(f"grid: more than {MAX_GRID} combinations")
        return sets


AgentGroup = Annotated[
    SmaGroup
    | BuyAndHoldGroup
    | MomentumGroup
    | MeanReversionGroup
    | RandomEntryGroup
    | QNetGroup
    | PythonGroup,
    Field(discriminator="kind"),
]


def window_features(features: FeatureConfig) -> int:
    """Market features a group's windows give (exogenous columns, known only with the data,
    come on top when ``include_exog``)."""
    return sum(
        len(w)
        for w in (
            features.return_windows,
            features.vol_windows,
            features.momentum_windows,
            features.rsi_windows,
        )
    )


def domain_problems(group: QNetGroup, where: str) -> list[str]:
    """Why a group's founders would not fit its gene domain (empty when they do). Every
    Q-network group's genomes are stored and loaded through its domain (the vault, a paper
    session's policies, the gates' frozen re-runs), evolving or not. ``where`` names the
    group, e.g. ``agents[0]``, so each message names the key to change."""
    domain, lr = group.evolution.domain, group.qnet.lr
    problems = []
    if not domain.lr_min <= lr <= domain.lr_max:
        problems.append(
            f"{where}.qnet.lr = {lr} is outside {where}.evolution.domain [lr_min, lr_max] = "
            f"[{domain.lr_min}, {domain.lr_max}]: the group's genomes are stored and loaded "
            "through its domain; move qnet.lr inside, or widen the domain"
        )
    n = window_features(group.features)
    if n < domain.min_features and not group.features.include_exog:
        problems.append(
            f"{where}.features gives {n} market features (the *_windows lists, include_exog = "
            f"false), but {where}.evolution.domain.min_features = {domain.min_features}: add "
            "feature windows, or lower min_features"
        )
    return problems
