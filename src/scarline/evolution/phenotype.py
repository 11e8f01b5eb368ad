"""Genes → what they change in an agent's behaviour, as tensors the hot path multiplies in.

Built deterministically from :class:`~scarline.evolution.genome.Genes` (and rebuilt after every
birth), so two agents with equal genomes act identically:

* ``obs_mask``: a dropped market feature is zeroed in every observation, acting and learning
  alike (the private part is always seen);
* ``lr_scale``: the agent's learning rate as a multiple of the group's ``qnet.lr`` (None when
  all are 1, which keeps the optimizer's fast path);
* ``floor``: the agent's own exploration floor (scars add theirs on top, by max);
* ``cap``: the exposure cap of its risk template, multiplied into every action level;
* ``limit_entry``: whether it opens positions with limit orders instead of market orders;
* ``scar_sensitivity``: divides the scar thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from scarline.evolution.genome import GeneDomain, Genes


@dataclass(frozen=True, eq=False)
class Phenotype:
    obs_mask: torch.Tensor  # float32[N, F + P]
    lr_scale: torch.Tensor | None  # float32[N]
    floor: torch.Tensor  # float32[N]
    cap: np.ndarray  # float32[N]
    limit_entry: np.ndarray  # bool[N]
    scar_sensitivity: np.ndarray  # float64[N]


def phenotype(genes: Genes, domain: GeneDomain, base_lr: float, n_private: int) -> Phenotype:
    private = np.ones((genes.n, n_private), dtype=np.float32)
    mask = np.concatenate([genes.feature_mask.astype(np.float32), private], axis=1)
    scale = genes.lr.astype(np.float64) / base_lr
    same = bool(np.all(genes.lr == np.float32(base_lr)))
    limit = np.asarray(domain.entries, dtype=object)[genes.entry] == "limit"
    return Phenotype(
        obs_mask=torch.from_numpy(mask),
        lr_scale=None if same else torch.from_numpy(scale.astype(np.float32)),
        floor=torch.from_numpy(genes.epsilon_floor.astype(np.float32)),
        cap=genes.exposure_cap(domain),
        limit_entry=limit.astype(bool),
        scar_sensitivity=genes.scar_sensitivity.astype(np.float64),
    )
