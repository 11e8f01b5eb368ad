"""The Ray executor on a real local cluster (2 CPUs) gives the in-process islands exactly."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import ray
from island_helpers import MIGRANTS, NOW, K, Spy, lineage_bytes, small_config
from typer.testing import CliRunner

from scarline.cli import app
from scarline.cluster.evolve import EvolveSummary, execute_evolve
from scarline.cluster.executor import IslandFailed
from scarline.cluster.ray_executor import RayExecutor

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_ray_cluster")]


def test_ray_islands_equal_in_process_islands(
    spied: tuple[EvolveSummary, Spy], tmp_path_factory: pytest.TempPathFactory
) -> None:
    local, _ = spied
    remote = execute_evolve(
        small_config(),
        islands=K,
        executor=RayExecutor(K, num_cpus=2),
        migrate_every=1,
        migrants=MIGRANTS,
        out_dir=tmp_path_factory.mktemp("ray"),
        evolve_id="evo",
        now=NOW,
    )
    assert not ray.is_initialized()  # the cluster is shut down at the end
    assert remote.executor == "ray" and local.executor == "inprocess"
    for a, b in zip(local.islands, remote.islands, strict=True):
        ta, tb = (pq.read_table(r.run_dir / "lineage.parquet") for r in (a, b))
        assert ta.schema == tb.schema and ta.num_rows == tb.num_rows
        assert ta.to_pandas().equals(tb.to_pandas())  # Table.equals calls NaN != NaN
        assert a.decision_trace_hash == b.decision_trace_hash
        assert a.wal_head == b.wal_head
    assert lineage_bytes(remote.run_dir) == lineage_bytes(local.run_dir)
    assert remote.record() == local.record()


class _LosesIsland1(RayExecutor):
    """Island 1's worker process dies before the first segment (as under kill -9)."""

    def advance(self, stop: int) -> None:
        if stop == 128:
            ray.kill(self._actors[1], no_restart=True)
        super().advance(stop)


def test_a_dead_island_worker_is_named_and_the_cluster_shut_down(tmp_path: Path) -> None:
    cfg = small_config(data={"source": "sp500-20", "start": "2022-01-01"})
    with pytest.raises(IslandFailed) as failed:  # it was Ray's ActorDiedError, no island
        execute_evolve(
            cfg, islands=2, executor=_LosesIsland1(2, num_cpus=2), out_dir=tmp_path, evolve_id="e"
        )
    assert failed.value.island == 1 and failed.value.exit_code == 1
    assert str(failed.value).startswith("island 1 failed: its Ray worker process died")
    assert failed.value.run_dir == tmp_path / "e" / "island-1"
    assert not ray.is_initialized()
    verified = CliRunner().invoke(app, ["wal", "verify", str(tmp_path / "e" / "island-0")])
    assert verified.exit_code == 0, verified.output  # the living island was closed cleanly
