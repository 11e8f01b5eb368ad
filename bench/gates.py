"""Gate statistics timings: PBO by CSCV (S = 16, C(16, 8) splits) and Hansen's SPA.

Both are called once on a small record before the timed calls: the first SPA call imports
``arch`` (imported where first used, so a command that never bootstraps does not pay ~1.2 s
for it), which is start-up, not the statistic.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from scarline.gating.pbo import pbo_cscv
from scarline.gating.spa import spa_pvalue


def measure(t: int, k: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.01, (t, k))
    warm = x[:200, :8]
    pbo_cscv(warm, n_blocks=16)
    spa_pvalue(warm[:, 0], warm[:, 1:6], reps=10, seed=0)
    start = time.perf_counter()
    pbo_cscv(x, n_blocks=16)
    pbo_s = time.perf_counter() - start
    start = time.perf_counter()
    spa_pvalue(x[:, 0], x[:, 1:6], reps=1000, seed=0)
    spa_s = time.perf_counter() - start
    return {
        "t": t,
        "k": k,
        "pbo_seconds": round(pbo_s, 3),
        "spa_5_baselines_seconds": round(spa_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--t", type=int, default=2000, help="observations")
    parser.add_argument("--k", type=int, default=100, help="strategies")
    args = parser.parse_args()
    print(json.dumps(measure(args.t, args.k)))


if __name__ == "__main__":
    main()
