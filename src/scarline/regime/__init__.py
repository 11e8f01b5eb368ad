"""Market regimes: a causal Gaussian HMM (calm / trend / chaos) and a hysteresis state machine.

``regime_path(market, cfg)`` is the one entry point; see ``docs/regimes.md``.
"""

from scarline.regime.causal import RegimePath, regime_path
from scarline.regime.config import RegimeConfig
from scarline.regime.hmm import REGIME_NAMES, RegimeModel
from scarline.regime.machine import Transition, transitions

__all__ = [
    "REGIME_NAMES",
    "RegimeConfig",
    "RegimeModel",
    "RegimePath",
    "Transition",
    "regime_path",
    "transitions",
]
