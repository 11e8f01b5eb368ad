"""Torch tests run single-threaded and deterministic, and restore the global settings."""

from collections.abc import Iterator

import pytest
import torch

from scarline.agents.qnet import configure_torch


@pytest.fixture(autouse=True)
def _deterministic_torch() -> Iterator[None]:
    threads, strict = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    configure_torch(1)
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(strict)
