"""When islands migrate, and the seeds they run on."""

from scarline.cluster.island import island_seed
from scarline.cluster.schedule import Schedule


def test_migrations_every_m_cycles_after_the_first_and_before_the_split() -> None:
    s = Schedule(n_steps=1000, every=50, migrate_every=1, split=700)
    # the first life cycle (50) has nobody scored yet; none from the split (700) on
    assert s.migration_steps() == list(range(100, 700, 50))
    assert Schedule(1000, 50, 3, split=None).migration_steps() == [150, 300, 450, 600, 750, 900]
    assert Schedule(1000, 50, 0).migration_steps() == []
    assert Schedule(90, 50, 1).migration_steps() == []


def test_segments_end_at_every_migration_and_at_the_last_step() -> None:
    s = Schedule(n_steps=1000, every=50, migrate_every=2, split=None, chunk=128)
    ends = s.boundaries()
    assert ends == sorted(set(ends)) and ends[-1] == 1000
    assert set(s.migration_steps()) <= set(ends)
    assert max(b - a for a, b in zip([0, *ends], ends, strict=False)) <= 128


def test_island_seeds_are_derived_by_name_and_distinct() -> None:
    seeds = [island_seed(7, k) for k in range(8)]
    assert seeds == [island_seed(7, k) for k in range(8)]
    assert len(set(seeds)) == 8 and all(0 <= s < 2**63 for s in seeds)
    assert island_seed(8, 0) != seeds[0]
