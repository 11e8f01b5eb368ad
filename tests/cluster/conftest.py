"""One spied in-process evolve run (K = 3), shared by the ring-migration and Ray tests."""

import pytest
from island_helpers import MIGRANTS, NOW, K, M, Spy, small_config

from scarline.cluster.evolve import EvolveSummary, execute_evolve


@pytest.fixture(scope="session")
def spied(tmp_path_factory: pytest.TempPathFactory) -> tuple[EvolveSummary, Spy]:
    spy = Spy()
    summary = execute_evolve(
        small_config(),
        islands=K,
        executor=spy,
        migrate_every=M,
        migrants=MIGRANTS,
        out_dir=tmp_path_factory.mktemp("spied"),
        evolve_id="evo",
        now=NOW,
    )
    return summary, spy
