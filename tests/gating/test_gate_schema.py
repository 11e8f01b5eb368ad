"""A gate re-runs a recorded run's candidates under the event schema the run was recorded
with (docs/gates.md, "How a candidate is evaluated"): random flippers of a schema-13 run net
their working orders in the risk check (tests/risk/test_working_orders_run.py), so their
frozen evaluation, permutations and every other re-run must too, or a gate compares the
recorded market with markets judged by other rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from recorded_runs import flippers_config, run_as
from typer.testing import CliRunner

from scarline.cli import app
from scarline.events import REPLAYABLE_SCHEMAS, SCHEMA_VERSION
from scarline.gating import anti_overfit, prefix
from scarline.gating.config import GatesConfig
from scarline.gating.context import GateContext
from scarline.gating.executor import ProcessExecutor, SerialExecutor
from scarline.gating.frozen import SchemaRefused, frozen_equity, rerun_schema
from scarline.gating.jobs import FrozenJob, run_job
from scarline.gating.plan import independent_runs, replay_starting
from scarline.gating.subject import RunUnderTest, load_run_under_test, select
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate

RECORDED = 13  # netted working orders in the risk check (GROSS_PENDING_SCHEMA counts by side)
AGENTS = [0, 1, 2, 3]
SMALL = GatesConfig(G2={"permutations": 2}, G3={"walk_forward_folds": 2})


@pytest.fixture(scope="module")
def old_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four random flippers of 10 lots (limit 10, latency 1, participation 0.05 %) on 120
    bars, half held out, recorded as the code of schema 13 ran them."""
    tmp = tmp_path_factory.mktemp("gate-schema")
    data = write_market(generate(SynthSpec(n_steps=120, n_instruments=1, seed=2)), tmp / "m.csv")
    cfg = flippers_config(data, evaluation={"oos_fraction": 0.5})
    return run_as(cfg, RECORDED, "flips", tmp / "runs").run_dir


@pytest.fixture(scope="module")
def run(old_run: Path) -> RunUnderTest:
    return load_run_under_test(old_run)


@pytest.fixture
def ctx(run: RunUnderTest) -> GateContext:
    return GateContext(run, select(run, [",".join(map(str, AGENTS))]), SMALL)


def test_the_frozen_evaluation_reproduces_the_recorded_run(ctx: GateContext) -> None:
    recorded = ctx.run.equity[:, AGENTS]
    assert ctx.schema == RECORDED
    np.testing.assert_array_equal(ctx.base_equity, recorded)
    # the rules differ on this run: today's would have judged other positions
    today = frozen_equity(ctx.config, ctx.market, ctx.plays, SCHEMA_VERSION)
    assert not np.array_equal(today, recorded)


@pytest.mark.parametrize("reuse", [True, False])
def test_a_permutation_runs_the_recorded_rules(ctx: GateContext, reuse: bool) -> None:
    """A block permutation keeps the rows before the evaluated bars: there its equity is
    the record's, whether it grows the shared prefix or steps the whole market."""
    job = anti_overfit.permutation_jobs(ctx, reuse=reuse)["permutation:0"]
    equity = job.run()
    prefix.forget()
    np.testing.assert_array_equal(equity[: ctx.start], ctx.run.equity[: ctx.start, AGENTS])


def test_every_rerun_a_gate_plans_carries_the_recorded_schema(ctx: GateContext) -> None:
    jobs = independent_runs(ctx, {"G2", "G3"})
    assert {"frozen", "permutation:0", "fold:0", "fees", "baselines:0"} <= set(jobs)
    assert {name: getattr(job, "schema", None) for name, job in jobs.items()} == dict.fromkeys(
        jobs, RECORDED
    )
    _, started = replay_starting(ctx.run.run_dir, SMALL, {"G3"}, SerialExecutor())
    early = {name: call.args[0].schema for name, call in started.items()}  # serial: partials
    assert early == {"fold:0": RECORDED, "fold:1": RECORDED}


def test_worker_processes_run_the_recorded_rules(ctx: GateContext) -> None:
    """The schema travels with the job: a worker process has no run to read it from."""
    jobs = [ctx.frozen_job(), anti_overfit.permutation_jobs(ctx)["permutation:1"]]
    pool = ProcessExecutor(2)
    try:
        frozen, permuted = pool.map(run_job, jobs)
    finally:
        pool.close()
    np.testing.assert_array_equal(frozen.equity, ctx.run.equity[:, AGENTS])
    np.testing.assert_array_equal(permuted, jobs[1].run())
    prefix.forget()


def test_a_rerun_under_a_schema_this_code_does_not_run_is_refused(ctx: GateContext) -> None:
    job = FrozenJob(ctx.config, ctx.market, tuple(ctx.plays), schema=min(REPLAYABLE_SCHEMAS) - 1)
    with pytest.raises(SchemaRefused) as err:
        job.run()
    assert err.value.exit_code == 2
    assert "\n" not in str(err.value) and f"schema {min(REPLAYABLE_SCHEMAS) - 1}" in str(err.value)


def test_gates_refuses_a_run_of_another_schema_in_one_line(old_run: Path, tmp_path: Path) -> None:
    other = Path(shutil.copytree(old_run, tmp_path / "other"))
    manifest = msgspec.json.decode((other / "manifest.json").read_bytes())
    manifest["schema_version"] = max(REPLAYABLE_SCHEMAS) + 1  # a newer scarline's run
    (other / "manifest.json").write_bytes(msgspec.json.encode(manifest))
    result = CliRunner().invoke(app, ["gates", str(other), "--only", "G1"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "event schema changed" in lines[0]
    assert "Traceback" not in result.output


@given(st.integers(min_value=-5, max_value=SCHEMA_VERSION + 5))
def test_only_replayable_schemas_are_rerun(schema: int) -> None:
    if schema in REPLAYABLE_SCHEMAS:
        assert rerun_schema(schema) == schema
    else:
        with pytest.raises(SchemaRefused):
            rerun_schema(schema)
