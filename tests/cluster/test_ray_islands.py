"""The Ray executor on a real local cluster (2 CPUs) gives the in-process islands exactly."""

import pyarrow.parquet as pq
import pytest
import ray
from island_helpers import MIGRANTS, NOW, K, Spy, lineage_bytes, small_config

from scarline.cluster.evolve import EvolveSummary, execute_evolve
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
