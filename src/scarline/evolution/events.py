"""WAL records of life and evolution: builders from tracker and census results to batch
events (``Scars``, ``Deaths``, ``Births``, ``Mutations``), as ``execution/events.py`` and
``risk/events.py`` do for theirs. The Struct classes live in :mod:`scarline.events`."""

from __future__ import annotations

import numpy as np

from scarline.events import Array, Births, Deaths, Mutations, Scars
from scarline.evolution.census import BirthRecord
from scarline.evolution.scars import CAUSES, LifeEvents
from scarline.session import SessionIds


def scars_event(ids: SessionIds, step: int, life: LifeEvents, totals: np.ndarray) -> Scars:
    """``totals``: every agent's scar count after this step (the scarred rows are taken)."""
    return Scars(
        run_id=ids.run_id,
        session_id=ids.session_id,
        step=step,
        agent=Array.of(life.scar_agent),
        cause=Array.of(life.scar_cause),
        value=Array.of(life.scar_value),
        total=Array.of(totals[life.scar_agent]),
        causes=list(CAUSES),
    )


def deaths_event(ids: SessionIds, step: int, life: LifeEvents) -> Deaths:
    return Deaths(
        run_id=ids.run_id,
        session_id=ids.session_id,
        step=step,
        agent=Array.of(life.death_agent),
        equity=Array.of(life.death_equity),
    )


def births_event(ids: SessionIds, step: int, record: BirthRecord) -> Births:
    return Births(
        run_id=ids.run_id,
        session_id=ids.session_id,
        step=step,
        agent=Array.of(record.slots),
        agent_id=Array.of(record.agent_ids),
        parent_id=Array.of(record.parent_ids),
        genome_hash=record.genome_hashes,
        culled=Array.of(record.culled_ids),
    )


def mutation_events(ids: SessionIds, step: int, record: BirthRecord) -> list[Mutations]:
    """One event per operator that changed at least one newborn (slots are global rows)."""
    return [
        Mutations(
            run_id=ids.run_id,
            session_id=ids.session_id,
            step=step,
            operator=log.operator,
            agent=Array.of(record.offset + log.rows),
            fields=list(log.fields),
            before=Array.of(log.before),
            after=Array.of(log.after),
        )
        for log in record.births.mutations
        if len(log)
    ]
