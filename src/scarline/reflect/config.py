"""What the drift sentry watches, how sensitive it is, and what an alarm does to an agent."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from scarline.strict import Strict

Detector = Literal["page-hinkley", "cusum", "both"]
Direction = Literal["up", "down", "both"]
Action = Literal["freeze_exploration", "halve_size"]


class DriftConfig(Strict):
    """Both detectors see an agent's per-step returns standardized by its own warm-up
    (``z = (r - mu0) / sigma`` over its first ``min_instances`` returns), so every parameter
    below is in units of the agent's own return standard deviation. See docs/drift.md."""

    enabled: bool = False
    detector: Detector = "both"
    # which changes of the mean fire: "down" = alpha decay (the default), "up", or "both"
    direction: Direction = "down"
    # warm-up length (returns) of the baseline, and river's min_instances for Page-Hinkley
    min_instances: int = Field(50, ge=2)
    # Page-Hinkley (river's parameters, on z): tolerated drift per step, lambda, fading
    delta: float = Field(0.25, ge=0)
    threshold: float = Field(20.0, gt=0)
    alpha: float = Field(1 - 0.0001, gt=0, le=1)
    # CUSUM on z: allowance k (half the shift to detect) and decision interval h
    cusum_k: float = Field(0.5, ge=0)
    cusum_h: float = Field(10.0, gt=0)
    # a warm-up with (nearly) constant returns standardizes by this instead of its sd
    sigma_floor: float = Field(1e-8, gt=0)
    actions: list[Action] = Field(default_factory=lambda: ["freeze_exploration", "halve_size"])
    # "halve_size": size_scale *= size_factor at each alarm, never below size_floor
    size_factor: float = Field(0.5, gt=0, le=1)
    size_floor: float = Field(1 / 16, gt=0, le=1)

    @field_validator("actions")
    @classmethod
    def _unique(cls, actions: list[str]) -> list[str]:
        if len(set(actions)) != len(actions):
            raise ValueError(f"actions must be unique, got {actions}")
        return actions
