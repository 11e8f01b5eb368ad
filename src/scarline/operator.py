"""Operator inputs: the kill switch as the kernel sees it.

In a run, the switch is read from the config and from flag files (``RUN_DIR/KILL`` or
``<runs root>/KILL``, written by ``scarline kill``); whatever fires is journaled as a
:class:`~scarline.events.KillSwitch` event at the step it was seen. In a replay, the same
events are read back from the WAL and fire at the same steps — so a kill replays exactly.
"""

from __future__ import annotations

from pathlib import Path

from scarline.events import KillSwitch
from scarline.risk.kill import kill_file, kill_reason
from scarline.session import SessionIds

__all__ = ["LiveOperator", "ReplayOperator"]


class LiveOperator:
    """Kill from config at step 0, or from a flag file, polled every ``every`` steps."""

    def __init__(
        self,
        ids: SessionIds,
        *,
        config_kill: bool,
        run_dir: Path,
        runs_root: Path | None,
        every: int = 64,
    ) -> None:
        self._ids = ids
        self._config_kill = config_kill
        self._run_dir, self._runs_root = run_dir, runs_root
        self._every = every

    def poll(self, step: int) -> KillSwitch | None:
        ids = self._ids
        if self._config_kill:
            return KillSwitch(
                run_id=ids.run_id,
                session_id=ids.session_id,
                step=step,
                reason="risk.kill = true in config",
                source="config",
            )
        if step % self._every == 0:
            path = kill_file(self._run_dir, self._runs_root)
            if path is not None:
                reason = kill_reason(path)  # a flag that cannot be read still kills
                return KillSwitch(
                    run_id=ids.run_id,
                    session_id=ids.session_id,
                    step=step,
                    reason=reason,
                    source="flag-file",
                )
        return None


class ReplayOperator:
    """Fires the KillSwitch events recorded in the WAL at their steps."""

    def __init__(self, kills: list[KillSwitch]) -> None:
        self._by_step = {k.step: k for k in kills}

    def poll(self, step: int) -> KillSwitch | None:
        return self._by_step.get(step)
