"""Shared helpers of the learning-core tests (``tests/learning``, ``tests/agents``)."""

from collections.abc import Iterator

import pytest
import torch

from scarline.learning.qnet import configure_torch


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True)
def deterministic_torch() -> Iterator[None]:
    """Torch tests run single-threaded and deterministic, and restore the global settings."""
    threads, strict = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    configure_torch(1)
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(strict)
