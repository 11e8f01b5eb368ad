"""The compiled exposure matrix equals the numpy construction it replaced, bit for bit."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.agents.exposure import exposure_of


def reference(action, levels, cap, instrument, parked, m):
    """What ``QAgents.decide`` did in numpy."""
    exposure = np.zeros((action.shape[0], m), dtype=np.float32)
    exposure[np.arange(action.shape[0]), instrument] = levels[action] * cap
    if parked is not None:
        exposure[parked] = 0.0
    return exposure


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 40),
    m=st.integers(1, 7),
    seed=st.integers(0, 2**32 - 1),
    with_parked=st.booleans(),
)
def test_exposure_is_the_numpy_construction(n: int, m: int, seed: int, with_parked: bool) -> None:
    """Odd levels (-0.0, tiny, large) and caps: the same float32 products and signed zeros."""
    rng = np.random.default_rng(seed)
    levels = rng.choice(np.array([-1.0, -0.0, 0.0, 0.5, 1.0, 1e-38, 7.3], np.float32), 4)
    cap = rng.choice(np.array([0.25, 1.0, 0.1, 3.0], np.float32), n)
    action = rng.integers(0, 4, n)
    instrument = rng.integers(0, m, n)
    parked = rng.random(n) < 0.3 if with_parked else None
    got = exposure_of(action, levels, cap, instrument, parked, m)
    want = reference(action, levels, cap, instrument, parked, m)
    assert got.dtype == np.float32 and got.shape == (n, m)
    assert got.tobytes() == want.tobytes()
