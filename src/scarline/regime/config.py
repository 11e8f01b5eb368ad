"""How market regimes are fitted, filtered and committed (off unless ``enabled``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from scarline.strict import Strict

CovarianceType = Literal["diag", "full"]


class RegimeConfig(Strict):
    """Windows are in bars; see ``docs/regimes.md``.

    ``refit_every``/``window``/``min_history``: a new HMM every ``refit_every`` bars, fitted on
    at most the last ``window`` bars before the refit, the first once ``min_history`` bars
    exist. ``confidence``/``hysteresis``: the committed regime moves to another state once
    that state's filtered probability is >= ``confidence`` for ``hysteresis`` bars in a row
    (> 0.5, so at most one state can be confident). ``vol_window``: bars in the realized
    volatility feature. ``n_iter``/``tol``: EM limits; ``seed``: hmmlearn's random_state.
    """

    enabled: bool = Field(default=False, description="label every bar calm / trend / chaos")
    refit_every: int = Field(250, ge=1, description="bars between HMM refits")
    window: int = Field(1000, ge=50, description="a refit uses at most this many earlier bars")
    min_history: int = Field(250, ge=50, description="bars before the first fit")
    confidence: float = Field(
        0.6, gt=0.5, le=1.0, description="filtered probability a new regime needs"
    )
    hysteresis: int = Field(3, ge=1, description="bars in a row it needs it before a switch")
    vol_window: int = Field(5, ge=1, description="bars in the realized volatility observation")
    covariance_type: CovarianceType = Field(default="diag", description="hmmlearn covariance")
    n_iter: int = Field(100, ge=1, description="EM iterations at most")
    tol: float = Field(1e-4, gt=0, description="EM convergence tolerance")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="hmmlearn's random_state")
