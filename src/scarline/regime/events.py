"""WAL record of a committed regime change (built here, as execution/ and risk/ build theirs)."""

from __future__ import annotations

from scarline.events import RegimeChange
from scarline.regime.hmm import REGIME_NAMES
from scarline.regime.machine import Transition
from scarline.session import SessionIds


def regime_change_event(ids: SessionIds, change: Transition) -> RegimeChange:
    return RegimeChange(
        run_id=ids.run_id,
        session_id=ids.session_id,
        step=change.step,
        from_regime=REGIME_NAMES[change.from_regime],
        to_regime=REGIME_NAMES[change.to_regime],
        confidence=change.confidence,
    )
