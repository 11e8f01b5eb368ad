"""A small, seeded synthetic lineage for the lineage tests (no kernel needed)."""

from __future__ import annotations

import numpy as np

from scarline.evolution.lineage_book import LineageBook


def hashes(ids: np.ndarray, prefix: str = "g") -> list[str]:
    return [f"{prefix}{i:06x}" for i in ids.tolist()]


def small_book() -> LineageBook:
    """Founders 0..2; 3, 4 children of 0; 5 child of 4; 6 child of 2; deaths by ruin/culled.

    Ends at step 10 with 2, 3, 5, 6 alive; 1 dies of ruin at 4, 0 is culled at 6, 4 dies of
    ruin at 8 after scoring, 5 is never scored (NaN fitness).
    """
    b = LineageBook()
    b.found(np.arange(3), np.arange(3), hashes(np.arange(3)), step=0)
    b.born(np.array([3, 4]), np.array([0, 0]), np.array([3, 4]), ["g3", "g4"], step=2, island=1)
    b.died(np.array([1]), 4, "ruin", ["f1"], np.array([-0.5]), np.array([3]))
    b.born(np.array([5]), np.array([4]), np.array([1]), ["g5"], step=5, island=1)
    b.died(np.array([0]), 6, "culled", ["f0"], np.array([0.1]), np.array([0]))
    b.born(np.array([6]), np.array([2]), np.array([0]), ["g6"], step=7)
    b.died(np.array([4]), 8, "ruin", ["f4"], np.array([0.3]), np.array([2]))
    b.finish(
        np.array([2, 3, 5, 6]),
        10,
        ["f2", "f3", "f5", "f6"],
        np.array([1.5, 0.7, np.nan, 2.5]),
        np.array([0, 1, 0, 4]),
    )
    return b


def random_book(n_founders: int = 8, steps: int = 40, seed: int = 0) -> LineageBook:
    """A seeded population: each step some agents die (ruin or culled) and others reproduce."""
    rng = np.random.default_rng(seed)
    b = LineageBook()
    alive = np.arange(n_founders, dtype=np.int64)
    b.found(alive, alive, hashes(alive), step=0)
    nxt = n_founders
    for step in range(1, steps):
        dying = alive[rng.random(alive.size) < 0.1]
        if 0 < dying.size < alive.size:
            causes = np.where(rng.random(dying.size) < 0.5, "ruin", "culled").tolist()
            fit, scars = rng.normal(size=dying.size), rng.integers(0, 4, dying.size)
            b.died(dying, step, causes, hashes(dying, "f"), fit, scars)
            alive = np.setdiff1d(alive, dying)
        parents = rng.choice(alive, size=max(1, alive.size // 5))
        kids = np.arange(nxt, nxt + parents.size, dtype=np.int64)
        nxt += kids.size
        b.born(kids, parents, kids % n_founders, hashes(kids), step)
        alive = np.r_[alive, kids]
    b.finish(
        alive,
        steps,
        hashes(alive, "f"),
        rng.normal(size=alive.size),
        rng.integers(0, 3, alive.size),
    )
    return b
