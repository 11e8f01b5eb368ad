"""What the drift sentry watches, how sensitive it is, and what an alarm does to an agent."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from scarline.strict import Strict

Detector = Literal["page-hinkley", "cusum", "both"]
Direction = Literal["up", "down", "both"]
Action = Literal["freeze_exploration", "halve_size"]
DEFAULT_ACTIONS: tuple[Action, ...] = ("freeze_exploration", "halve_size")


class DriftConfig(Strict):
    """Both detectors see an agent's per-step returns standardized by its own warm-up
    (``z = (r - mu0) / sigma`` over its first ``min_instances`` returns), so every parameter
    below is in units of the agent's own return standard deviation. See docs/drift.md."""

    enabled: bool = Field(default=False, description="watch every agent's returns for drift")
    detector: Detector = Field(default="both", description="Page-Hinkley, CUSUM or both")
    direction: Direction = Field(
        default="down",
        description='which changes of the mean fire: "down" = alpha decay, "up", or "both"',
    )
    min_instances: int = Field(
        50, ge=2, description="warm-up returns of the baseline; river's min_instances for PH"
    )
    delta: float = Field(0.25, ge=0, description="Page-Hinkley: tolerated drift per step (on z)")
    threshold: float = Field(20.0, gt=0, description="Page-Hinkley: alarm threshold lambda")
    alpha: float = Field(1 - 0.0001, gt=0, le=1, description="Page-Hinkley: fading factor")
    cusum_k: float = Field(0.5, ge=0, description="CUSUM: allowance k (half the shift to detect)")
    cusum_h: float = Field(10.0, gt=0, description="CUSUM: decision interval h")
    sigma_floor: float = Field(
        1e-8, gt=0, description="divides z instead of a (nearly) constant warm-up's sd"
    )
    actions: list[Action] = Field(
        default_factory=lambda: list(DEFAULT_ACTIONS),
        description="what an alarm does to the agent",
    )
    size_factor: float = Field(
        0.5, gt=0, le=1, description='"halve_size": size_scale x this at each alarm'
    )
    size_floor: float = Field(1 / 16, gt=0, le=1, description="size_scale never below this")

    @field_validator("actions")
    @classmethod
    def _unique(cls, actions: list[str]) -> list[str]:
        if len(set(actions)) != len(actions):
            raise ValueError(f"actions must be unique, got {actions}")
        return actions
