"""A finished evolving run's lineage artifacts: ``lineage.parquet`` and the genome vault.

The vault is filled while the run goes (every genome the census hashes); at the end the
census records the living, the lineage is written, and both go into the manifest's
artifacts with their sha256.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scarline.digest import file_sha256
from scarline.evolution.census import Census
from scarline.evolution.vault_writer import VaultWriter
from scarline.rundir import RunDir


def finish_lineage(
    census: Census,
    run_dir: Path,
    vault: VaultWriter,
    last_step: int,
    alive: np.ndarray,
    scars: np.ndarray,
    trust: np.ndarray,
) -> dict[str, str]:
    """Record the living (with their scars and trust), wait for the vault, write the
    lineage; ``{relative path: sha256}`` of what was written."""
    census.finish(last_step, alive, scars, trust)
    vault.close()
    path = census.book.write(RunDir(run_dir).lineage)
    out = {RunDir.LINEAGE: file_sha256(path)}
    out |= vault.vault.fingerprints(run_dir)
    return out


def best_policy(census: Census, alive: np.ndarray) -> tuple[int, str] | None:
    """The living evolving agent with the best last fitness (scored in-sample, before any
    out-of-sample split): its lineage id and policy hash; None if nobody was ever scored."""
    fitness = np.where(alive, census.fitness, np.nan)
    if not np.isfinite(fitness).any():
        return None
    slot = int(np.nanargmax(fitness))
    return int(census.agent_ids[slot]), census.final_hash_of_slot(slot)
