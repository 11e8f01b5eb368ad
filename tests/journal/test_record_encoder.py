"""The record encoder follows the run it journals: schema 13's runs store long arrays packed,
older runs every array raw (byte for byte as they were written), whoever encodes them."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest
from wal_events import RUN

from scarline.events import Array, Event, Fills, SessionStart
from scarline.journal import HashOnlyWal, WalWriter, read_records
from scarline.journal.compare import ComparingWal
from scarline.journal.format import Envelope
from scarline.journal.record_encoder import RecordEncoder

N = 300


def _start(schema: int) -> SessionStart:
    return SessionStart(
        run_id=RUN, session_id="s", profile="sim", universe="u", instruments=[],
        schema_version=schema,
    )  # fmt: skip


def _fills(step: int, price_shift: int = 0) -> Fills:
    ids = Array.of(np.arange(10_000, 10_000 + N, dtype=np.int64))
    price = np.full(N, 15_000, dtype=np.int64) + np.arange(N) % 7
    price[-1] += price_shift
    return Fills(
        run_id=RUN, session_id="s", step=step, order_id=ids,
        agent=Array.of(np.arange(N, dtype=np.int64) * 13 % 4096),
        instrument=Array.of(np.arange(N, dtype=np.int64) % 20),
        side=Array.of(np.ones(N, np.int8)), qty=Array.of(np.arange(N, dtype=np.int64) - 150),
        price=Array.of(price), ref_price=Array.of(price), fee=Array.of(np.zeros(N)),
        slippage=Array.of(np.zeros(N)), maker=Array.of(np.zeros(N, bool)),
    )  # fmt: skip


def _records(schema: int) -> list[tuple[Event, int]]:
    return [(_start(schema), 0), (_fills(1), 1), (_fills(2), 2)]


def _plain(seq: int, ts: int, event: Event) -> bytes:
    return msgspec.json.encode(Envelope(seq, ts, type(event).__name__, event))


@pytest.mark.parametrize("schema", [6, 11, 12])
def test_an_older_run_stores_every_array_raw(schema: int) -> None:
    encode = RecordEncoder().encode
    for seq, (event, ts) in enumerate(_records(schema)):
        assert encode(seq, ts, event) == _plain(seq, ts, event)


def test_a_schema_13_run_packs_its_long_arrays_and_reads_back_the_values(tmp_path: Path) -> None:
    records = _records(13)
    with WalWriter(tmp_path / "wal", RUN, fsync="never") as w:
        for event, ts in records:
            w.append(event, ts)
    raw = _plain(1, 1, records[1][0])
    line = (tmp_path / "wal" / "000000.jsonl").read_text().splitlines()[1]
    assert len(line) < len(raw) / 2  # ids, agents, instruments and prices take 1-2 bytes
    read = list(read_records(tmp_path / "wal"))
    fills = read[1].data
    assert isinstance(fills, Fills)
    assert fills.order_id.dtype == "<i8~u2+10000" and fills.instrument.dtype == "<i8~u1+0"
    for name in Fills.__struct_fields__:
        value = getattr(records[1][0], name)
        if isinstance(value, Array):
            got = getattr(fills, name).numpy()
            assert got.dtype == value.numpy().dtype
            np.testing.assert_array_equal(got, value.numpy())


@pytest.mark.parametrize("schema", [12, 13])
def test_a_reopened_wal_goes_on_in_its_run_s_form(tmp_path: Path, schema: int) -> None:
    wal = tmp_path / "wal"
    records = _records(schema)
    with WalWriter(wal, RUN, fsync="never") as w:
        for event, ts in records[:2]:
            w.append(event, ts)
    with WalWriter(wal, RUN, fsync="never") as w:  # a paper session resumed
        w.append(*records[2])
        head = w.head
    sink = HashOnlyWal(RUN)
    for event, ts in records:
        sink.append(event, ts)
    assert sink.head == head  # one chain: written in two sessions or hashed in one
    last = list(read_records(wal))[-1].data
    assert isinstance(last, Fills)
    assert last.order_id.dtype == ("<i8~u2+10000" if schema >= 13 else "<i8")


def test_replay_names_the_differing_element_of_a_packed_array(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    with WalWriter(wal, RUN, fsync="never") as w:
        for event, ts in _records(13):
            w.append(event, ts)
    sink = ComparingWal(wal, RUN)
    sink.append(_start(13), 0)
    sink.append(_fills(1), 1)
    sink.append(_fills(2, price_shift=70_000), 2)  # the span grows: packed wider
    mismatch = sink.finish()
    assert mismatch is not None
    assert (mismatch.seq, mismatch.field) == (2, f"data.price[{N - 1}]")
    assert (mismatch.original, mismatch.replayed) == ("15005", "85005")
