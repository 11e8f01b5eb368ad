"""Trained weights of a run's learning agents, saved next to its WAL.

The WAL is enough to rebuild them (replay re-trains bit for bit), but reading them back is
instant: ``runs/<id>/weights/group<k>.npz`` holds one learning group's stacked tensors and
the id of its first agent; the manifest records each file's sha256.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from scarline.digest import file_sha256
from scarline.errors import ScarlineError
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
