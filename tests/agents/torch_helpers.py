"""Shared helpers of the learning-core tests."""

import torch


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)
