"""Synthetic markets with known regimes for the regime tests (fixed seeds: figures reproduce).

The accuracy spec (see docs/regimes.md): 10 instruments, regimes lasting ~100 bars
(P(stay) = 0.99, the two jumps equally likely), GARCH beta 0.5 (persistence 0.55) so a new
regime's volatility shows within a few bars; drift and volatility per regime are the
generator's defaults (daily vol 0.7 % / 1.0 % / 2.5 %).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from scarline.market.frame import MarketData
from scarline.market.synthetic import SynthSpec, generate_with_truth

STAY = 0.99


def _sticky_spec(seed: int = 0, n_steps: int = 4000, n_instruments: int = 10) -> SynthSpec:
    jump = (1.0 - STAY) / 2
    transition = tuple(tuple(STAY if i == j else jump for j in range(3)) for i in range(3))
    return SynthSpec(
        n_steps=n_steps,
        n_instruments=n_instruments,
        seed=seed,
        transition=transition,
        garch_beta=0.5,
    )


@pytest.fixture(scope="session")
def sticky_spec() -> Callable[..., SynthSpec]:
    return _sticky_spec


@pytest.fixture(scope="session")
def sticky_market() -> tuple[MarketData, np.ndarray]:
    """Seed 0 of the accuracy spec: the market and its true regimes (0 calm, 1 trend, 2 chaos)."""
    return generate_with_truth(_sticky_spec())
