"""The config's limits in the kernel's units: huge limits mean "no limit", never a wrap."""

from __future__ import annotations

import numpy as np
import pytest
from risk_fixtures import UV, context, intents

from scarline.risk import RiskConfig, RiskEngine
from scarline.risk.limits import Limits


@pytest.mark.parametrize("lots", [2**62, 2**62 + 1, 2**63 - 1])
@pytest.mark.parametrize("jit", [True, False])
def test_a_huge_position_limit_lets_a_short_flip_long(
    lots: int, jit: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Short 10, buy 30: the cap ``limit + 10`` wrapped past int64 for 2**63 - 1 and the
    order was refused ``max_position`` (value 20, limit 9.2e18), compiled and reference."""
    monkeypatch.setattr("scarline.risk.check_compiled.ENABLED", jit)
    engine = RiskEngine(RiskConfig(max_position_lots=lots), 1, np.array([UV], np.int64))
    ctx = context(1, 1, position=[[-10]])
    decision = engine.check(0, intents([0], [1], [30]), ctx)
    assert decision.approved_qty.tolist() == [30]
    assert decision.outcome.tolist() == [0]


def test_a_huge_position_limit_is_clamped_to_no_limit() -> None:
    lim = Limits.of(RiskConfig(max_position_lots=2**63 - 1), np.array([UV], np.int64))
    assert lim.max_position == 2**62


def test_an_ordinary_position_limit_is_kept_as_given() -> None:
    assert Limits.of(RiskConfig(max_position_lots=7), np.array([UV])).max_position == 7
    assert Limits.of(RiskConfig(), np.array([UV])).max_position is None
