"""Does the in-sample ranking find the learners that learned? By learning rate.

    python lab/issue13/selection_study.py TAG QNET_JSON [--seeds 40]
    python lab/issue13/selection_study.py base '{}'
    python lab/issue13/selection_study.py lr3e-4 '{"lr": 3e-4}'

scripts/gate_power.py's planted markets (IC 0.15, 3000 bars, 30 % held out, 64 Q-agents at
zero cost) are run without the gates (one run is seconds, a gated seed minutes), their
equity kept in /tmp/selection/TAG-IC-SEED.npz, and the population is read directly:

* ``rho``: Spearman correlation, across the 64 agents of a seed, between the in-sample
  return and the held-out Sharpe (mean over seeds): does ranking in-sample pick learners?
* ``top/rule``: the held-out Sharpe of the top in-sample agent over ``sign(signal)``'s;
* ``proxy pass``: the top agent's in-sample max-t p (against cash, the pool's bootstrap
  maximum) combined by Stouffer with its held-out t-test p: DSR's evidence without the
  placebos and frozen re-run of the real gates.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import norm, spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from gate_power import OOS, QNET, STEPS

from scarline.config import RunConfig
from scarline.gating.frozen import run_kernel
from scarline.gating.spa import max_t_pvalues
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate

OUT = Path("/tmp/selection")


def run_one(job: tuple[str, dict, float, int]) -> Path:
    tag, qnet, ic, seed = job
    out = OUT / f"{tag}-{ic}-{seed}.npz"
    if out.exists():
        return out
    spec = SynthSpec(
        n_steps=STEPS, n_instruments=1, seed=seed, planted_ic=ic or None, random_walk=not ic
    )
    market = normalized(generate(spec))
    cfg = RunConfig(
        seed=seed,
        report=False,
        agents=[{"kind": "q-network", "count": 64, "qnet": {**QNET, **qnet, "torch_threads": 1}}],
        evaluation={"oos_fraction": OOS},
        risk={"max_drawdown_pct": 80.0, "max_position_lots": 10**9},
    )
    kernel = run_kernel(cfg, market)
    signal = market.exog[:, 0, 0] if market.exog.shape[2] else np.zeros(market.n_steps)
    np.savez(
        out,
        equity=kernel.recorder.equity.astype(np.float64),
        split=cfg.evaluation.split_step(market.n_steps),
        close=market.close[:, 0].astype(np.float64),
        signal=signal,
    )
    return out


def _sharpe(x: np.ndarray) -> np.ndarray:
    sd = x.std(0, ddof=1)
    return np.where(sd > 1e-12, x.mean(0) / np.where(sd > 1e-12, sd, 1.0), 0.0)


def summarize(files: list[Path]) -> dict[str, float]:
    rho, ratio, ps = [], [], []
    for f in files:
        d = np.load(f)
        eq, split = d["equity"], int(d["split"])
        r = eq[1:] / eq[:-1] - 1
        held = _sharpe(r[split - 1 :])
        score = eq[split - 1] / eq[0]
        top = int(np.argmax(score))
        rule = np.sign(d["signal"][:-1]) * np.diff(np.log(d["close"]))
        rho.append(spearmanr(score, held)[0])
        ratio.append(held[top] / float(_sharpe(rule[split - 1 :])))
        p_in = max_t_pvalues(r[: split - 1], [top], 300, 0)[0]
        n_in, n_out = split - 1, r.shape[0] - split + 1
        p_out = float(norm.sf(held[top] * np.sqrt(n_out)))
        z = norm.isf(np.clip([p_in, p_out], 1e-12, 1 - 1e-12))
        w = np.sqrt([n_in, n_out])
        ps.append(float(norm.sf(w @ z / np.hypot(*w))) if held[top] > 0 else 1.0)
    p = np.array(ps)
    return {
        "seeds": len(files),
        "rho": round(float(np.nanmean(rho)), 3),
        "top/rule mean": round(float(np.mean(ratio)), 2),
        "top >= 0.5 rule": round(float(np.mean(np.array(ratio) >= 0.5)), 2),
        **{f"proxy pass at {a}": round(float(np.mean(p <= a)), 3) for a in (0.05, 0.02, 0.01)},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tag")
    ap.add_argument("qnet", help="QNET overrides, JSON")
    ap.add_argument("--seeds", type=int, default=40)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    jobs = [(args.tag, json.loads(args.qnet), 0.15, s) for s in range(1, args.seeds + 1)]
    with ProcessPoolExecutor(2) as pool:
        files = list(pool.map(run_one, jobs))
    print(json.dumps({args.tag: summarize(files)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
