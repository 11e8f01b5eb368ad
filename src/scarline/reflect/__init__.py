"""Reflection: the drift sentry over every agent's returns and the theory packets it leaves.

What is here: the sentry's config (``config``), its detectors (``page_hinkley``, ``cusum``,
over the shared conventions of ``drift``), the vectorized sentry (``sentry``), its
``DriftAlarms`` WAL record (``events``) and theory packets (``theory``). The decision diary,
built from a finished run's WAL, is its own package (:mod:`scarline.diary`).

Not implemented: the proposals, scheduler and guardian of the source designs. Nothing in
scarline schedules work or guards a run beyond the risk engine and the drift sentry.
"""

from scarline.reflect.config import DriftConfig
from scarline.reflect.cusum import Baseline, Cusum, baseline_update, cusum_step, cusum_update
from scarline.reflect.page_hinkley import PageHinkley, page_hinkley_update
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
