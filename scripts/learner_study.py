"""Do the learners learn, and do they pay their costs? The arena's learner on a planted edge.

    python scripts/learner_study.py [--seeds 1,2,3,4,5] [--ic 0.15] [--zero-cost]
                                    [--config configs/arena.toml] [--agents N]
                                    [--actions=-1,0,1]

The planted market of ``scripts/gate_power.py`` (3000 daily bars, one instrument, a column
``signal`` with correlation IC to the next bar's return, last 30 % held out), traded by the
first learning group of ``--config`` (its qnet, features and sizing; ``--agents`` overrides
the count; ``--actions`` its action set: the arena is long-only, the planted edge is long
and short) with the config's costs (``configs/arena.toml``: 0.5 bps fee, 1.5 bps half-spread,
square-root impact 0.1 x sigma x sqrt(qty / volume)) or none (``--zero-cost``). Printed per
seed, out of sample, annualized Sharpe (252 bars a year):

* ``best``: the best in-sample learner; ``median``: the median learner;
* ``rule_0``: ``sign(signal)`` gross of costs (the edge's ceiling) and ``ratio`` = best /
  rule_0, the figure of issue 13's learning acceptance (>= 0.5 in 4 of 5 seeds);
* ``rule_k``: the thresholded rule ``sign(signal) * 1{|signal| > k}`` with k chosen on the
  in-sample bars (grid 0..2 by 0.1), net of the same costs, estimated at the run's starting
  equity (an estimate: the kernel's cash cap and lot rounding are left out), and ``k``;
* ``flat``: the share of learners that do not trade out of sample.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from scarline.agents.config import QNetGroup
from scarline.argtypes import correlation, finite_floats, non_negative_ints, positive_int
from scarline.config import RunConfig, load_config
from scarline.errors import ConfigError
from scarline.gating.frozen import run_kernel
from scarline.market.frame import MarketData
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.stats import sharpe

STEPS, OOS = 3000, 0.3
YEAR = 252.0


def _sharpe(x: np.ndarray) -> np.ndarray:
    """Annualized Sharpe of each column (population std, as this study has always used)."""
    return sharpe(x, ddof=0, periods_per_year=YEAR)


def thresholded_rule(market: MarketData, cfg: RunConfig, split: int) -> tuple[float, float, float]:
    """``(k, net OOS Sharpe, gross sign-rule OOS Sharpe)`` with k picked in-sample."""
    close = market.close[:, 0].astype(np.float64) * float(market.tick_sizes()[0])  # currency
    signal, volume = market.exog[:, 0, 0], market.volume[:, 0].astype(np.float64)
    one_bar = np.r_[0.0, np.diff(np.log(close))]
    sigma = np.array([one_bar[max(1, t - 20) : t].std() if t > 2 else 0.0 for t in range(STEPS)])
    cash = cfg.accounts.initial_cash
    fixed = (cfg.execution.fees.bps + cfg.execution.slippage.fixed_bps) / 1e4
    vol_coef = cfg.execution.slippage.vol_coef
    r = np.diff(np.log(close))
    z = signal[:-1]
    best = (-np.inf, 0.0, np.zeros_like(r))
    for k in np.round(np.arange(0.0, 2.01, 0.1), 1):
        pos = np.sign(z) * (np.abs(z) > k)
        turn = np.abs(np.diff(np.r_[0.0, pos]))
        qty = turn * cash / close[:-1]
        impact = vol_coef * sigma[1:] * np.sqrt(qty / np.maximum(volume[1:], 1.0))
        net = pos * r - turn * (fixed + impact)
        s_in = float(_sharpe(net[: split - 1])[0])
        if s_in > best[0]:
            best = (s_in, float(k), net)
    gross = np.sign(z) * r
    return best[1], float(_sharpe(best[2][split - 1 :])[0]), float(_sharpe(gross[split - 1 :])[0])


def study_config(
    base: RunConfig,
    seed: int,
    agents: int | None,
    zero_cost: bool,
    actions: list[float] | None = None,
) -> RunConfig:
    """``base``'s first learning group alone, with its costs (or none), on the planted market."""
    group = next(g for g in base.agents if isinstance(g, QNetGroup))
    if agents is not None:
        group = group.model_copy(update={"count": agents})
    if actions is not None:
        group = group.model_copy(
            update={"qnet": group.qnet.model_copy(update={"actions": actions})}
        )
    execution = base.execution
    if zero_cost:
        execution = execution.model_copy(
            update={
                "fees": execution.fees.model_copy(update={"bps": 0.0, "minimum": 0.0}),
                "slippage": execution.slippage.model_copy(
                    update={"fixed_bps": 0.0, "vol_coef": 0.0}
                ),
            }
        )
    return RunConfig(
        seed=seed,
        report=False,
        agents=[group.model_dump()],
        evaluation={"oos_fraction": OOS},
        execution=execution.model_dump(),
        risk={"max_drawdown_pct": 80.0},
    )


def study(seed: int, ic: float, cfg: RunConfig) -> dict[str, float | int]:
    market = normalized(generate(SynthSpec(n_steps=STEPS, seed=seed, planted_ic=ic)))
    kernel = run_kernel(cfg, market)
    split = cfg.evaluation.split_step(market.n_steps)
    assert split is not None
    log_eq = np.log(kernel.recorder.equity.astype(np.float64))
    ret = np.diff(log_eq, axis=0)
    oos = ret[split - 1 :]
    best = int(np.argmax(log_eq[split - 1] - log_eq[0]))
    sharpes = _sharpe(oos)
    k, rule_k, rule_0 = thresholded_rule(market, cfg, split)
    return {
        "seed": seed,
        "best": round(float(sharpes[best]), 3),
        "median": round(float(np.median(sharpes)), 3),
        "rule_0": round(rule_0, 3),
        "ratio": round(float(sharpes[best]) / rule_0, 2) if rule_0 > 0 else float("nan"),
        "rule_k": round(rule_k, 3),
        "k": k,
        "flat": round(float((oos.std(0) < 1e-12).mean()), 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=non_negative_ints, default="1,2,3,4,5")
    ap.add_argument("--ic", type=correlation, default=0.15)
    ap.add_argument("--config", type=Path, default=Path("configs/arena.toml"))
    ap.add_argument("--agents", type=positive_int, help="learners (default: the config's count)")
    ap.add_argument("--zero-cost", action="store_true", help="no fees, no slippage")
    ap.add_argument(
        "--actions",
        type=finite_floats,
        help="the learners' exposures, e.g. -1,0,1 (default: config)",
    )
    args = ap.parse_args(argv)
    try:
        base = load_config(args.config)
    except ConfigError as err:
        ap.error(str(err))
    if not any(isinstance(g, QNetGroup) for g in base.agents):
        ap.error(f"--config {args.config}: no q-network group to study")
    rows = []
    for seed in args.seeds:
        cfg = study_config(base, seed, args.agents, args.zero_cost, args.actions)
        rows.append(study(seed, args.ic, cfg))
        print(json.dumps(rows[-1]), flush=True)
    learned = sum(r["ratio"] >= 0.5 for r in rows)
    print(f"best in-sample learner >= 50 % of sign(signal) out of sample: {learned} of {len(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
