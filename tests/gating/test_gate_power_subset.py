"""The fast subset of ``scripts/gate_power.py``: two of the seeds its table counts, run as the
script runs them, keep the verdicts the study recorded (docs/gates.md, "Power and false
passes"). The rates themselves come from the script; this catches a change that moves them.

One planted market (IC 0.15) whose top in-sample learner passes G2 — with its in-sample
record joining the evidence — and one random walk whose top learner fails it."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
from script_helpers import load_script

from scarline.gating.config import GatesConfig

PLANTED = (0.15, 6)  # the study's first planted seed whose held-out bars alone fail it
RANDOM_WALK = (0.0, 1000)  # the study's first random walk


def _one(ic: float, seed: int) -> dict[str, object]:
    return dict(load_script("gate_power").one_seed(ic, seed, 64))


@pytest.mark.slow
def test_gate_power_subset_keeps_the_studys_verdicts() -> None:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        planted, noise = pool.map(_one, *zip(PLANTED, RANDOM_WALK, strict=True))
    print(planted, noise, sep="\n")
    alpha = GatesConfig().G2.alpha
    assert planted["pass"] is True, planted
    # the in-sample record joined both DSR and SPA, and each combined p holds alpha
    assert float(planted["dsr_combined_p"]) <= alpha  # type: ignore[arg-type]
    assert float(planted["spa_combined_p"]) <= alpha  # type: ignore[arg-type]
    assert float(planted["sharpe"]) > 0  # type: ignore[arg-type]
    # held out alone it would fail: the in-sample record is what passes it
    assert float(planted["dsr"]) < 1 - alpha  # type: ignore[arg-type]
    assert float(planted["spa_p"]) > alpha  # type: ignore[arg-type]
    assert noise["pass"] is False, noise
    # the evidence decision itself refuses it (its failed checks are listed by name)
    assert {"dsr", "spa"} & set(noise["failed"])  # type: ignore[call-overload]
