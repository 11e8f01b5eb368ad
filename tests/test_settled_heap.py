"""``settled_heap``: the objects that exist when a loop starts are frozen out of full
collections for the loop, and handed back after it, unless a caller already froze some."""

from __future__ import annotations

import gc

import pytest

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.journal import HashOnlyWal
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.session import SessionIds
from scarline.settled_heap import settled_heap


@pytest.fixture(autouse=True)
def _nothing_frozen() -> None:
    assert gc.get_freeze_count() == 0, "a test before this one left objects frozen"


def test_objects_before_the_block_are_frozen_during_it_and_released_after() -> None:
    standing = [[] for _ in range(1000)]  # tracked containers, made before the block
    with settled_heap():
        assert gc.get_freeze_count() >= len(standing)
        assert gc.is_tracked(standing)
    assert gc.get_freeze_count() == 0


def test_released_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), settled_heap():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0


def test_a_callers_frozen_objects_are_left_frozen() -> None:
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with settled_heap():
            made_inside = [[] for _ in range(100)]
            # (frozen objects that die meanwhile leave the count: it may only fall)
            assert gc.get_freeze_count() <= before  # nothing more frozen
        assert gc.get_freeze_count() > 0  # nothing handed back: unfreezing empties it
        assert len(made_inside) == 100
    finally:
        gc.unfreeze()


def test_garbage_made_in_the_block_is_still_collected() -> None:
    with settled_heap():
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1


def test_the_kernel_loop_runs_on_a_settled_heap() -> None:
    market = normalized(generate(SynthSpec(n_steps=20, n_instruments=2, seed=3)))
    cfg = RunConfig(seed=3, agents=[{"kind": "random-entry", "count": 4}])
    ids, wal = SessionIds("heap", "s"), HashOnlyWal("heap")
    kernel = kernel_for(cfg, market, ids, wal, ReplayOperator([]))
    frozen: list[int] = []
    kernel.begin()
    kernel.run_steps(0, 20, lambda _t: frozen.append(gc.get_freeze_count()))
    kernel.end()
    assert len(frozen) == 20 and min(frozen) > 0
    assert gc.get_freeze_count() == 0
