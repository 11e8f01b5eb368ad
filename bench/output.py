"""What the bench scripts print: one JSON object on stdout (``bench/all.py`` reads it, and so
may ``jq``), everything else on stderr (imported by its bare name, as ``timing`` is)."""

from __future__ import annotations

import sys

import structlog


def logs_to_stderr() -> None:
    """Send scarline's log lines (an unsigned run's warning, a session's events) to stderr;
    structlog's default writes them to stdout, ahead of the JSON."""
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
