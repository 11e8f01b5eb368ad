"""Risk engine: pre-trade invariants, the WARN → THROTTLE → HALT ladder, the kill switch.

See ``docs/risk.md``. The kernel builds one :class:`RiskEngine` per run, calls
:meth:`~RiskEngine.update` after marking and :meth:`~RiskEngine.check` on every batch of
order intents, and journals what they return before acting on it.
"""

from scarline.risk.codes import CAUSES, LEVELS, OUTCOMES, RULES, STATES
from scarline.risk.config import LadderConfig, RiskConfig
from scarline.risk.engine import RiskEngine
from scarline.risk.kill import KillState, kill_file
from scarline.risk.ladder import LadderTransitions
from scarline.risk.types import RiskContext, RiskDecision

__all__ = [
    "CAUSES",
    "LEVELS",
    "OUTCOMES",
    "RULES",
    "STATES",
    "KillState",
    "LadderConfig",
    "LadderTransitions",
    "RiskConfig",
    "RiskContext",
    "RiskDecision",
    "RiskEngine",
    "kill_file",
]
