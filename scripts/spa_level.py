"""SPA's level on short records: how often a true null is rejected, with and without the
small-sample correction of ``scarline.gating.spa`` (docs/gates.md, "SPA on short records").

    python scripts/spa_level.py [--draws 400] [--reps 199] [--lengths 60,180,500]
                                [--mean 0] [--workers 2]

Each draw is T zero-mean returns against cash (``--mean`` > 0 plants an edge of that many
standard deviations a bar, to read the power the correction costs), from four laws: iid
normal, Student t with 3 degrees of freedom, a skewed law (minus an exponential) and AR(1)
with coefficient 0.3. For each law and length it prints P(p ≤ 0.02), P(p ≤ 0.05) and
P(p ≤ 0.10) for Hansen's statistic as ``arch`` defines it (``small_sample=False``) and as
scarline computes it, on the same draws and resamples. Under the null a valid test shows its
level or less; the standard error of each figure is about √(α(1 − α) / draws), 0.011 at
α = 0.05 with 400 draws. About 40 CPU-seconds a law and length at the defaults.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from scarline.argtypes import finite_float, positive_int, positive_ints
from scarline.gating.spa import _hansen_spa

LAWS = ("normal", "t3", "skewed", "ar1")
LEVELS = (0.02, 0.05, 0.10)


def draw(law: str, t: int, rng: np.random.Generator) -> np.ndarray:
    """``t`` returns of unit variance and zero mean from ``law``."""
    if law == "normal":
        return rng.standard_normal(t)
    if law == "t3":
        return rng.standard_t(3, t) / np.sqrt(3.0)
    if law == "skewed":
        return 1.0 - rng.exponential(1.0, t)
    burn = 50
    e = rng.standard_normal(t + burn)
    x = np.empty_like(e)
    x[0] = e[0]
    for i in range(1, e.size):
        x[i] = 0.3 * x[i - 1] + e[i]
    return x[burn:] * np.sqrt(1.0 - 0.09)


def rejections(law: str, t: int, draws: int, reps: int, mean: float) -> tuple[list, list]:
    """P(p ≤ level) for each of :data:`LEVELS`, uncorrected and corrected."""
    rng = np.random.default_rng(20261207)
    block = int(np.sqrt(t))
    raw, fixed = [], []
    for i in range(draws):
        gain = (0.01 * (draw(law, t, rng) + mean))[:, None]
        raw.append(_hansen_spa(gain, block, reps, np.random.default_rng(i), small_sample=False))
        fixed.append(_hansen_spa(gain, block, reps, np.random.default_rng(i)))
    a, b = np.array(raw), np.array(fixed)
    return [float((a <= lv).mean()) for lv in LEVELS], [float((b <= lv).mean()) for lv in LEVELS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=positive_int, default=400)
    parser.add_argument("--reps", type=positive_int, default=199)
    parser.add_argument(
        "--lengths", type=positive_ints, default=[60, 180, 500], help="record lengths, e.g. 60,180"
    )
    parser.add_argument("--mean", type=finite_float, default=0.0, help="planted edge, sd a bar")
    parser.add_argument("--workers", type=positive_int, default=2)
    args = parser.parse_args(argv)
    lengths = args.lengths
    if min(lengths) < 10:
        parser.error("--lengths: SPA needs at least 10 returns")
    cases = [(law, t) for t in lengths for law in LAWS]
    with ProcessPoolExecutor(args.workers) as pool:
        futures = [
            pool.submit(rejections, law, t, args.draws, args.reps, args.mean) for law, t in cases
        ]
        heads = " ".join(f"p≤{lv:.2f}" for lv in LEVELS)
        print(f"{'law':>7} {'T':>5} | arch's statistic: {heads} | scarline's: {heads}")
        for (law, t), future in zip(cases, futures, strict=True):
            raw, fixed = future.result()
            cells = " ".join(f"{x:8.3f}" for x in raw), " ".join(f"{x:8.3f}" for x in fixed)
            print(f"{law:>7} {t:>5} | {' ' * 18}{cells[0]} | {' ' * 11}{cells[1]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
