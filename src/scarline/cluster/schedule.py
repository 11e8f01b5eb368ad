"""When islands stop to migrate: every ``M`` life cycles, while the groups still evolve.

Migrants are chosen by the census' last fitness just before a migration step and arrive at
that step's life cycle, so a migration needs one scored cycle before it: the first life
cycle (nobody scored yet) never migrates. No life cycle runs from the out-of-sample split
on, so neither does migration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    n_steps: int
    every: int  # steps between life cycles (the groups' evolution.every)
    migrate_every: int  # life cycles between migrations; 0: never
    split: int | None = None  # first out-of-sample step (no life cycle from it on)
    chunk: int = 128  # longest segment: how often the islands report progress

    def migration_steps(self) -> list[int]:
        if self.migrate_every <= 0:
            return []
        period = self.migrate_every * self.every
        limit = self.n_steps if self.split is None else min(self.split, self.n_steps)
        return [t for t in range(period, limit, period) if t > self.every]

    def boundaries(self) -> list[int]:
        """Ends of the lockstep segments, increasing, the last one ``n_steps``."""
        ends = set(self.migration_steps()) | set(range(self.chunk, self.n_steps, self.chunk))
        return sorted(ends | {self.n_steps})
