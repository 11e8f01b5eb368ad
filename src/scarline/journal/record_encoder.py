"""A record's canonical bytes, in the form its run's schema stores them.

From schema 13 (:data:`scarline.events.PACKED_ARRAYS_SCHEMA`) a record's long numeric arrays
are stored packed (:mod:`scarline.array_packing`); a run of an older schema stores every
array raw, and its replay must write the very bytes it wrote. So the encoder follows the run
it journals: the ``SessionStart`` it encodes (a run's first record) sets the form for every
record after it, and a writer that reopens a WAL sets it from that WAL's first record
(:func:`packs_arrays`). Records before any ``SessionStart`` (none, in a run) stay raw.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import msgspec

from scarline.array_packing import PACK_MIN_ITEMS
from scarline.array_packing import warm_up as warm_up_packing
from scarline.events import EVENT_TYPES, PACKED_ARRAYS_SCHEMA, AnyEvent, Array, SessionStart
from scarline.journal.format import Envelope

_SMALLEST = 2 * PACK_MIN_ITEMS
"""Bytes below which an array is not even offered for packing (too few even of 2 bytes)."""


def _array_fields(cls: type) -> tuple[str, ...]:
    """The fields of an event class that hold one :class:`Array` (or ``None``)."""
    return tuple(
        f.name for f in msgspec.structs.fields(cls) if f.type is Array or Array in get_args(f.type)
    )


_ARRAY_FIELDS: dict[type, tuple[str, ...]] = {cls: _array_fields(cls) for cls in EVENT_TYPES}
_KIND: dict[type, str] = {cls: cls.__name__ for cls in EVENT_TYPES}
"""Each canonical class's ``kind``, the envelope's tag."""


class RecordEncoder:
    """``encoder.encode(seq, ts, event)``: the record's canonical bytes (see the module
    docstring). Callers hold the bound ``encode``: an instance's ``__call__`` cost ~150 ns
    more a record (3.11 does not specialize it), ~7 % of a small record's append."""

    __slots__ = ("_json", "packs")

    def __init__(self, packs: bool = False) -> None:
        self._json = msgspec.json.Encoder().encode
        self.packs = packs
        """Whether arrays are stored packed (set by each ``SessionStart`` encoded)."""

    def encode(self, seq: int, ts: int, event: AnyEvent) -> bytes:
        """Canonical bytes of ``event`` as record ``seq`` at ``ts``; ``event``'s class must be
        exactly a canonical one (both callers check it first)."""
        cls = type(event)
        if cls is SessionStart:
            self._start(event)  # type: ignore[arg-type]
        elif self.packs and _ARRAY_FIELDS[cls]:  # a Bar has no array: nothing to look at
            event = packed_event(event)
        return self._json(Envelope(seq, ts, _KIND[cls], event))

    def _start(self, start: SessionStart) -> None:
        """A run's first record sets whether the records after it pack their arrays."""
        self.packs = start.schema_version >= PACKED_ARRAYS_SCHEMA
        if self.packs:
            warm_up_packing()


def packed_event(event: AnyEvent) -> AnyEvent:
    """``event`` with each of its long numeric arrays packed (itself when none packs)."""
    changed: dict[str, Array] = {}
    for name in _ARRAY_FIELDS[type(event)]:
        array = getattr(event, name)
        if array is not None and len(array.data) >= _SMALLEST:
            packed = array.packed()
            if packed is not array:
                changed[name] = packed
    return msgspec.structs.replace(event, **changed) if changed else event


def packs_arrays(segment: Path) -> bool:
    """Whether the run whose first segment is ``segment`` stores its arrays packed: its first
    record is a ``SessionStart`` of schema 13 or later (a verified WAL's first line)."""
    with segment.open("rb") as f:
        first = f.readline()
    try:
        kind = msgspec.json.decode(first, type=_Kind)
    except ValueError:
        return False
    return kind.kind == "SessionStart" and kind.data.schema_version >= PACKED_ARRAYS_SCHEMA


class _Schema(msgspec.Struct):
    schema_version: int = 0


class _Kind(msgspec.Struct):
    kind: str
    data: _Schema
