import numpy as np
import pytest

from scarline.rng import SeedTree


def test_streams_are_reproducible_and_independent_by_name() -> None:
    a = SeedTree(42).generator("policy").random(5)
    b = SeedTree(42).generator("policy").random(5)
    c = SeedTree(42).generator("broker").random(5)
    d = SeedTree(43).generator("policy").random(5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, d)


def test_torch_generator_is_seeded() -> None:
    torch = pytest.importorskip("torch")
    x = torch.rand(3, generator=SeedTree(1).torch_generator("net"))
    y = torch.rand(3, generator=SeedTree(1).torch_generator("net"))
    assert torch.equal(x, y)


def test_negative_seed_is_rejected() -> None:
    with pytest.raises(ValueError):
        SeedTree(-1)
