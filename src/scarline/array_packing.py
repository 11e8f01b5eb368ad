"""Packed arrays: a record's array stored as narrow offsets from its least value (schema 13 on).

At N = 4096 a kernel step journals ~1,200 orders and as many fills, each field an ``int64``
array: ~330 KB of base64 per step, most of it zeros. The agent ids fit in 2 bytes, the
instruments in 1, a step's order ids span a few thousand. Packing stores such an array as
its least value plus every value's offset from it in the fewest bytes that hold the largest
(1, 2 or 4). A float's bits count as an integer of its size, so a float array packs only
when its bits span little: all the same (one risk limit on every check) takes 1 byte a
value. The bench arena's step (N = 4096) journals 158 KB instead of 327 KB, and the WAL
hashes, encodes and writes that much less. There is no constant form (a count and one
value): a record's bytes bound the memory its arrays take when read.

The packing travels in the ``Array``'s dtype string, so an unpacked array's bytes are what
they always were: ``"<i8~u2+600000"`` is ``<i8`` values stored as little-endian ``u2``
offsets from 600000.

The rule that keeps the chain exact: whether and how an array packs is a function of its
values alone (its least and greatest), never of timing or history, so a replay that computes
the same values writes the same bytes. Unpacking gives the very bits that were packed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from scarline.errors import ScarlineError

PACK_MIN_ITEMS = 32
"""Arrays shorter than this are stored as they are: packing them saves a few bytes."""

MAX_NDIM = 64
"""numpy's limit on an array's dimensions: a deeper stored shape is refused by name here."""

_MAX = 2**63 - 1
"""The most bytes numpy lets an array's shape span (a zero-size shape too: ``[0, 10**20]``)."""

_RAW_KINDS = frozenset("biuf")
"""The dtype kinds a raw ``Array`` may hold: bool, integers and floats. Objects would be
pointers read from the record's bytes; strings, structs and the rest are never journaled."""


class ArrayError(ScarlineError, ValueError):
    """A stored ``Array`` that does not decode: a bad dtype string, packing or shape.

    A ``ValueError`` (what decoding raises) that is also a :class:`ScarlineError`, so a
    caller that does not name the record still gives the user one line, not a traceback."""


