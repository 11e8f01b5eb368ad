"""Step latencies and the heartbeat file of a live session.

Each step is timed in stages: ``ingest`` (the bar's close, end plus grace, to the kernel
starting the step: polling, checks, journaling the bars), ``signal`` (the agents deciding),
``risk`` (the pre-trade checks), ``order`` (orders journaled and handed to the paper
broker) and ``ack`` (the step's records flushed to the WAL). ``heartbeat.json`` in the run
directory is rewritten (temp file and rename) after every step: the last step, its bar and
wall times, and p50/p99/p99.9 of each stage over the last ``window`` steps. It is
observability only: nothing in it enters the WAL, so replay is unaffected.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from pathlib import Path

import numpy as np

from scarline.safe_write import replace_file

STAGES = ("ingest", "signal", "risk", "order", "ack")
QUANTILES = {"p50": 50.0, "p99": 99.0, "p999": 99.9}


class StageTimer:
    """Marks the end of each stage of one step (``time.perf_counter_ns``); the kernel calls
    :meth:`mark` at its stage boundaries when a timer is attached."""

    def __init__(self) -> None:
        self._last = 0
        self.seconds: dict[str, float] = {}

    def start(self, ingest_seconds: float) -> None:
        self._last = time.perf_counter_ns()
        self.seconds = {"ingest": max(0.0, ingest_seconds)}

    def mark(self, stage: str) -> None:
        """End ``stage``; a stage before it that did not happen this step (no orders: no
        risk checks) took 0 s, so every stage has one observation per step."""
        now = time.perf_counter_ns()
        for earlier in STAGES[: STAGES.index(stage)]:
            self.seconds.setdefault(earlier, 0.0)
        self.seconds[stage] = (now - self._last) / 1e9
        self._last = now


class Heartbeat:
    """The rolling latencies of the last ``window`` steps and the heartbeat file."""

    def __init__(self, path: Path, *, window: int = 10_000) -> None:
        self.path = path
        self._latency = {stage: deque[float](maxlen=window) for stage in STAGES}
        self.steps = 0

    def beat(self, step: int, bar_ts: int, seconds: dict[str, float], **state: object) -> None:
        """Record one step's stage latencies and rewrite the heartbeat file."""
        for stage, value in seconds.items():
            if stage in self._latency:
                self._latency[stage].append(value)
        self.steps = step + 1
        body = {
            "step": step,
            "bar_ts": bar_ts,
            "wall_ns": time.time_ns(),
            "pid": os.getpid(),
            "latency_seconds": self.quantiles(),
            **state,
        }
        replace_file(self.path, (json.dumps(body, indent=2) + "\n").encode("utf-8"))

    def quantiles(self) -> dict[str, dict[str, float]]:
        """Per stage, p50/p99/p999 in seconds (stages not seen yet are left out)."""
        out: dict[str, dict[str, float]] = {}
        for stage, values in self._latency.items():
            if values:
                a = np.fromiter(values, dtype=np.float64)
                out[stage] = {k: float(np.percentile(a, q)) for k, q in QUANTILES.items()}
        return out
