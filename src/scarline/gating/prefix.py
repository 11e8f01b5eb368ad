"""Block permutations step the real market's prefix once.

A block-permuted placebo (:func:`scarline.gating.transforms.block_permuted`) keeps every row
before the evaluated bars. Frozen agents learn nothing, and every table the kernel derives
from the market is causal and prefix-invariant (tests/test_kernel_extend.py), so on those
rows every permutation's kernel goes through exactly the same states. The prefix is stepped
once per process on the real market's first ``start`` rows, kept (a module-level cache, keyed
by what it depends on) and, per permutation, deep-copied and grown into the permuted market
(:meth:`scarline.kernel.Kernel.extend`, which rebuilds the features, the regime path and the
profiles) for the remaining rows. The regime refits before ``start`` are then lookups
(:mod:`scarline.regime.memo`). The equity equals a full frozen run on the permuted market,
bit for bit (tests/gating/test_prefix_reuse.py). The prefix, like the full run, runs the
rules of the job's event schema (the recorded run's), which its key names.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass

import numpy as np

from scarline.config import RunConfig, config_hash
from scarline.events import SCHEMA_VERSION
from scarline.evolution.genome import policy_hash
from scarline.gating.frozen import Play, frozen_equity, frozen_kernel, play_equity
from scarline.gating.transforms import blocks_moved
from scarline.kernel import Kernel
from scarline.market.frame import MarketData

MIN_PREFIX = 2
"""Shorter prefixes are not worth a cache: the whole run is stepped."""


@dataclass(frozen=True, eq=False)
class PermutedJob:
    """``plays`` frozen on ``market`` with the rows from ``start`` shuffled in blocks of
    ``block`` by ``order`` (the draw of :func:`scarline.gating.transforms.block_order`),
    under event ``schema``'s rules; ``key`` names the shared prefix (:func:`prefix_key`)."""

    key: str
    config: RunConfig
    market: MarketData
    plays: tuple[Play, ...]
    start: int
    block: int
    order: np.ndarray
    reuse: bool = True  # False: a plain full run (the reference the tests compare with)
    schema: int = SCHEMA_VERSION

    def run(self) -> np.ndarray:
        return permuted_equity(self)


def prefix_key(
    config: RunConfig,
    market: MarketData,
    plays: list[Play],
    start: int,
    schema: int = SCHEMA_VERSION,
) -> str:
    """What a prefix depends on: the config, the market's content, the policies, ``start``
    and the event schema whose rules it runs."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{config_hash(config)}|{market.content_hash()}|{start}|{schema}".encode())
    for p in plays:
        c, policy = p.candidate, p.policy
        h.update(repr((c.group, c.row, c.instrument)).encode())
        h.update(policy_hash(policy).encode() if policy is not None else b"-")
    return h.hexdigest()


_prefixes: dict[str, tuple[Kernel, list[int]]] = {}


def _prefix(job: PermutedJob) -> tuple[Kernel, list[int]]:
    """The frozen kernel stepped through rows ``0..start-1`` (computed once per key)."""
    cached = _prefixes.get(job.key)
    if cached is None:
        head = job.market.slice(0, job.start)
        kernel, columns = frozen_kernel(job.config, head, list(job.plays), schema=job.schema)
        kernel.begin()
        kernel.run_steps(0, job.start)
        _prefixes.clear()  # one prefix at a time: a gate run judges one market
        cached = _prefixes[job.key] = (kernel, columns)
    return cached


def permuted_equity(job: PermutedJob) -> np.ndarray:
    """``float64[T, K]`` equity of the job's plays on its permuted market."""
    market = blocks_moved(job.market, job.block, job.order, job.start)
    if not job.reuse or job.start < MIN_PREFIX or not job.plays:
        return frozen_equity(job.config, market, list(job.plays), job.schema)
    prefix, columns = _prefix(job)
    kernel = copy.deepcopy(prefix)
    kernel.extend(market)
    kernel.run_steps(job.start, market.n_steps)
    kernel.end()
    return play_equity(kernel, columns)


def forget() -> None:
    """Drop this process's cached prefix (its kernel holds the market's tables)."""
    _prefixes.clear()
