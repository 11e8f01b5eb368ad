"""WAL record of a committed regime change (built here, as execution/ and risk/ build theirs)."""

from __future__ import annotations

from scarline.events import RegimeChange
from scarline.regime.hmm import REGIME_NAMES
from scarline.regime.machine import Transition


def regime_change_event(run_id: str, session_id: str, change: Transition) -> RegimeChange:
    return RegimeChange(
        run_id=run_id,
        session_id=session_id,
        step=change.step,
        from_regime=REGIME_NAMES[change.from_regime],
        to_regime=REGIME_NAMES[change.to_regime],
        confidence=change.confidence,
    )
