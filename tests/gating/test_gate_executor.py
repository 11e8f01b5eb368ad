"""The gates' report is the same whatever executes their re-runs: serial, two local worker
processes (each stepping its own copy of the permutations' shared prefix) or Ray; and
whether or not the walk-forward folds started while the run was replayed."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from scarline.config import RunConfig
from scarline.gating import anti_overfit
from scarline.gating.config import GatesConfig
from scarline.gating.context import GateContext
from scarline.gating.executor import ProcessExecutor, SerialExecutor, executor_for
from scarline.gating.frozen import Play
from scarline.gating.jobs import FrozenJob
from scarline.gating.plan import replay_starting
from scarline.gating.runner import run_gates
from scarline.gating.subject import load_run_under_test, select
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.report.gate_report import encode_gate_report
from scarline.runner import execute_run

# every G2 and G3 check runs, each cut down to a few re-runs
SMALL = GatesConfig(
    G2={"permutations": 5, "placebo_agents": 10, "spa_reps": 100, "lag_bars": [1, 2]},
    G3={"walk_forward_folds": 2, "perturbations": 2, "slippage_bps": [2.0, 5.0]},
)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Learning Q-agents and a rule group on 360 bars with an exogenous column, the HMM on."""
    tmp = tmp_path_factory.mktemp("executor")
    spec = SynthSpec(n_steps=360, n_instruments=2, seed=5, random_walk=True, drift_ic=0.2)
    data = write_market(generate(spec), tmp / "synth.csv")
    cfg = RunConfig(
        seed=2,
        data={"source": str(data)},
        report=False,
        agents=[
            {"kind": "q-network", "count": 4, "qnet": {"hidden": [8], "warmup_steps": 32}},
            {"kind": "sma-crossover", "fast": [5], "slow": [20]},
        ],
        evaluation={"oos_fraction": 0.3},
        regime={"hmm": {"enabled": True, "min_history": 60, "refit_every": 50, "window": 150}},
        risk={"max_drawdown_pct": 50.0, "max_position_lots": 100000},
    )
    return execute_run(cfg, run_id="executor", out_dir=tmp / "runs").run_dir


AGENTS = ["top:1", "4"]


def _report(run_dir: Path, executor: object) -> bytes:
    report = run_gates(
        run_dir,
        AGENTS,
        SMALL,
        only=["G2", "G3"],
        executor=executor,  # type: ignore[arg-type]
    )
    return encode_gate_report(report)


@pytest.mark.parametrize(
    ("agents", "early_runs"),
    [
        (AGENTS, ["fold:0", "fold:1"]),  # an agent id: the shuffle's group is not known yet
        (["top:1"], ["fold:0", "fold:1", "shuffled:0"]),  # the one learning group
    ],
)
def test_runs_started_during_the_replay_change_nothing(
    small_run: Path, agents: list[str], early_runs: list[str]
) -> None:
    """The runs started while the run is replayed (two workers) give the report of a
    serial batch that started nothing early; the caller's own work (``meanwhile``) runs
    once, on the replayed run, while the batch is out."""
    reference = run_gates(
        small_run,
        agents,
        SMALL,
        only=["G2", "G3"],
        run=load_run_under_test(small_run),
        executor=SerialExecutor(),
    )
    pool = ProcessExecutor(2)
    run, started = replay_starting(small_run, SMALL, {"G2", "G3"}, pool, agents)
    assert sorted(started) == early_runs
    assert pool._pool is not None  # running before any check asked for them
    seen: list[object] = []

    def meanwhile(subject: object) -> None:
        assert pool._pool is not None  # the re-runs are out
        seen.append(subject)

    early = run_gates(
        small_run,
        agents,
        SMALL,
        only=["G2", "G3"],
        run=run,
        executor=pool,
        started=started,
        meanwhile=meanwhile,
    )
    assert seen == [run]
    assert pool._pool is None
    assert encode_gate_report(early) == encode_gate_report(reference)


def test_label_shuffle_job_evaluates_as_a_frozen_job(small_run: Path) -> None:
    """The retraining job's own frozen evaluation is the frozen job of its agents."""
    run = load_run_under_test(small_run)
    ctx = GateContext(run, select(run, ["top:1"]), SMALL)
    (job,) = anti_overfit.shuffle_jobs(ctx).values()
    plays = tuple(Play(c) for c in job.retrain())
    separate = FrozenJob(ctx.config, ctx.market, plays).run()
    chained = job.run()
    assert chained.rows == separate.rows
    np.testing.assert_array_equal(chained.equity, separate.equity)


def test_serial_and_two_processes_give_the_same_report(small_run: Path) -> None:
    serial = _report(small_run, SerialExecutor())
    pool = ProcessExecutor(2)
    parallel = _report(small_run, pool)
    assert pool._pool is None  # closed at the end
    assert parallel == serial
    checks = msgspec.json.decode(serial)["agents"]
    assert len(checks) == 2  # a learned candidate and a rule agent


@pytest.mark.slow
@pytest.mark.usefixtures("one_ray_cluster")
def test_ray_gives_the_same_report(small_run: Path) -> None:
    ray = pytest.importorskip("ray")
    assert _report(small_run, executor_for("ray", 2)) == _report(small_run, SerialExecutor())
    assert not ray.is_initialized()


def test_unknown_executor() -> None:
    with pytest.raises(Exception, match="unknown executor"):
        executor_for("threads")
