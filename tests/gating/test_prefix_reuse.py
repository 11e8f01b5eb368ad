"""Block permutations continue one stepped prefix (scarline.gating.prefix): the equity must
equal a full frozen run on the same permuted market bit for bit, with the router trading on
the HMM regime path that the permutation changes (its default rules turn defensive in
chaos; regime heads cannot be judged: their genomes hold one head); and gate re-runs
(counting journal, no unread HMM) must still reproduce a real run exactly."""

from __future__ import annotations

import copy
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from scarline.config import RunConfig
from scarline.gating import anti_overfit, prefix
from scarline.gating.config import GatesConfig
from scarline.gating.context import GateContext
from scarline.gating.frozen import Play, frozen_equity
from scarline.gating.subject import RunUnderTest, load_run_under_test
from scarline.gating.transforms import blocks_moved
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.regime import memo
from scarline.runner import execute_run

N_Q = 4
HMM = {"enabled": True, "min_history": 60, "refit_every": 40, "window": 120}
ROUTER = {"enabled": True}


def greedy_run(tmp: Path, run_id: str, regime: dict) -> RunUnderTest:
    """Q-agents that never learn (greedy from bar 0, as frozen evaluation plays them) and
    SMA rules, on a small market with the HMM on."""
    spec = SynthSpec(n_steps=320, n_instruments=2, seed=7, random_walk=True, drift_ic=0.2)
    data = write_market(generate(spec), tmp / f"{run_id}.csv")
    qnet = {"hidden": [8]}
    cfg = RunConfig(
        seed=3,
        data={"source": str(data)},
        report=False,
        agents=[
            {"kind": "q-network", "count": N_Q, "learn": False, "qnet": qnet},
            {"kind": "sma-crossover", "fast": [5], "slow": [20]},
        ],
        execution={"fees": {"bps": 1.0}, "slippage": {"fixed_bps": 1.0}},
        evaluation={"oos_fraction": 0.4},
        regime=regime,
    )
    summary = execute_run(cfg, run_id=run_id, out_dir=tmp / "runs")
    return load_run_under_test(summary.run_dir)


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> RunUnderTest:
    """The regime trades: the router bands exposures and picks entries by it."""
    return greedy_run(tmp_path_factory.mktemp("traded"), "traded", {"hmm": HMM, "router": ROUTER})


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> RunUnderTest:
    """The regime only labels records: the gates' re-runs switch the HMM off."""
    return greedy_run(tmp_path_factory.mktemp("labelled"), "labelled", {"hmm": HMM})


@pytest.mark.parametrize("which", ["traded", "labelled"])
def test_frozen_reruns_reproduce_the_run(which: str, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue(which)
    agents = [0, 2, 3, N_Q]
    plays = [Play(run.candidate(a)) for a in agents]
    equity = frozen_equity(run.config, run.market, plays)
    np.testing.assert_array_equal(equity, run.equity[:, agents])


def _ctx(run: RunUnderTest, permutations: int = 4) -> GateContext:
    candidates = [run.candidate(a) for a in (1, 3, N_Q)]
    return GateContext(run, candidates, GatesConfig(G2={"permutations": permutations}))


def test_prefix_reuse_equals_a_full_run_on_each_permuted_market(traded: RunUnderTest) -> None:
    ctx = _ctx(traded)
    assert 2 < ctx.start < traded.market.n_steps
    memo.clear()
    prefix.forget()
    reused = anti_overfit.permutation_jobs(ctx)
    plain = anti_overfit.permutation_jobs(ctx, reuse=False)
    runs = []
    for name, job in reused.items():
        market = blocks_moved(job.market, job.block, job.order, job.start)
        assert not np.array_equal(market.close, traded.market.close)  # a real permutation
        full = frozen_equity(ctx.config, market, list(job.plays))
        np.testing.assert_array_equal(job.run(), full)
        np.testing.assert_array_equal(plain[name].run(), full)
        runs.append(full)
    # the permutations differ from each other and from the real market after start only
    assert not np.array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0][: ctx.start], ctx.base_equity[: ctx.start])
    prefix.forget()


def test_the_prefix_is_not_consumed_by_a_permutation(traded: RunUnderTest) -> None:
    """Each permutation continues a copy: running them in another order changes nothing."""
    ctx = _ctx(traded)
    jobs = list(anti_overfit.permutation_jobs(ctx).values())
    prefix.forget()
    forward = [job.run() for job in jobs]
    backward = [job.run() for job in reversed(jobs)][::-1]
    for a, b in zip(forward, backward, strict=True):
        np.testing.assert_array_equal(a, b)
    prefix.forget()


def test_block_permutation_verdicts_with_and_without_reuse(
    traded: RunUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_reuse = anti_overfit.block_permutation(_ctx(traded, 6))
    original = anti_overfit.permutation_jobs
    monkeypatch.setattr(anti_overfit, "permutation_jobs", partial(original, reuse=False))
    without = anti_overfit.block_permutation(_ctx(traded, 6))
    assert with_reuse == without


def test_memoized_fits_are_the_fits(traded: RunUnderTest) -> None:
    """A memoized regime path equals one computed with an empty memo (bit for bit)."""
    from scarline.regime.causal import regime_path

    cfg = traded.config.regime.hmm
    memo.clear()
    cold = regime_path(traded.market, cfg)
    warm = regime_path(copy.deepcopy(traded.market), cfg)
    for a, b in ((cold.probs, warm.probs), (cold.labels, warm.labels)):
        np.testing.assert_array_equal(a, b)
    assert [s for s, _ in cold.fits] == [s for s, _ in warm.fits]
    for (_, m1), (_, m2) in zip(cold.fits, warm.fits, strict=True):
        assert m1 is m2  # looked up, not refitted
