"""Planted-edge study: Q-agents against the random-entry placebo, several market seeds.

    python scripts/learning_edge.py [--seeds 1,2,3,4,5] [--random-walk]

The setting of ``tests/agents/test_learning_edge.py`` (8 instruments, 3000 bars, 64 Q-agents,
64 placebos, last 30 % out of sample). Prints, per seed, the out-of-sample medians, the
one-sided Mann-Whitney p-value, an oracle that trades the sign of the planted signal, and the
median per-bar Sharpe of the Q-agents with its two-standard-error noise band.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from scarline.argtypes import non_negative_ints
from scarline.config import RunConfig
from scarline.gating.frozen import run_kernel
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.report.metrics import sharpe_ratio, split_returns

N = 64
COMPACT = {"return_windows": [1], "vol_windows": [20], "momentum_windows": [20]}
QNET = {"gamma": 0.0, "lr": 3e-4, "train_every": 2, "warmup_steps": 32, "epsilon_decay_steps": 1000}


def study(seed: int, random_walk: bool) -> str:
    spec = SynthSpec(
        n_steps=3000,
        n_instruments=8,
        seed=seed,
        planted_ic=None if random_walk else 0.1,
        random_walk=random_walk,
    )
    market = normalized(generate(spec))
    cfg = RunConfig(
        seed=seed,
        agents=[
            {"kind": "q-network", "count": N, "qnet": QNET, "features": COMPACT},
            {"kind": "random-entry", "count": N, "p_entry": 0.3, "p_exit": 0.3},
        ],
        evaluation={"oos_fraction": 0.3},
    )
    kernel = run_kernel(cfg, market)
    split = cfg.evaluation.split_step(market.n_steps)
    assert split is not None
    equity = kernel.recorder.equity.astype(np.float64)
    oos = split_returns(equity, kernel.accounts.initial_cash, split)["oos_return"]
    q, placebo = oos[:N], oos[N:]
    p = stats.mannwhitneyu(q, placebo, alternative="greater").pvalue
    sharpe = np.median(sharpe_ratio(equity[split - 1 :], 1.0)[:N])
    noise = 2.0 / np.sqrt(market.n_steps - split)
    log_ret = np.diff(np.log(market.close.astype(np.float64)), axis=0)[split - 1 :]
    oracle = "n/a"
    if not random_walk:
        signal = market.exog[split - 1 : -1, :, 0]
        oracle = f"{np.median(np.exp((np.sign(signal) * log_ret).sum(axis=0)) - 1):+.0%}"
    return (
        f"seed {seed}: Q median {np.median(q):+.0%}  placebo {np.median(placebo):+.0%}"
        f"  p = {p:.1e}  oracle {oracle}  Q per-bar Sharpe {sharpe:+.4f} (noise ±{noise:.4f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=non_negative_ints, default="1,2,3,4,5")
    parser.add_argument("--random-walk", action="store_true", help="no planted signal")
    args = parser.parse_args()
    for seed in args.seeds:
        print(study(seed, args.random_walk), flush=True)


if __name__ == "__main__":
    main()
