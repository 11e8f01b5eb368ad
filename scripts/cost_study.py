"""Learners with costs on, against the rule a careful human would trade.

    python scripts/cost_study.py [--seeds 1,2,3,4,5] [--ic 0.15] [--agents 256]

The planted market of ``scripts/gate_power.py`` (3000 daily bars, one instrument, a column
``signal`` with correlation IC to the next bar's return, last 30 % held out), traded with the
costs of ``configs/arena.toml`` (0.5 bps fee, 1.5 bps half-spread, square-root impact
0.1 x sigma x sqrt(qty / volume)). Printed per seed, out of sample and net of costs,
annualized Sharpe (252 bars a year):

* ``best``: the best in-sample learner; ``median``: the median learner;
* ``rule_k``: the thresholded rule ``sign(signal) * 1{|signal| > k}`` with k chosen on the
  in-sample bars (grid 0..2 by 0.1), its costs estimated with the same cost model at the
  run's starting equity (an estimate: the kernel's cash cap and lot rounding are left out);
* ``rule_0``: ``sign(signal)`` gross of costs (the edge's ceiling), and ``flat``: the share of
  learners that do not trade out of sample.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.engine import SessionIds
from scarline.journal import HashOnlyWal
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator

STEPS, OOS, CASH = 3000, 0.3, 1_000_000.0
FEE_BPS, FIXED_BPS, VOL_COEF = 0.5, 1.5, 0.1
QNET = {"actions": [-1.0, 0.0, 1.0], "epsilon_decay_steps": 500, "double": True}
YEAR = np.sqrt(252.0)


def _sharpe(x: np.ndarray) -> np.ndarray:
    return x.mean(0) / np.maximum(x.std(0), 1e-12) * YEAR


def thresholded_rule(
    signal: np.ndarray, close: np.ndarray, volume: np.ndarray, sigma: np.ndarray, split: int
) -> tuple[float, float, float]:
    """``(k, net OOS Sharpe, gross sign-rule OOS Sharpe)`` with k picked in-sample."""
    r = np.diff(np.log(close))
    z = signal[:-1]
    best = (-np.inf, 0.0, np.zeros_like(r))
    for k in np.round(np.arange(0.0, 2.01, 0.1), 1):
        pos = np.sign(z) * (np.abs(z) > k)
        turn = np.abs(np.diff(np.r_[0.0, pos]))
        qty = turn * CASH / close[:-1]
        impact = VOL_COEF * sigma[1:] * np.sqrt(qty / np.maximum(volume[1:], 1.0))
        net = pos * r - turn * ((FEE_BPS + FIXED_BPS) / 1e4 + impact)
        s_in = float(_sharpe(net[: split - 1]))
        if s_in > best[0]:
            best = (s_in, float(k), net)
    gross = np.sign(z) * r
    return best[1], float(_sharpe(best[2][split - 1 :])), float(_sharpe(gross[split - 1 :]))


def study(seed: int, ic: float, agents: int) -> dict[str, float | int]:
    market = normalized(generate(SynthSpec(n_steps=STEPS, seed=seed, planted_ic=ic)))
    cfg = RunConfig(
        seed=seed,
        report=False,
        agents=[{"kind": "q-network", "count": agents, "qnet": QNET}],
        evaluation={"oos_fraction": OOS},
        execution={
            "fees": {"bps": FEE_BPS},
            "slippage": {"fixed_bps": FIXED_BPS, "vol_coef": VOL_COEF},
        },
        risk={"max_drawdown_pct": 80.0},
    )
    kernel = kernel_for(cfg, market, SessionIds("cost", "s"), HashOnlyWal("c"), ReplayOperator([]))
    kernel.run()
    split = cfg.evaluation.split_step(market.n_steps)
    assert split is not None
    log_eq = np.log(kernel.recorder.equity.astype(np.float64))
    ret = np.diff(log_eq, axis=0)
    oos = ret[split - 1 :]
    best = int(np.argmax(log_eq[split - 1] - log_eq[0]))
    sharpe = _sharpe(oos)
    close = market.close[:, 0].astype(np.float64) * float(market.tick_sizes()[0])  # currency
    sigma = np.r_[0.0, np.diff(np.log(close))]
    sigma = np.array([sigma[max(1, t - 20) : t].std() if t > 2 else 0.0 for t in range(STEPS)])
    k, rule_k, rule_0 = thresholded_rule(
        market.exog[:, 0, 0], close, market.volume[:, 0].astype(np.float64), sigma, split
    )
    return {
        "seed": seed,
        "best": round(float(sharpe[best]), 3),
        "median": round(float(np.median(sharpe)), 3),
        "rule_k": round(rule_k, 3),
        "k": k,
        "rule_0": round(rule_0, 3),
        "flat": round(float((oos.std(0) < 1e-12).mean()), 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--ic", type=float, default=0.15)
    ap.add_argument("--agents", type=int, default=256)
    args = ap.parse_args(argv)
    for seed in (int(s) for s in args.seeds.split(",")):
        print(json.dumps(study(seed, args.ic, args.agents)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
