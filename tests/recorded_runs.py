"""Runs recorded as the code of an older event schema ran them, and the random flippers
whose working orders tell schemas 13 and 14 apart (tests/risk/test_working_orders_run.py,
tests/gating/test_gate_schema.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from scarline import runner
from scarline.config import RunConfig
from scarline.runner import RunSummary, execute_run

FLIPPERS = {"kind": "random-entry", "count": 4, "p_entry": 0.5, "p_exit": 0.5,
            "allow_short": True, "sizing": {"mode": "fixed", "lots": 10}}  # fmt: skip
"""Four agents that flip between 10 lots long and short at random."""


def flippers_config(data: Path, **fields: Any) -> RunConfig:
    """:data:`FLIPPERS` on ``data`` with limit 10, latency 1 and a 0.05 % participation cap:
    orders stay working and some fail, where schemas 13 and 14 count them differently."""
    return RunConfig.model_validate(
        {
            "data": {"source": str(data)},
            "seed": 1,
            "agents": [FLIPPERS],
            "execution": {"latency": {"steps": 1}, "fill": {"participation_rate": 0.0005}},
            "risk": {"max_position_lots": 10},
            "report": False,
            **fields,
        }
    )


@contextmanager
def recording_as(schema: int) -> Iterator[None]:
    """Every kernel ``scarline.runner`` builds meanwhile runs (and journals) event
    ``schema``'s rules, as the code of that schema did."""
    build = runner.kernel_for
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "kernel_for", lambda *a, **k: build(*a, **k, schema_version=schema))
        yield


def run_as(config: RunConfig, schema: int | None, run_id: str, out_dir: Path) -> RunSummary:
    """``execute_run`` of ``config``, recorded as ``schema`` (``None``: the current one)."""
    if schema is None:
        return execute_run(config, run_id=run_id, out_dir=out_dir)
    with recording_as(schema):
        return execute_run(config, run_id=run_id, out_dir=out_dir)
