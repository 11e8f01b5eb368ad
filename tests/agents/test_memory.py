"""The population's memory estimate counts every big array, the update's batch included."""

from __future__ import annotations

import pytest
from market_helpers import tiny_market_of

from scarline.agents.memory import check_memory, estimate_memory
from scarline.config import RunConfig
from scarline.errors import ConfigError

MARKET = tiny_market_of([[100.0, 50.0]] * 30)


def _agents(**qnet: object) -> list:
    group = {"kind": "q-network", "count": 3, "qnet": {"hidden": [4], **qnet}}
    return list(RunConfig.model_validate({"agents": [group]}).agents)


def test_a_huge_batch_is_refused_before_the_run_not_by_the_oom_killer() -> None:
    """Before, ``batch_size = 100_000_000`` passed the check (it ignored the batch) and the
    run was killed by the kernel's OOM killer at its first update (exit 137)."""
    with pytest.raises(ConfigError, match=r"agents\[0\] update batch .*qnet\.batch_size"):
        check_memory(_agents(batch_size=10**8), MARKET, available=8 * 2**30)


def test_the_batch_part_grows_with_batch_size_and_count() -> None:
    small = estimate_memory(_agents(batch_size=32), MARKET).parts["agents[0] update batch"]
    large = estimate_memory(_agents(batch_size=64), MARKET).parts["agents[0] update batch"]
    assert large == 2 * small > 0


def test_a_batch_larger_than_the_buffer_fits() -> None:
    """Sampling is with replacement: a batch larger than the buffer is legal."""
    estimate = check_memory(_agents(batch_size=4096, buffer_capacity=16), MARKET, available=2**30)
    assert estimate.total < 2**30


def test_a_group_that_does_not_learn_samples_no_batch() -> None:
    group = {"kind": "q-network", "count": 3, "learn": False, "qnet": {"batch_size": 10**8}}
    agents = list(RunConfig.model_validate({"agents": [group]}).agents)
    assert "agents[0] update batch" not in estimate_memory(agents, MARKET).parts
