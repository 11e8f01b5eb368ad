"""The gates' acceptance on noise: agents evolved on a pure random walk fail G2, seed after
seed (issue 7: 20 of 20 fixed seeds). Each seed is an honest end-to-end run (12 evolving
Q-agents over 600 bars, 5 generations) judged by G2 with cheaper permutation and placebo
counts (``gates_helpers.NOISE_G2``); the false-pass *rate* comes from
``scripts/gate_power.py`` (docs/gates.md, "Power and false passes").

Its own module (not with the other acceptance tests) so that parallel test workers can run it
beside them: it is the suite's longest test.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from gates_helpers import NOISE_AGENTS, NOISE_EVERY, NOISE_STEPS, noise_verdict

from scarline.gating.anti_overfit import CONTRACTS

NOISE_SEEDS = list(range(101, 121))


@pytest.mark.slow
def test_edges_evolved_on_a_random_walk_fail_g2(tmp_path: Path) -> None:
    failures: dict[int, list[str]] = {}
    generations: set[int] = set()
    workers = min(2, os.cpu_count() or 1)  # independent seeds, side by side
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        verdicts_of = pool.map(noise_verdict, [str(tmp_path)] * len(NOISE_SEEDS), NOISE_SEEDS)
        results = dict(zip(NOISE_SEEDS, verdicts_of, strict=True))
    for seed, verdicts in results.items():
        g2 = verdicts["G2"]
        assert g2["dsr"]["trials_raw"] == NOISE_AGENTS * g2["dsr"]["generations"]
        population = max(g2["dsr"]["clusters"], 1) * g2["dsr"]["generations"]
        assert g2["dsr"]["population_trials"] == population
        assert g2["dsr"]["trials"] == 1  # top:1, chosen in-sample, judged on held-out bars
        # an evolved pool brings no in-sample record (evidence.in_sample says why)
        assert "in_sample" not in g2["dsr"] and "combined_p" not in g2["spa"]
        generations.add(g2["dsr"]["generations"])
        failed = [*g2["contracts"]["failed"], *(["evidence"] if not g2["evidence"]["pass"] else [])]
        assert g2["pass"] is (not failed)
        assert verdicts["pass"] is False  # G0, G1, G3, G4 were skipped
        failures[seed] = failed
        print(
            f"seed {seed}: sharpe {g2['dsr']['sharpe']} dsr {g2['dsr']['dsr']} "
            f"(N {g2['dsr']['trials']} of {g2['dsr']['trials_raw']}) spa p {g2['spa']['p_value']} "
            f"pbo {g2['pbo']['pbo']} permutation p {g2['block_permutation']['p_value']} "
            f"failed {failed}"
        )
    passed = [seed for seed, failed in failures.items() if not failed]
    counts = {n: sum(n in f for f in failures.values()) for n in [*CONTRACTS, "evidence"]}
    print(f"G2 failures over {len(NOISE_SEEDS)} seeds: {counts}")
    assert not passed, f"noise passed G2 for seeds {passed}"  # issue 13: never a seed here
    # the split (bar 420) lies after 4 life cycles: every run searched 5 generations
    assert generations == {1 + (int(NOISE_STEPS * 0.7) - 1) // NOISE_EVERY}
    # the statistics alone (one level-alpha decision) refuse noise too
    assert counts["evidence"] == len(NOISE_SEEDS)
