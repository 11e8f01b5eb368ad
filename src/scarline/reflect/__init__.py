"""Reflection: the drift sentry over every agent's returns and the theory packets it leaves.

What is here: the sentry's config (``config``), its Page-Hinkley and CUSUM detectors
(``drift``), the vectorized sentry (``sentry``), its ``DriftAlarms`` WAL record (``events``),
theory packets (``theory``), and the decision diary built from a finished run's WAL
(``diary``, queried with DuckDB in ``diary_query``; not re-exported here).

Not implemented: the proposals, scheduler and guardian of the source designs. Nothing in
scarline schedules work or guards a run beyond the risk engine and the drift sentry.
"""

from scarline.reflect.config import DriftConfig
from scarline.reflect.drift import (
    Baseline,
    Cusum,
    PageHinkley,
    baseline_update,
    cusum_step,
    cusum_update,
    page_hinkley_update,
)
from scarline.reflect.sentry import CUSUM, DETECTORS, PAGE_HINKLEY, Alarms, DriftSentry
from scarline.reflect.theory import (
    Evidence,
    StepSeqs,
    TheoryPacket,
    Window,
    packet_bytes,
    packets_from_alarms,
    read_packet,
    write_packets,
)

__all__ = [
    "CUSUM",
    "DETECTORS",
    "PAGE_HINKLEY",
    "Alarms",
    "Baseline",
    "Cusum",
    "DriftConfig",
    "DriftSentry",
    "Evidence",
    "PageHinkley",
    "StepSeqs",
    "TheoryPacket",
    "Window",
    "baseline_update",
    "cusum_step",
    "cusum_update",
    "packet_bytes",
    "packets_from_alarms",
    "page_hinkley_update",
    "read_packet",
    "write_packets",
]
