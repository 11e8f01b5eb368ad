"""The compiled order check refuses exactly the fields the numpy checks refuse."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution.broker import SimBroker
from scarline.execution.config import ExecutionConfig
from scarline.execution.order_check import FIELDS, invalid_fields
from scarline.execution.types import OrderBatch, unit_values


def _batch(rng: np.random.Generator, k: int, bad: float) -> OrderBatch:
    """``k`` orders, each field broken with probability ``bad``."""

    def spoil(good: np.ndarray, wrong: np.ndarray) -> np.ndarray:
        return np.where(rng.random(k) < bad, wrong, good).astype(good.dtype)

    ids = np.cumsum(rng.integers(1, 4, k)) + 10
    order_type = rng.integers(0, 2, k).astype(np.int8)
    return OrderBatch(
        order_id=spoil(ids, ids - rng.integers(0, 30, k)),
        agent=spoil(rng.integers(0, 5, k), rng.integers(-3, 9, k)),
        instrument=spoil(rng.integers(0, 2, k), rng.integers(-2, 4, k)),
        side=spoil(rng.choice(np.array([-1, 1], np.int8), k), rng.integers(-2, 3, k)),
        qty=spoil(rng.integers(1, 9, k), rng.integers(-3, 1, k)),
        order_type=spoil(order_type, rng.integers(-1, 3, k)),
        limit_price=spoil(rng.integers(1, 99, k) * order_type, rng.integers(-5, 1, k)),
        decision_step=np.zeros(k, np.int64),
        reducing=np.zeros(k, bool),
    )


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 30), bad=st.sampled_from([0, 0.02, 0.2]))
def test_compiled_check_finds_the_numpy_checks_failures(seed: int, k: int, bad: float) -> None:
    rng = np.random.default_rng(seed)
    broker = SimBroker.from_config(ExecutionConfig(), 5, unit_values(["0.01", "0.01"], ["1", "1"]))
    broker._last_id = int(rng.integers(0, 12))
    o = _batch(rng, k, bad)
    mask = invalid_fields(
        o.order_id, broker._last_id, o.agent, 5, o.instrument, 2, o.side, o.qty,
        o.order_type, o.limit_price,
    )  # fmt: skip
    assert [name for b, name in enumerate(FIELDS) if mask >> b & 1] == broker._check_numpy(o)
