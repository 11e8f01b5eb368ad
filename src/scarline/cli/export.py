"""``scarline export-policy``: one learning agent's network as an ONNX file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scarline.cli.common import (
    EXIT_BAD_INPUT,
    console,
    fail,
    print_json,
    require_run_dir,
    warn,
)
from scarline.digest import file_sha256
from scarline.errors import ScarlineError
from scarline.rundir import RunDir


def export_policy(
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory.")],
    agent_id: Annotated[int, typer.Argument(help="Agent id (see the report or --json agents).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the .onnx file.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: path, sha256, shapes.")
    ] = False,
) -> None:
    """Write a learning agent's Q-network as an ONNX file.

    The graph maps obs float32[batch, obs_dim] to q[batch, actions]. An evolved agent acts
    as its genes say: its dropped features are zero rows of the first layer, the action
    levels in the metadata are capped by its risk template, and its policy hash is there.
    Exit 2 when RUN_DIR is missing or AGENT_ID is not one of its learning agents.
    """
    require_run_dir(run_dir)
    from scarline.evolution.genome import policy_hash
    from scarline.evolution.rebuild import genome_network, obs_mask
    from scarline.learning.onnx_export import export_agent
    from scarline.policy_store import final_genome, load_agent

    try:
        pop, row, actions = load_agent(run_dir, agent_id)
    except ScarlineError as err:  # no weights, or not a learning agent: the input is wrong
        fail(str(err), EXIT_BAD_INPUT)
    meta = {"run_dir": run_dir.name, "agent_id": str(agent_id)}
    final = final_genome(run_dir, agent_id)
    mask, died = None, None
    if final is not None:  # evolved: the genome's weights, dropped features, capped levels
        genome, died = final
        pop, row, mask = genome_network(genome), 0, obs_mask(genome)
        actions = [level * genome.exposure_cap for level in actions]
        meta |= {"policy_hash": policy_hash(genome), "obs_mask": json.dumps(mask.tolist())}
    else:
        died = _died_at(run_dir, agent_id)
        if died is not None:  # no vault: the policy it acted with is not saved anywhere
            warn(
                f"agent {agent_id} died at step {died}; its saved weights went on training "
                "after its death, so the file is not the policy it acted with"
            )
    if died is not None:
        meta["died_at_step"] = str(died)
    meta["actions"] = json.dumps(actions)
    export_agent(pop, row, out, metadata=meta, obs_mask=mask)
    if as_json:
        print_json(
            {
                "path": str(out),
                "agent_id": agent_id,
                "obs_dim": pop.obs_dim,
                "n_actions": pop.n_actions,
                "actions": actions,
                "died_at_step": died,
                "sha256": file_sha256(out),
            }
        )
        return
    dead = "" if died is None else f"; it died at step {died}: the policy it died with"
    console.print(
        f"wrote {out} (agent {agent_id}, obs {pop.obs_dim} → {pop.n_actions} actions{dead})",
        markup=False,
        soft_wrap=True,
    )


def _died_at(run_dir: Path, agent_id: int) -> int | None:
    """The step agent ``agent_id`` died at, as the run's summary.json says (None: alive, or
    no readable summary)."""
    try:
        summary = json.loads(RunDir(run_dir).summary.read_text(encoding="utf-8"))
        agent = next(a for a in summary["agents"] if a.get("id") == agent_id)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, StopIteration):
        return None
    died = agent.get("died_at")
    return died if isinstance(died, int) and not isinstance(died, bool) else None
