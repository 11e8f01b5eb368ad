"""What the shared market part of an observation holds, and how it is normalized."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from scarline.strict import Strict

Window = Annotated[int, Field(ge=1)]
SpanWindow = Annotated[int, Field(ge=2)]
Normalization = Literal["ewma", "expanding", "none"]


class FeatureConfig(Strict):
    """Windows are in bars. ``vol``/``momentum`` need >= 2 bars: one bar gives a constant."""

    return_windows: list[Window] = Field(default_factory=lambda: [1, 5, 20])
    vol_windows: list[SpanWindow] = Field(default_factory=lambda: [20, 60])
    momentum_windows: list[SpanWindow] = Field(default_factory=lambda: [20, 60])
    rsi_windows: list[Window] = Field(default_factory=lambda: [14])
    include_exog: bool = True
    normalize: Normalization = "ewma"
    norm_halflife: int = Field(250, ge=1)
    norm_warmup: int = Field(20, ge=1)
    clip: float = Field(5.0, gt=0)

    @field_validator("return_windows", "vol_windows", "momentum_windows", "rsi_windows")
    @classmethod
    def _unique(cls, windows: list[int]) -> list[int]:
        """Duplicate windows would give two features with the same name."""
        if len(set(windows)) != len(windows):
            raise ValueError(f"windows must be unique, got {windows}")
        return windows
