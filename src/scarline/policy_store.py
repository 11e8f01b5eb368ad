"""Trained weights of a run's learning agents, saved next to its WAL.

The WAL is enough to rebuild them (replay re-trains bit for bit), but reading them back is
instant: ``runs/<id>/weights/group<k>.npz`` holds one learning group's stacked tensors and
the id of its first agent; the manifest records each file's sha256.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import torch

from scarline.agents.config import QNetGroup
from scarline.agents.qagents import PRIVATE
from scarline.config import load_config
from scarline.digest import file_sha256
from scarline.errors import ScarlineError
from scarline.evolution.genome import Genes, Genome, GenomeLayout, genome_of
from scarline.evolution.lineage import read_lineage
from scarline.evolution.rebuild import load_genome_from_vault
from scarline.features.market import feature_names
from scarline.journal.manifest import SessionManifest, read_manifest
from scarline.kernel import Kernel
from scarline.learning.qnet import QPopulation
from scarline.rundir import RunDir


def save_weights(kernel: Kernel, run_dir: Path) -> dict[str, str]:
    """Write every learning group's weights; returns ``{relative path: sha256}``."""
    out: dict[str, str] = {}
    for k, (rows, group) in enumerate(kernel.population.learners):
        path = RunDir(run_dir).group_weights(k)
        path.parent.mkdir(exist_ok=True)
        arrays = {f"w{i}": w.detach().numpy() for i, w in enumerate(group.net.weights)}
        arrays |= {f"b{i}": b.detach().numpy() for i, b in enumerate(group.net.biases)}
        arrays["first_agent"] = np.array(rows.start)
        arrays["actions"] = np.asarray(group.cfg.actions, dtype=np.float64)
        with path.open("wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)  # plain arrays only
        out[RunDir(run_dir).relative(path)] = file_sha256(path)
    return out


def load_agent(run_dir: Path, agent_id: int) -> tuple[QPopulation, int, list[float]]:
    """The population holding ``agent_id``, its row in it, and the action levels."""
    files = sorted(RunDir(run_dir).weights.glob("group*.npz"))
    if not files:
        raise ScarlineError(f"{run_dir}: no learning agents' weights (weights/*.npz) in this run")
    for path in files:
        with np.load(path) as data:
            first = int(data["first_agent"])
            n_layers = sum(1 for key in data.files if key.startswith("w"))
            weights = [torch.from_numpy(data[f"w{i}"].copy()) for i in range(n_layers)]
            biases = [torch.from_numpy(data[f"b{i}"].copy()) for i in range(n_layers)]
            actions = data["actions"].tolist()
        if first <= agent_id < first + weights[0].shape[0]:
            return QPopulation._from_tensors(weights, biases, False), agent_id - first, actions
    raise ScarlineError(f"{run_dir}: agent {agent_id} is not a learning agent of this run")


def genome_of_agent(run_dir: Path, agent_id: int) -> Genome:
    """The final genome of learning agent ``agent_id`` of a finished run, rebuilt from its
    saved weights (checked against the manifest's sha256) and its group's config: the
    layout (feature names with the run's exogenous columns, actions, hidden sizes) and
    founder genes. A group that evolved has genes of its own per agent: its policies are
    taken from the vault by policy hash instead (a ScarlineError says so)."""
    paths = RunDir(run_dir)
    manifest = read_manifest(run_dir)
    for k, path in enumerate(sorted(paths.weights.glob("group*.npz"))):
        with np.load(path) as data:
            first, rows = int(data["first_agent"]), int(data["w0"].shape[0])
        if not first <= agent_id < first + rows:
            continue
        recorded = manifest.artifacts.get(paths.relative(path))
        if recorded != file_sha256(path):
            raise ScarlineError(f"{path}: sha256 differs from the manifest's (edited weights?)")
        config = load_config(paths.config)
        group = [g for g in config.agents if isinstance(g, QNetGroup)][k]
        if group.evolution.enabled:
            raise ScarlineError(
                f"{run_dir}: agent {agent_id} evolved; take its policy from the vault by hash"
            )
        session = msgspec.json.decode(paths.session.read_bytes(), type=SessionManifest)
        names = feature_names(group.features, session.exog_names)
        layout = GenomeLayout(
            tuple(names),
            PRIVATE,
            tuple(group.qnet.actions),
            tuple(group.qnet.hidden),
            group.evolution.domain,
        )
        genes = Genes.founders(rows, len(names), group.evolution.domain, group.qnet.lr)
        net, row, _ = load_agent(run_dir, agent_id)
        return genome_of(row, genes, net, layout)
    raise ScarlineError(f"{run_dir}: agent {agent_id} is not a learning agent of this run")


def final_genome(run_dir: Path, agent_id: int) -> tuple[Genome, int | None] | None:
    """The genome of whoever held slot ``agent_id`` at the end of an evolving run (its last
    occupant in ``lineage.parquet``, read from the vault with every check) and the step it
    died at (None: alive at the end), or None when the run has no lineage or the slot is not
    in an evolving group. Its genes change how the weights act: dropped features are masked,
    action levels capped; a dead agent's are those it died with (its slot's saved weights
    went on training after its death)."""
    path = RunDir(run_dir).lineage
    if not path.is_file():
        return None
    table = read_lineage(path)
    slots = table.column("slot").to_numpy()
    rows = np.flatnonzero(slots == agent_id)
    if rows.size == 0:
        return None
    births = table.column("birth_step").to_numpy()[rows]
    ids = table.column("agent_id").to_numpy()[rows]
    last = int(rows[np.lexsort((ids, births))[-1]])  # the latest born (ties: the latest id)
    genome = load_genome_from_vault(run_dir, table.column("final_hash")[last].as_py())[1]
    death = int(table.column("death_step")[last].as_py())
    return genome, None if death < 0 else death
