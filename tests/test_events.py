import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scarline.errors import ScarlineError
from scarline.events import (
    EVENT_TYPES,
    KINDS,
    AnyEvent,
    Array,
    Decision,
    Fills,
    KillSwitch,
    Orders,
    RiskChecks,
)


def test_every_event_carries_run_and_session_ids() -> None:
    for cls in EVENT_TYPES:
        assert {"run_id", "session_id"} <= set(cls.__struct_fields__), cls.__name__
    assert set(KINDS) == {c.__name__ for c in EVENT_TYPES}


def test_order_events_carry_order_and_agent_ids() -> None:
    for cls in (Orders, RiskChecks, Fills):
        assert {"order_id", "agent"} <= set(cls.__struct_fields__), cls.__name__
    for cls in (Orders, RiskChecks):  # what the risk engine decided on, per decision
        assert "decision_id" in cls.__struct_fields__


def test_tag_is_the_kind() -> None:
    kill = KillSwitch(run_id="r", session_id="s", step=7, reason="stop", source="flag-file")
    raw = msgspec.json.encode(kill)
    assert raw.startswith(b'{"kind":"KillSwitch"')
    assert msgspec.json.decode(raw, type=AnyEvent) == kill


@pytest.mark.parametrize(
    "kind", ["OrderIntent", "OrderAck", "OrderReject", "Fill", "Trade", "RiskCheck"]
)
def test_single_order_kinds_nothing_wrote_are_gone(kind: str) -> None:
    """Removed with schema 4 (docs/wal.md): no version of scarline ever wrote them."""
    assert kind not in KINDS
    with pytest.raises(msgspec.ValidationError, match="Invalid value"):
        msgspec.json.decode(f'{{"kind":"{kind}","run_id":"r","session_id":"s"}}', type=AnyEvent)


@given(
    hnp.arrays(
        dtype=st.sampled_from([np.int8, np.int32, np.int64, np.float64]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
    )
)
def test_array_round_trips_exactly(values: np.ndarray) -> None:
    packed = Array.of(values)
    back = msgspec.json.decode(msgspec.json.encode(packed), type=Array).numpy()
    assert back.dtype == values.dtype.newbyteorder("<") or back.dtype == values.dtype
    np.testing.assert_array_equal(back, values)


@given(
    hnp.arrays(
        dtype=st.sampled_from(["<i8", ">i8", "<f4", ">f8", "|u1", "|b1", "=i2"]),
        shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=3),
    )
)
def test_array_of_encodes_what_it_always_did(values: np.ndarray) -> None:
    """Zero-length arrays come from a per-dtype cache; every array encodes as the plain
    formula does: little-endian dtype string, shape, raw bytes."""
    a = values.astype(values.dtype.newbyteorder("<")) if values.dtype.byteorder == ">" else values
    plain = Array(a.dtype.str, list(a.shape), np.ascontiguousarray(a).tobytes())
    packed = Array.of(values)
    assert msgspec.json.encode(packed) == msgspec.json.encode(plain)
    assert Array.of(values) == plain


@pytest.mark.parametrize(
    ("dtype", "shape", "data", "message"),
    [
        ("<i8", [10**12], b"\0" * 8, "8 bytes do not fill shape"),
        ("<i8", [2], b"\0" * 8, "do not fill shape"),
        ("|u1", [-2, -4], b"\0" * 8, "do not fill shape"),  # two negatives: the right product
        ("<i8", [0, 10**20], b"", "do not fill shape"),  # no items, but too big for numpy
        ("<i8", [1] * 65, b"\0" * 8, "do not fill shape"),
        ("|O", [1], b"\0" * 8, "not a little-endian bool or number"),  # pointers from a record
        ("i4,i4", [1], b"\0" * 8, "not a little-endian bool or number"),
        ("(2,)i4", [1], b"\0" * 8, "not a little-endian bool or number"),
        ("<U2", [1], b"\0" * 8, "not a little-endian bool or number"),
        (">i8", [1], b"\0" * 8, "not a little-endian bool or number"),
        ("[" * 5000, [1], b"\0" * 8, "is not a numpy dtype"),
    ],
)
def test_an_array_that_does_not_decode_is_a_value_error_naming_it(
    dtype: str, shape: list[int], data: bytes, message: str
) -> None:
    """A chain-valid record can still hold any ``[dtype, shape, data]``: ``numpy()`` refuses
    what is not a bool or number, or a shape its bytes do not exactly fill."""
    array = msgspec.json.decode(msgspec.json.encode(Array(dtype, shape, data)), type=Array)
    with pytest.raises(ValueError, match=message) as err:
        array.numpy()
    assert isinstance(err.value, ScarlineError) and len(str(err.value)) < 200


def test_arrays_of_zero_items_and_every_plain_kind_still_decode() -> None:
    assert Array("<i8", [0, 5], b"").numpy().shape == (0, 5)
    assert Array("|b1", [2], b"\1\0").numpy().tolist() == [True, False]
    assert Array("int64", [1], b"\7" + b"\0" * 7).numpy().tolist() == [7]  # any numpy name
    assert Array("<f4", [1, 1], np.float32(1.5).tobytes()).numpy().tolist() == [[1.5]]


def test_decision_batch_form_holds_many_agents() -> None:
    n, m = 1000, 3
    d = Decision(
        run_id="r",
        session_id="s",
        decision_id="d0",
        step=0,
        policy="p",
        agents=Array.of(np.arange(n)),
        actions=Array.of(np.ones((n, m), np.int8)),
        target_qty=Array.of(np.full((n, m), 7, np.int64)),
    )
    back = msgspec.json.decode(msgspec.json.encode(d), type=AnyEvent)
    assert back.target_qty.numpy().shape == (n, m)
    assert int(back.target_qty.numpy().sum()) == 7 * n * m


def test_missing_correlation_id_is_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match="session_id"):
        msgspec.json.decode(
            b'{"kind":"KillSwitch","run_id":"r","step":1,"reason":"x","source":"config"}',
            type=AnyEvent,
        )
