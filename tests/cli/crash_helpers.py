"""A small synthetic run for the crash tests (signals, kill -9): a few seconds of stepping
with evolving Q-agents, so a stop lands mid-run and every record kind is journaled."""

from __future__ import annotations

import sys
from pathlib import Path

import tomli_w

from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate

SCARLINE = [sys.executable, "-c", "from scarline.cli import main; main()"]
"""``scarline`` in a fresh interpreter (the venv's Python, whatever PATH holds)."""


def crash_config(root: Path, *, steps: int, **wal: object) -> Path:
    """Write ``root/synth.csv`` and ``root/crash.toml`` (``wal``: the config's [wal] table)."""
    root.mkdir(parents=True, exist_ok=True)
    data = write_market(generate(SynthSpec(n_steps=steps, seed=5)), root / "synth.csv")
    agents = [
        {
            "kind": "q-network",
            "count": 8,
            "qnet": {"warmup_steps": 16},
            "evolution": {"enabled": True, "every": 100, "min_age": 100},
        }
    ]
    doc = {"seed": 5, "report": False, "data": {"source": str(data)}, "agents": agents}
    if wal:
        doc["wal"] = dict(wal)
    path = root / "crash.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path
