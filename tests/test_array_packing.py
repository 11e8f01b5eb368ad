"""Packed arrays (schema 13's WAL): the same bits back, fewer bytes, a clear error on a bad
spec, and a packing that depends on the values alone."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scarline.array_packing import (
    PACK_MIN_ITEMS,
    ArrayError,
    _packed,
    is_packed,
    pack,
    unpack,
    warm_up,
)
from scarline.errors import ScarlineError
from scarline.events import Array

NUMBERS = ["<i2", "<i4", "<i8", "<u2", "<u4", "<u8", "<f4", "<f8"]


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    """Any numbers, as often narrow-span integers (what a step journals) as anything."""
    dtype = np.dtype(draw(st.sampled_from(NUMBERS)))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=80))
    if dtype.kind == "f" or draw(st.booleans()):
        return draw(hnp.arrays(dtype, shape))  # any bits: NaNs, -0.0, extremes
    info = np.iinfo(dtype)
    base = draw(st.integers(int(info.min), int(info.max)))
    span = draw(st.sampled_from([0, 1, 255, 256, 65_535, 65_536, 2**32 - 1, 2**32]))
    lo = max(int(info.min), min(base, int(info.max) - span))
    hi = min(int(info.max), lo + span)
    return draw(hnp.arrays(dtype, shape, elements=st.integers(lo, hi)))


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


@settings(deadline=None)  # a process's first example may load the compiled pass
@given(arrays())
def test_packing_gives_back_the_very_bits(values: np.ndarray) -> None:
    raw = Array.of(values)
    packed = raw.packed()
    back = msgspec.json.decode(msgspec.json.encode(packed), type=Array).numpy()
    assert back.dtype == values.dtype and back.shape == values.shape
    assert _bits(back) == _bits(values)  # bit for bit: NaN payloads, -0.0
    assert packed.values_dtype == values.dtype
    assert len(packed.data) <= len(raw.data)
    if packed is raw:
        assert not is_packed(raw.dtype)
    else:  # packed only when it saves bytes
        assert len(packed.data) < len(raw.data)


@settings(deadline=None)
@given(arrays())
def test_the_packing_is_a_function_of_the_values(values: np.ndarray) -> None:
    first = Array.of(values).packed()
    again = Array.of(values.copy()).packed()
    assert msgspec.json.encode(first) == msgspec.json.encode(again)
    assert first.packed() is first  # packing a packed array changes nothing


def test_what_a_step_journals_takes_the_narrowest_width() -> None:
    order_ids = Array.of(np.arange(600_000, 601_200, dtype=np.int64)).packed()
    assert order_ids.dtype == "<i8~u2+600000" and len(order_ids.data) == 2 * 1200
    instruments = Array.of(np.arange(1200, dtype=np.int64) % 20).packed()
    assert instruments.dtype == "<i8~u1+0" and len(instruments.data) == 1200
    limits = Array.of(np.full(1200, 0.25)).packed()  # one limit on every check: 1 byte each
    assert limits.dtype.startswith("<f8~u1+") and limits.data == bytes(1200)
    np.testing.assert_array_equal(limits.numpy(), np.full(1200, 0.25))


@pytest.mark.parametrize(
    "values",
    [
        np.arange(PACK_MIN_ITEMS - 1, dtype=np.int64),  # too short to be worth it
        np.zeros(100, dtype=np.int8),  # one byte already
        np.zeros(100, dtype=bool),
        np.linspace(0.0, 1.0, 100),  # float bits that span everything
        np.array([-(2**63), 2**63 - 1] * 50),  # the whole int64 range
    ],
)
def test_arrays_packing_would_not_shrink_stay_raw(values: np.ndarray) -> None:
    raw = Array.of(values)
    assert raw.packed() is raw
    assert pack(raw.dtype, raw.data) is None


@pytest.mark.parametrize(
    ("spec", "shape", "data", "message"),
    [
        ("<i8~u3+0", [2], b"\0" * 6, "not a packing"),
        ("<i2~u2+0", [2], b"\0" * 4, "not a packing"),  # no narrower than its values
        ("|b1~u1+0", [2], b"\0" * 2, "not a packing"),
        ("<i8~u1+x", [2], b"\0" * 2, "not an integer"),
        ("<i2~u1+40000", [2], b"\0" * 2, "base out of range"),
        ("<i8~u2+0", [3], b"\0" * 4, "do not fill shape"),
        ("<i8~u2+0", [-1, -2], b"\0" * 4, "do not fill shape"),
        ("<i8~u2+0", [2], b"\0" * 5, "do not fill shape"),
        ("<i2~u1+32767", [2], b"\0\1", "overflows"),
        ("~u2+base", [1], b"\0\0", "not a packing"),
        ("<i8~u1+0", [10**12], b"\0" * 8, "do not fill shape"),  # a shape bomb
        ("<i8~u1+0", [0, 10**20], b"", "do not fill shape"),  # no items, but too big for numpy
        ("<i8~u2+0", [0, 2**61], b"", "do not fill shape"),  # too big only at 8 bytes a value
        ("<i8~u1+0", [1] * 65, b"\0", "do not fill shape"),  # more axes than numpy has
    ],
)
def test_a_bad_packing_is_a_value_error_naming_it(
    spec: str, shape: list[int], data: bytes, message: str
) -> None:
    with pytest.raises(ArrayError, match=message):
        unpack(spec, shape, data)
    with pytest.raises(ValueError, match=message) as err:
        Array(spec, shape, data).numpy()
    assert isinstance(err.value, ScarlineError)  # one line for a user, whoever calls it


def test_warm_up_compiles_every_width_of_every_item_size() -> None:
    """After it, packing any item size at any offset width compiles nothing more."""
    warm_up()
    compiled = set(_packed.signatures)
    assert compiled
    for kind, item in (("<i2", 2), ("<i4", 4), ("<i8", 8)):
        for width in (1, 2, 4):
            if width >= item:
                continue
            span = 2 ** (8 * (width - 1))
            done = pack(kind, np.array([0, span] * PACK_MIN_ITEMS, dtype=kind).tobytes())
            assert done is not None and done[0] == f"{kind}~u{width}+0"
    assert set(_packed.signatures) == compiled