_SIGNED: dict[int, np.dtype[Any]] = {2: np.dtype("<i2"), 4: np.dtype("<i4"), 8: np.dtype("<i8")}
_UNSIGNED: dict[int, np.dtype[Any]] = {1: np.dtype("|u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}
_PLAIN = frozenset(f"<{kind}{size}" for kind in "iuf" for size in "248")
"""The dtypes that pack: little-endian integers and floats of 2, 4 or 8 bytes."""
_OFFSETS = {"u1": 1, "u2": 2, "u4": 4}


def pack(dtype: str, data: bytes) -> tuple[str, bytes] | None:
    """``(spec, packed data)`` storing the raw little-endian ``data`` of a ``dtype`` array in
    fewer bytes, or ``None`` when packing saves nothing (fewer than :data:`PACK_MIN_ITEMS`
    values, bools and bytes, a span as wide as the type)."""
    if dtype not in _PLAIN:
        return None
    item = int(dtype[2])
    if len(data) < PACK_MIN_ITEMS * item:
        return None
    low, width, out = _packed(data, item)
    if width >= item:
        return None
    return f"{dtype}~u{width}+{low}", out.tobytes()


def warm_up() -> None:
    """Compile (or load from numba's cache) the packing pass now, not in the first record
    that packs: a live session's first step, a test's first example. One signature serves
    every item size and width (``bytes`` and the item size; the widths are branches)."""
    if not _packed.signatures:
        pack("<i8", np.array([0, 1] * PACK_MIN_ITEMS, dtype="<i8").tobytes())


def is_packed(spec: str) -> bool:
    """Whether an ``Array``'s dtype string describes packed data (a plain dtype has no ``~``)."""
    return "~" in spec


def values_dtype(spec: str) -> np.dtype:
    """The dtype of the values an ``Array``'s dtype string stands for (:class:`ArrayError`
    when it names none an ``Array`` may hold)."""
    plain = spec.partition("~")[0]
    if is_packed(spec) and plain not in _PLAIN:
        raise ArrayError(f"packed array {_short(spec)}: not a packing of a 2-, 4- or 8-byte number")
    return raw_dtype(plain)


class _RawDtypes(dict[str, np.dtype[Any]]):
    """Raw dtype strings already checked: a known one is a dict lookup (parsing a dtype
    string costs more than reading the array), a new one is parsed and checked once."""

    def __missing__(self, spec: str) -> np.dtype[Any]:
        dtype = _checked_dtype(spec)
        if len(self) < 256:  # finitely many strings parse as these; a bound all the same
            self[spec] = dtype
        return dtype


raw_dtype: Callable[[str], np.dtype[Any]] = _RawDtypes().__getitem__
"""The dtype of a raw ``Array``'s dtype string: a bool or a number (``<i8``, ``|b1`` …).

A record's dtype is input: numpy would read an object dtype's pointers from it, parse a
struct, or fail with a message naming nothing. :class:`ArrayError` instead, naming it."""


def _checked_dtype(spec: str) -> np.dtype:
    try:
        dtype = np.dtype(spec)
    except (TypeError, ValueError, SyntaxError, RecursionError):
        raise ArrayError(f"array dtype {_short(spec)} is not a numpy dtype") from None
    if dtype.kind not in _RAW_KINDS or dtype.byteorder == ">" or dtype.subdtype is not None:
        raise ArrayError(f"array dtype {_short(spec)} is not a little-endian bool or number")
    return dtype


def fills(shape: list[int], itemsize: int, nbytes: int) -> bool:
    """Whether ``shape`` holds exactly ``nbytes`` bytes of ``itemsize``-byte items, with
    non-negative sides, at most :data:`MAX_NDIM` of them.

    The check that keeps a packed shape honest: without it a "shape bomb" (``[10**12]``
    over 8 bytes) fails deep in numpy or asks it for terabytes. A few integer operations.
    (``Array.numpy`` leaves the same check of a raw array to numpy's ``reshape``.)"""
    return not (
        math.prod(shape) * itemsize != nbytes
        or len(shape) > MAX_NDIM
        or (shape and min(shape) < 0)
        or (not nbytes and len(shape) > 1 and math.prod(d or 1 for d in shape) * itemsize > _MAX)
    )


def unfilled(what: str, shape: list[int], nbytes: int) -> ArrayError:
    """The error for a shape that ``nbytes`` bytes do not fill (see :func:`fills`)."""
    return ArrayError(f"{what}: {nbytes} bytes do not fill shape {shape[:8]}")


def unpack(spec: str, shape: list[int], data: bytes) -> np.ndarray:
    """The values a packed ``Array`` stores; :class:`ArrayError` naming what does not fit."""
    plain, _, how = spec.partition("~")
    offsets_as, _, base = how.partition("+")
    width = _OFFSETS.get(offsets_as, 0)
    dtype = np.dtype(plain) if plain in _PLAIN else None
    if dtype is None or not width or width >= dtype.itemsize:
        raise ArrayError(f"packed array {_short(spec)}: not a packing of a 2-, 4- or 8-byte number")
    signed = _SIGNED[dtype.itemsize]
    info = np.iinfo(signed)
    try:
        low = int(base)
    except ValueError:
        raise ArrayError(
            f"packed array {_short(spec)}: base {_short(base)} is not an integer"
        ) from None
    if not info.min <= low <= info.max:
        raise ArrayError(f"packed array {_short(spec)}: base out of range for {plain}")
    if not fills(shape, width, len(data)):
        raise unfilled(f"packed array {_short(spec)}", shape, len(data))
    offsets = np.frombuffer(data, dtype=_UNSIGNED[width])
    if offsets.size and low + int(offsets.max()) > info.max:
        raise ArrayError(f"packed array {_short(spec)}: an offset overflows {plain}")
    values = (offsets.astype(np.int64) + low).astype(signed).view(dtype)
    try:  # a zero-size shape numpy cannot hold at the values' own size
        return values.reshape(shape)
    except (ValueError, OverflowError):
        raise unfilled(f"packed array {_short(spec)}", shape, len(data)) from None


def _short(spec: str) -> str:
    """``spec`` quoted for a one-line message: a hostile record's dtype can be kilobytes."""
    return repr(spec) if len(spec) <= 40 else repr(spec[:40]) + "…"


@njit(cache=True)
def _packed(data: bytes, item: int) -> tuple[np.int64, int, np.ndarray]:
    """``(least value, offset width, offsets as bytes)`` of the ``item``-byte integers (a
    float's bits) in ``data``: the narrowest of 1, 2 and 4 bytes that holds the span, or
    ``item`` (and no offsets) when none narrower does. It reads the ``bytes`` itself (a
    numpy view made in Python first cost ~0.6 µs of a ~1.4 µs call, per array of a record)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if item == 8:
        return _packed_bits(raw.view(np.int64))
    if item == 4:
        return _packed_bits(raw.view(np.int32))
    return _packed_bits(raw.view(np.int16))


@njit(cache=True)
def _packed_bits(bits: np.ndarray) -> tuple[np.int64, int, np.ndarray]:
    lo = bits[0]
    hi = bits[0]
    for v in bits:
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    low = np.int64(lo)
    span = np.uint64(np.int64(hi)) - np.uint64(low)  # exact: modulo 2**64, and it is < 2**64
    width = 1 if span < 256 else 2 if span < 65536 else 4 if span < 4294967296 else 8
    if width >= bits.itemsize:
        return low, bits.itemsize, np.empty(0, dtype=np.uint8)
    out = np.empty(bits.shape[0] * width, dtype=np.uint8)
    if width == 1:
        _offsets(bits, low, out)
    elif width == 2:
        _offsets(bits, low, out.view(np.uint16))
    else:
        _offsets(bits, low, out.view(np.uint32))
    return low, width, out


@njit(cache=True)
def _offsets(bits: np.ndarray, low: np.int64, out: np.ndarray) -> None:
    """``out[i] = bits[i] - low``, each offset fitting ``out``'s unsigned type."""
    for i in range(bits.shape[0]):
        out[i] = np.uint64(np.int64(bits[i])) - np.uint64(low)
