"""An island stopped mid-run (Ctrl-C) is a run directory the WAL tools understand: its run
id is not its directory's name, and it has no session.json or manifest to say it."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from island_helpers import small_config
from typer.testing import CliRunner

from scarline.cli import app
from scarline.cluster.evolve import execute_evolve
from scarline.cluster.island import Island, IslandSpec
from scarline.journal.seal import seal_run
from scarline.replayer import replay_run
from scarline.rundir import island_run_id
from scarline.runner import create_run

runner = CliRunner()
pytestmark = pytest.mark.slow


def _interrupted(tmp_path: Path, island: int, steps: int) -> Path:
    """``<tmp>/ev/island-<k>`` after ``steps`` steps, aborted as Ctrl-C leaves it."""
    cfg = small_config(data={"source": "sp500-20", "start": "2022-06-01"})
    spec = IslandSpec(cfg, island, island_run_id("ev", island), tmp_path / "ev", datetime.now(UTC))
    run = Island(spec)
    run.advance(steps)
    run.abort()
    return tmp_path / "ev" / f"island-{island}"


def test_an_interrupted_island_verifies_and_seals(tmp_path: Path) -> None:
    run_dir = _interrupted(tmp_path, island=1, steps=60)
    assert not (run_dir / "manifest.json").exists()
    result = runner.invoke(app, ["wal", "verify", str(run_dir)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["wal", "seal", str(run_dir), "--json"])
    assert result.exit_code == 0, result.output
    sealed = json.loads(result.stdout)
    assert sealed["status"] == "sealed" and sealed["run_id"] == "ev-island-1"
    assert sealed["steps"] == 60


class _Interrupted(Exception):
    """Ctrl-C, at a chosen step."""


def _stopped_evolve(tmp_path: Path, stop: int) -> Path:
    """Two islands of ``scarline evolve`` stopped at step ``stop`` (after migrations): the
    evolve directory, its islands without lineage or manifest."""
    cfg = small_config(data={"source": "sp500-20", "start": "2021-06-01"})

    def interrupt(done: int) -> None:
        if done >= stop:
            raise _Interrupted

    total = 0

    def advance(n: int) -> None:
        nonlocal total
        total += n // 2
        interrupt(total)

    with pytest.raises(_Interrupted):
        execute_evolve(
            cfg, islands=2, migrants=2, out_dir=tmp_path, evolve_id="ev", on_advance=advance
        )
    return tmp_path / "ev"


def test_a_sealed_island_replays_its_prefix_with_parity(tmp_path: Path) -> None:
    # 399 steps, split at 279; migrations at 100 and 150; stopped at 200, whose own split
    # (140) would end evolution before the second migration
    evolve_dir = _stopped_evolve(tmp_path, 200)
    run_dir = evolve_dir / "island-1"
    assert not (run_dir / "lineage.parquet").exists()
    sealed = seal_run(run_dir, "ev-island-1")
    assert sealed.status == "sealed" and not sealed.session_ended
    # immigrants arrived (read back from the WAL) and the out-of-sample split is the one of
    # the whole session, not of the steps journaled before the stop
    result = replay_run(run_dir)
    assert result.parity, result.mismatch
    assert result.wal_head_replayed == sealed.head


def test_a_run_sealed_past_its_prefixs_split_replays_with_parity(tmp_path: Path) -> None:
    """Not only islands: any run with an out-of-sample split stopped at step t replayed with
    the split of t steps (0.7 t), freezing learning and evolution too early."""
    cfg = small_config(data={"source": "sp500-20", "start": "2022-01-01"})  # 249 steps
    run = create_run(cfg, run_id="p", out_dir=tmp_path)
    run.kernel.begin()
    run.kernel.run_steps(0, 160)  # its own split would be 112: before the cycle at 150
    run.abort()
    assert seal_run(tmp_path / "p", "p").status == "sealed"
    result = replay_run(tmp_path / "p")
    assert result.parity, result.mismatch
