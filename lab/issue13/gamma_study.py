"""Top in-sample learner's held-out Sharpe in scripts/gate_power.py's setup, by gamma."""
import sys, json
from concurrent.futures import ProcessPoolExecutor
import numpy as np
sys.path.insert(0, "/work/main/scripts")
from gate_power import OOS, QNET, STEPS, _rule_sharpe
from scarline.config import RunConfig
from scarline.gating.frozen import run_kernel
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.stats import sharpe

def one(args):
    gamma, seed, ic = args
    spec = SynthSpec(n_steps=STEPS, n_instruments=1, seed=seed, planted_ic=ic or None, random_walk=not ic)
    market = normalized(generate(spec))
    cfg = RunConfig(seed=seed, agents=[{"kind": "q-network", "count": 64, "qnet": {**QNET, "gamma": gamma}}],
                    evaluation={"oos_fraction": OOS}, risk={"max_drawdown_pct": 80.0, "max_position_lots": 10**9}, report=False)
    k = run_kernel(cfg, market)
    eq = k.recorder.equity.astype(np.float64)
    split = cfg.evaluation.split_step(market.n_steps)
    r = np.diff(eq, axis=0) / eq[:-1]
    ins, oos = r[: split - 1], r[split - 1 :]
    top = int(np.argmax(eq[split - 1] / eq[0]))
    s_oos = sharpe(oos, ddof=1)
    return dict(gamma=gamma, seed=seed, ic=ic, top_oos=float(s_oos[top]), median_oos=float(np.nanmedian(s_oos)),
                top_is=float(sharpe(ins[:, top:top+1], ddof=1)[0]), rule=_rule_sharpe(spec) if ic else None)

if __name__ == "__main__":
    jobs = [(g, s, 0.15) for g in (0.99, 0.9, 0.5) for s in range(1, 11)]
    with ProcessPoolExecutor(2) as pool:
        for row in pool.map(one, jobs):
            print(json.dumps(row), flush=True)
