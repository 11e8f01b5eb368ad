"""Configuration of the simulated broker: fees, slippage, latency and fill rules.

Each model has a ``kind`` naming the class that implements it, so an alternative model is a
new ``kind`` value, not a new key. Unknown keys and wrong types are errors and models are
frozen (:class:`scarline.strict.Strict`, shared with ``scarline.config``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scarline.execution.types import MAX_MONEY
from scarline.strict import Strict as _Strict


class FeeConfig(_Strict):
    """Per fill: ``max(minimum, notional * bps / 1e4)``."""

    kind: Literal["bps-min"] = Field(default="bps-min", description="the fee model (one so far)")
    bps: float = Field(
        default=0.0, ge=0, le=10_000, allow_inf_nan=False, description="fee in basis points"
    )
    minimum: float = Field(
        default=0.0,
        ge=0,
        le=MAX_MONEY,
        allow_inf_nan=False,
        description="minimum fee per fill, currency units",
    )


class SlippageConfig(_Strict):
    """Adverse price move ``fixed_bps / 1e4 + vol_coef * sigma * sqrt(qty / bar volume)``."""

    kind: Literal["fixed-plus-volatility"] = Field(
        default="fixed-plus-volatility", description="the slippage model (one so far)"
    )
    fixed_bps: float = Field(
        default=0.0, ge=0, le=10_000, allow_inf_nan=False, description="fixed part, basis points"
    )
    vol_coef: float = Field(
        default=0.0, ge=0, le=1e6, allow_inf_nan=False, description="coefficient of the impact term"
    )


class LatencyConfig(_Strict):
    """When a submitted order may first execute: ``steps`` more bars, or ``ns`` nanoseconds."""

    kind: Literal["steps", "ns"] = Field(default="steps", description="the unit of the delay")
    steps: int = Field(
        default=0, ge=0, le=10**6, description="extra bars after the next one (kind=steps)"
    )
    ns: int = Field(
        default=0,
        ge=0,
        le=366 * 86_400 * 10**9,
        description="delay after the submit timestamp (kind=ns), at most a year",
    )

    @model_validator(mode="after")
    def _one_unit(self) -> LatencyConfig:
        # A value for the unused unit would be silently ignored: refuse it instead.
        if self.kind == "steps" and self.ns:
            raise ValueError("latency.ns is set but latency.kind is 'steps'")
        if self.kind == "ns" and self.steps:
            raise ValueError("latency.steps is set but latency.kind is 'ns'")
        return self


class FillConfig(_Strict):
    """Partial fills: participation cap per bar and the resting-limit queue model."""

    participation_rate: float | None = Field(
        default=None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="max share of a bar's volume all agents together may take per side "
        "of an instrument (None: no cap)",
    )
    queue: Literal["risk-averse"] = Field(
        default="risk-averse", description="queue model of resting limit orders (docs/execution.md)"
    )
    touch_share: float = Field(
        default=0.1,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="share of the bar's volume assumed traded at a limit price the bar touches",
    )
    queue_ahead_share: float = Field(
        default=0.5,
        ge=0,
        le=1e6,
        allow_inf_nan=False,
        description="queue ahead of a new limit order, as a share of its submit bar's volume",
    )
    limit_tif_steps: int = Field(
        default=10, ge=0, le=10**6, description="bars a limit order rests after its first due bar"
    )


class ExecutionConfig(_Strict):
    """Everything the simulated broker needs; ``RunConfig.execution``."""

    fees: FeeConfig = FeeConfig()
    slippage: SlippageConfig = SlippageConfig()
    latency: LatencyConfig = LatencyConfig()
    fill: FillConfig = FillConfig()
