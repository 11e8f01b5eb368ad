"""WAL record of the drift sentry's alarms of one step."""

from __future__ import annotations

from scarline.events import Array, DriftAlarms
from scarline.reflect.sentry import DETECTORS, Alarms, DriftSentry
from scarline.session import SessionIds


def drift_alarms_event(ids: SessionIds, alarms: Alarms, sentry: DriftSentry) -> DriftAlarms:
    """One row per alarm; ``size_scale`` is each agent's size multiple from now on."""
    return DriftAlarms(
        run_id=ids.run_id,
        session_id=ids.session_id,
        step=alarms.step,
        agent=Array.of(alarms.row),
        detector=Array.of(alarms.detector),
        statistic=Array.of(alarms.statistic),
        change_step=Array.of(alarms.change_step),
        size_scale=Array.of(sentry.size_scale[alarms.row]),
        detectors=list(DETECTORS),
        actions=list(sentry.cfg.actions),
    )
