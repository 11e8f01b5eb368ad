"""``scarline export-policy``: one learning agent's network as an ONNX file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scarline.agents.onnx_export import export_agent
from scarline.cli.common import console
from scarline.policy_store import load_agent


def export_policy(
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory.")],
    agent_id: Annotated[int, typer.Argument(help="Agent id (see the report or --json agents).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the .onnx file.")],
) -> None:
    """Write an agent's Q-network (input obs float32[batch, obs_dim] → q[batch, actions])."""
    pop, row, actions = load_agent(run_dir, agent_id)
    meta = {"run_dir": run_dir.name, "agent_id": str(agent_id), "actions": json.dumps(actions)}
    export_agent(pop, row, out, metadata=meta)
    console.print(f"wrote {out} (agent {agent_id}, obs {pop.obs_dim} → {pop.n_actions} actions)")
