"""Gate statistics timings: PBO by CSCV (S = 16, C(16, 8) splits) and Hansen's SPA.

SPA is called once on a small record before the timed calls: its first call imports ``arch``
(imported where first used, so a command that never bootstraps does not pay ~1.2 s for it),
which is start-up, not the statistic. Each figure is the fastest of ``--repeat`` calls (the
first PBO call on a fresh process took 0.14–0.39 s, the next ones 0.07–0.09 s).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from timing import fastest

from scarline.argtypes import positive_int
from scarline.gating.pbo import pbo_cscv
from scarline.gating.spa import spa_pvalue

BLOCKS = 16  # CSCV's S
BASELINES = 5  # SPA: the first strategy against the next five


def measure(t: int, k: int, repeat: int = 3) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.01, (t, k))
    warm = np.random.default_rng(1).normal(0, 0.01, (200, 8))  # C-ordered, like x
    spa_pvalue(warm[:, 0], warm[:, 1:6], reps=10, seed=0)
    pbo_s = fastest(lambda: pbo_cscv(x, n_blocks=BLOCKS), repeat)
    spa_s = fastest(lambda: spa_pvalue(x[:, 0], x[:, 1 : 1 + BASELINES], reps=1000, seed=0), repeat)
    return {
        "t": t,
        "k": k,
        "pbo_seconds": round(pbo_s, 3),
        "spa_5_baselines_seconds": round(spa_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--t", type=positive_int, default=2000, help="observations")
    parser.add_argument("--k", type=positive_int, default=100, help="strategies")
    parser.add_argument(
        "--repeat", type=positive_int, default=3, help="timed calls; the fastest counts"
    )
    args = parser.parse_args()
    if args.t < 2 * BLOCKS:
        parser.error(
            f"--t must be at least {2 * BLOCKS}: CSCV needs 2 rows in each of {BLOCKS} blocks"
        )
    if args.k < 1 + BASELINES:
        parser.error(f"--k must be at least {1 + BASELINES}: SPA tests one against {BASELINES}")
    print(json.dumps(measure(args.t, args.k, args.repeat)))


if __name__ == "__main__":
    main()
