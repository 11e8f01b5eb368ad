"""The seed tree: every random stream in a run derives from one seed, by component name.

Streams are keyed by *name*, not by spawn order, so adding a component never shifts the
random numbers another component sees. No code uses the global ``random`` or
``np.random`` state.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class SeedTree:
    """``SeedTree(seed).generator("policy/random")`` is the same stream in every run and replay."""

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = seed

    def sequence(self, name: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(_name_key(name),))

    def generator(self, name: str) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(self.sequence(name)))

    def int_seed(self, name: str) -> int:
        """A 63-bit seed for libraries that take an int (e.g. ``torch.Generator.manual_seed``)."""
        return int(self.sequence(name).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))

    def torch_generator(self, name: str):  # -> torch.Generator (torch imported lazily)
        import torch

        g = torch.Generator(device="cpu")
        g.manual_seed(self.int_seed(name))
        return g
