"""Replay parity record by record: a replayed journal checked against the original WAL, the
first difference named by seq, kind and field."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest
from wal_events import RUN, bar

from scarline.events import Array, Event, Fills, KillSwitch
from scarline.journal import WalWriter
from scarline.journal.compare import EXTRA, MISSING, ComparingWal, first_difference
from scarline.journal.format import Envelope


def _fills(price: list[int], step: int = 3) -> Fills:
    n = len(price)
    ints = Array.of(np.arange(n, dtype=np.int64))
    return Fills(
        run_id=RUN, session_id="s", step=step, order_id=ints, agent=ints, instrument=ints,
        side=Array.of(np.ones(n, np.int8)), qty=ints, price=Array.of(np.array(price, np.int64)),
        ref_price=ints, fee=Array.of(np.zeros(n)), slippage=Array.of(np.zeros(n)),
        maker=Array.of(np.zeros(n, bool)),
    )  # fmt: skip


def _kill(reason: str) -> KillSwitch:
    return KillSwitch(run_id=RUN, session_id="s", step=0, reason=reason, source="cli")


EVENTS: list[tuple[Event, int]] = [(bar(i), i) for i in range(4)] + [(_fills([100, 200]), 9)]


def _original(tmp_path: Path, events: list[tuple[Event, int]] = EVENTS) -> Path:
    wal = tmp_path / "wal"
    with WalWriter(wal, RUN, fsync="never") as w:
        for event, ts in events:
            w.append(event, ts)
    return wal


def _replay(wal: Path, events: list[tuple[Event, int]], **kw: bool) -> ComparingWal:
    sink = ComparingWal(wal, RUN, **kw)
    for event, ts in events:
        sink.append(event, ts)
    sink.finish()
    return sink


def test_the_same_records_match_and_give_the_same_head(tmp_path: Path) -> None:
    wal = _original(tmp_path)
    with WalWriter(wal, RUN) as w:
        head = w.head
    sink = _replay(wal, EVENTS)
    assert sink.mismatch is None and sink.compared == 5 and sink.head == head


def test_a_different_fill_price_is_named_by_seq_kind_and_field(tmp_path: Path) -> None:
    wal = _original(tmp_path)
    replayed = [*EVENTS[:4], (_fills([100, 201]), 9)]
    mismatch = _replay(wal, replayed).mismatch
    assert mismatch is not None
    assert (mismatch.seq, mismatch.kind, mismatch.field) == (4, "Fills", "data.price[1]")
    assert (mismatch.original, mismatch.replayed) == ("200", "201")
    assert mismatch.describe() == "seq 4 (Fills), field data.price[1]: original 200, replayed 201"


def test_only_the_first_difference_is_kept(tmp_path: Path) -> None:
    wal = _original(tmp_path)
    replayed = [(bar(0), 0), (bar(1), 7), (bar(5), 2), *EVENTS[3:]]
    mismatch = _replay(wal, replayed).mismatch
    assert mismatch is not None and (mismatch.seq, mismatch.field) == (1, "ts")


@pytest.mark.parametrize(
    ("replayed", "seq", "kind", "field"),
    [
        (EVENTS[:3], 3, "Bar", MISSING),
        ([*EVENTS, (bar(9), 10)], 5, "Bar", EXTRA),
        ([*EVENTS[:2], (_kill("x"), 2), *EVENTS[3:]], 2, "Bar", "kind"),
    ],
)
def test_missing_extra_and_other_kinds(
    tmp_path: Path, replayed: list[tuple[Event, int]], seq: int, kind: str, field: str
) -> None:
    mismatch = _replay(_original(tmp_path), replayed).mismatch
    assert mismatch is not None and (mismatch.seq, mismatch.kind, mismatch.field) == (
        seq,
        kind,
        field,
    )


def test_a_sealed_prefix_allows_records_past_its_end(tmp_path: Path) -> None:
    wal = _original(tmp_path, EVENTS[:3])
    sink = _replay(wal, EVENTS, allow_extra=True)
    assert sink.mismatch is None and (sink.compared, sink.extra) == (3, 2)


def _canonical(event: Event, seq: int = 0, ts: int = 0) -> bytes:
    return msgspec.json.encode(Envelope(seq, ts, type(event).__name__, event))


@pytest.mark.parametrize(
    ("a", "b", "field"),
    [
        (_fills([1, 2]), _fills([1, 2, 3]), "data.order_id.shape"),
        (_fills([1, 2], step=3), _fills([1, 2], step=4), "data.step"),
        (_kill("a"), _kill("b"), "data.reason"),
    ],
)
def test_first_difference_walks_fields_in_order(a: Event, b: Event, field: str) -> None:
    assert first_difference(7, _canonical(a), _canonical(b)).field == field


def test_a_2d_array_names_row_and_column() -> None:
    grid = np.zeros((2, 3), np.int64)
    other = grid.copy()
    other[1, 2] = 5
    a = _fills([1, 2])
    b = msgspec.structs.replace(a, price=Array.of(other))
    a = msgspec.structs.replace(a, price=Array.of(grid))
    assert first_difference(0, _canonical(a), _canonical(b)).field == "data.price[1][2]"


def test_undecodable_records_are_compared_as_plain_json() -> None:
    found = first_difference(
        2, b'{"seq":2,"kind":"Nope","x":[1,2]}', b'{"seq":2,"kind":"Nope","x":[1,3]}'
    )
    assert (found.kind, found.field, found.original, found.replayed) == ("Nope", "x[1]", "2", "3")
