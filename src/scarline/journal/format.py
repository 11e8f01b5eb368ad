"""The WAL line format: envelope structs, the chain's genesis and the sealed-line layout.

A record's *canonical bytes* are the msgspec JSON of :class:`Envelope` (``seq``, ``ts``,
``kind``, ``data``; no ``h``). Its line is those bytes with the closing ``}`` replaced by
``,"h":"<64 hex>"}`` plus ``\\n``, so the canonical bytes are ``line[:-TAIL] + b"}"`` and the
chain can be checked on raw bytes, without decoding JSON.
"""

from __future__ import annotations

import hashlib
from typing import TypeGuard

import msgspec

from scarline.errors import WalError
from scarline.events import EVENT_TYPES, AnyEvent, Event

TAIL = 72
"""Bytes after the canonical body in a line (newline excluded): ``,"h":"`` + 64 hex + ``"}``."""

H_OPEN = b',"h":"'
H_CLOSE = b'"}'
SEQ_OPEN = b'{"seq":'

CANONICAL: frozenset[type] = frozenset(EVENT_TYPES)
"""Event classes a WAL may hold: exactly those the reader can decode (``AnyEvent``)."""


class Envelope(msgspec.Struct):
    """What is hashed: one event with its sequence number, time and kind (the event's tag)."""

    seq: int
    ts: int
    kind: str
    data: AnyEvent


class RawEnvelope(msgspec.Struct):
    """An envelope as read back, ``data`` left undecoded so filters run before decoding it."""

    seq: int
    ts: int
    kind: str
    data: msgspec.Raw


def genesis(run_id: str) -> bytes:
    """The chain's ``h_{-1}``: BLAKE2b-256 of the run id, so a WAL is bound to its run."""
    return hashlib.blake2b(run_id.encode(), digest_size=32).digest()


def chain_hash(prev: bytes, canonical: bytes) -> bytes:
    """``h_n = BLAKE2b-256(h_{n-1} || canonical_n)`` (reference form; hot loops inline it)."""
    return hashlib.blake2b(prev + canonical, digest_size=32).digest()


def seal(canonical: bytes, digest: bytes) -> bytes:
    """The stored line of a record: its canonical bytes carrying ``h`` as the last field."""
    return canonical[:-1] + H_OPEN + digest.hex().encode() + b'"}\n'


def canonical_of(line: bytes) -> bytes:
    """The canonical bytes of a stored line (given without its newline)."""
    return line[:-TAIL] + b"}"


def segment_name(index: int) -> str:
    return f"{index:06d}.jsonl"


def is_canonical(event: Event) -> TypeGuard[AnyEvent]:
    """Whether ``event`` is of a kind the WAL can hold (one of :data:`AnyEvent`'s classes)."""
    return type(event) in CANONICAL


def unappendable(event: object, ts: object) -> WalError:
    """The error for an append the reader could not read back (off the hot path)."""
    kind = type(event).__name__
    if type(event) not in CANONICAL:
        return WalError(f"cannot append {kind}: not a canonical event (scarline.events.AnyEvent)")
    return WalError(f"cannot append {kind} with ts={ts!r}: ts must be an int (nanoseconds)")
