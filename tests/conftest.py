"""Fixtures shared across test packages."""

import fcntl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scarline.config import RunConfig
from scarline.signing import KEY_ENV, KEYS_ENV, KeyStore


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the kernel's numba passes once, in the first process, before any test worker
    or the subprocesses tests start need them. In a clean clone numba's cache is empty, and
    every process that got there first compiled them itself (~40 s each, a killed one
    without leaving the cache behind); from a warm cache this takes ~1 s."""
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller did it
        return
    from scarline.array_packing import warm_up as warm_up_packing
    from scarline.assembly import kernel_for
    from scarline.gating.frozen import CountingJournal
    from scarline.market.stream import normalized
    from scarline.market.synthetic import SynthSpec, generate
    from scarline.operator import ReplayOperator
    from scarline.session import SessionIds

    market = normalized(generate(SynthSpec(n_steps=300, n_instruments=2, seed=1, quotes=True)))
    for pairs in ([5], [3, 5, 7, 9, 11, 13, 15, 17]):  # one agent (the quiet path), eight
        sma = {"kind": "sma-crossover", "fast": pairs, "slow": [30]}
        cfg = RunConfig(agents=[sma], risk={"max_position_lots": 10_000}, report=False)
        ids, journal = SessionIds("warm", "s"), CountingJournal()
        kernel_for(cfg, market, ids, journal, ReplayOperator([])).run()
    warm_up_packing()  # the journal above keeps no records: a WAL's packing compiles here


@pytest.fixture(scope="session", autouse=True)
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A throwaway key store for the whole session, never ``~/.config``: its ``default``
    key signs runs, gate reports and ledger writes, as after ``scarline keys init``."""
    keys = tmp_path_factory.mktemp("keys")
    KeyStore(keys).init("default")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEYS_ENV, str(keys))
        patch.delenv(KEY_ENV, raising=False)
        yield keys


@pytest.fixture(scope="session")
def small_evolving_config() -> RunConfig:
    """16 evolving Q-agents on sp500-20 from 2019 (a life cycle every 50 bars): a run of a
    few seconds with births, culls, a lineage and a vault."""
    return RunConfig(
        seed=1,
        data={"source": "sp500-20", "start": "2019-01-01"},
        agents=[
            {
                "kind": "q-network",
                "count": 16,
                "qnet": {"warmup_steps": 16, "train_every": 4},
                "evolution": {"enabled": True, "every": 50, "min_age": 50},
            }
        ],
        evaluation={"oos_fraction": 0.3},
        report=False,
    )


@pytest.fixture
def one_ray_cluster() -> Iterator[None]:
    """Hold a machine-wide lock while a test starts its local Ray cluster: two clusters
    started side by side by parallel test workers would compete for one machine's ports,
    object store and cores."""
    with (Path(tempfile.gettempdir()) / "scarline-tests-ray.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
