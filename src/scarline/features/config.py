"""What the shared market part of an observation holds, and how it is normalized."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from scarline.strict import Strict

MAX_WINDOW = 1_000_000
"""Feature windows are at most a million bars (beyond that, surely a typo)."""
Window = Annotated[int, Field(ge=1, le=MAX_WINDOW)]
SpanWindow = Annotated[int, Field(ge=2, le=MAX_WINDOW)]
Normalization = Literal["ewma", "expanding", "none"]


class FeatureConfig(Strict):
    """Windows are in bars. ``vol``/``momentum`` need >= 2 bars: one bar gives a constant."""

    return_windows: list[Window] = Field(
        default_factory=lambda: [1, 5, 20], description="ret_k: log return over k bars"
    )
    vol_windows: list[SpanWindow] = Field(
        default_factory=lambda: [20, 60], description="vol_k: std of the last k one-bar log returns"
    )
    momentum_windows: list[SpanWindow] = Field(
        default_factory=lambda: [20, 60], description="mom_k: close / SMA_k - 1"
    )
    rsi_windows: list[Window] = Field(
        default_factory=lambda: [14], description="rsi_k: Wilder's RSI, scaled to [-1, 1]"
    )
    include_exog: bool = Field(
        default=True, description="also observe the market's exogenous columns"
    )
    normalize: Normalization = Field(
        default="ewma", description="causal z-score: EWMA or expanding moments, or none (clip only)"
    )
    norm_halflife: int = Field(250, ge=1, description="half-life (bars) of the EWMA moments")
    norm_warmup: int = Field(
        20, ge=1, description="earlier values needed before a normalized value is ready"
    )
    clip: float = Field(5.0, gt=0, description="values are clipped to [-clip, clip]")

    @field_validator("return_windows", "vol_windows", "momentum_windows", "rsi_windows")
    @classmethod
    def _unique(cls, windows: list[int]) -> list[int]:
        """Duplicate windows would give two features with the same name."""
        if len(set(windows)) != len(windows):
            raise ValueError(f"windows must be unique, got {windows}")
        return windows
