"""The service's WAL folds read each line once and never answer from a WAL that changed
under them: whatever was appended, cut or replaced, a fold answers what a fresh read of the
WAL answers."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wal_helpers import age, append, decision, kill, ladder, reads_under, refusal, regime

from scarline.errors import WalError
from scarline.events import Event
from scarline.journal.segments import list_segments
from scarline.service import runs
from scarline.service.run_snapshot import WalState
from scarline.service.wal_fold import FoldedWal
from scarline.service.wal_tail import TailLine, WalTail

RUN = "tail"


def _event(k: int) -> Event:
    kind = k % 5
    if kind == 0:
        return regime(RUN, k, to=f"r{k % 7}")
    if kind == 1:
        return ladder(RUN, k, k % 4, agent=-1 if k % 2 else k % 3)
    if kind == 2:
        return refusal(RUN, k)
    if kind == 3:
        return kill(RUN, k)
    return decision(RUN, k)


class _Folds:
    """The service's folds of one run, to compare with fresh reads."""

    def __init__(self, run: Path) -> None:
        wal = run / "wal"
        self.run = run
        self.risk = FoldedWal(wal, runs.RiskFold)
        self.regimes = FoldedWal(wal, runs.RegimeFold)
        self.ladder = FoldedWal(wal, WalState)

    def check(self) -> None:
        risk, _ = self.risk.read(lambda f: f.answer(runs.MAX_LIMIT))
        assert risk == runs.risk(self.run, limit=runs.MAX_LIMIT)
        regimes, _ = self.regimes.read(lambda f: f.answer(3))
        assert regimes == runs.regimes(self.run, limit=3)
        state, _ = self.ladder.read(WalState.copy, tolerant=True)
        fresh = WalState.read(self.run)
        assert (state.level, state.agents, state.kill_reason, state.triggers) == (
            fresh.level,
            fresh.agents,
            fresh.kill_reason,
            fresh.triggers,
        )


def _last_segment(wal: Path) -> Path | None:
    segments = list_segments(wal) if wal.is_dir() else []
    return segments[-1] if segments else None


def _cut_last_line(wal: Path) -> None:
    """Drop the last complete line (as opening a WAL drops a bad last record)."""
    last = _last_segment(wal)
    if last is None:
        return
    data = last.read_bytes()
    lines = data.split(b"\n")[:-1]
    if lines:
        last.write_bytes(b"".join(line + b"\n" for line in lines[:-1]))


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(1, 12)),
        st.tuples(st.just("partial"), st.integers(1, 60)),
        st.tuples(st.just("cut"), st.just(0)),
        st.tuples(st.just("replace"), st.integers(1, 8)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(OPS)
def test_a_fold_answers_what_a_fresh_read_answers(ops: list[tuple[str, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / RUN
        wal = run / "wal"
        folds = _Folds(run)
        step = 0
        for op, n in ops:
            if op == "append":  # a writer resumes: drops a torn tail, rotates by size
                append(wal, RUN, [_event(step + k) for k in range(n)], segment_bytes=1500)
                step += n
            elif op == "partial" and (last := _last_segment(wal)) is not None:
                with last.open("ab") as f:  # a writer mid-flush
                    f.write(b'{"seq":99,"ts":0,"kind":"RegimeChange","data":{}}'[:n])
            elif op == "cut":
                _cut_last_line(wal)
            elif op == "replace":  # another WAL under the same name
                shutil.rmtree(wal, ignore_errors=True)
                append(wal, RUN, [_event(100 + step + k) for k in range(n)])
                step += n
            if wal.is_dir():
                folds.check()


def _lines(tail: WalTail) -> list[TailLine]:
    taken: list[TailLine] = []
    tail.advance(taken.append, taken.clear)
    return taken


def test_each_line_is_read_once_and_a_partial_one_when_complete(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    append(wal, RUN, [_event(k) for k in range(5)])
    tail = WalTail(wal)
    assert [t.number for t in _lines(tail)] == [1, 2, 3, 4, 5]
    assert _lines(tail) == []
    segment = list_segments(wal)[0]
    line = segment.read_bytes().split(b"\n")[0] + b"\n"
    with segment.open("ab") as f:
        f.write(line[:10])  # half a record: not a line yet
    assert _lines(tail) == []
    with segment.open("ab") as f:
        f.write(line[10:])
    assert [(t.number, t.raw) for t in _lines(tail)] == [(6, line)]


def test_an_unchanged_segment_is_not_opened(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    append(wal, RUN, [_event(k) for k in range(40)], segment_bytes=1500)
    assert len(list_segments(wal)) > 3
    age(tmp_path)  # written a while ago: a stat that holds says all
    fold = FoldedWal(wal, runs.RiskFold)
    first, _ = fold.read(lambda f: f.answer(10))
    with reads_under(tmp_path) as reads:
        again, _ = fold.read(lambda f: f.answer(10))
        assert again == first and reads.wal() == 0
        size = list_segments(wal)[-1].stat().st_size
        append(wal, RUN, [refusal(RUN, 99)], segment_bytes=10**6)
        added = list_segments(wal)[-1].stat().st_size - size
        reads.clear()
        grown, _ = fold.read(lambda f: f.answer(10))
    assert grown["checks"][-1]["step"] == 99
    assert reads.wal() == 1  # the last segment only
    assert sum(reads.bytes.values()) <= added + 80  # what was appended, and the anchor


def test_a_record_rewritten_at_the_offset_starts_afresh(tmp_path: Path) -> None:
    run = tmp_path / RUN
    append(run / "wal", RUN, [regime(RUN, k, to="a") for k in range(3)])
    folds = _Folds(run)
    folds.check()
    segment = list_segments(run / "wal")[0]
    _cut_last_line(run / "wal")  # the last record cut, then one of the same length appended
    append(run / "wal", RUN, [regime(RUN, 2, to="b")])
    assert segment.stat().st_size == folds.regimes._tail._taken[0].offset  # type: ignore[attr-defined]
    folds.check()  # the same size, the same inode: the anchor tells


def test_errors_are_the_journal_readers(tmp_path: Path) -> None:
    run = tmp_path / RUN
    wal = run / "wal"
    append(wal, RUN, [_event(k) for k in range(30)], segment_bytes=1500)
    folds = _Folds(run)
    folds.check()
    segments = list_segments(wal)
    with segments[-1].open("ab") as f:
        f.write(b"not json\n")
    broken = segments[-1].read_bytes()
    for _ in range(2):  # the error stays while the line does
        with pytest.raises(WalError) as fresh:
            runs.risk(run, limit=10)
        with pytest.raises(WalError) as cached:
            folds.risk.read(lambda f: f.answer(10))
        assert str(cached.value) == str(fresh.value)
    segments[-1].write_bytes(broken[: -len(b"not json\n")] + b'{"seq":1')  # torn, ...
    (wal / "999999.jsonl").write_bytes(b"")  # ... and a segment after it
    with pytest.raises(WalError) as fresh:
        runs.regimes(run, limit=10)
    with pytest.raises(WalError) as cached:
        folds.regimes.read(lambda f: f.answer(10))
    assert str(cached.value) == str(fresh.value)
    assert "more segments follow" in str(fresh.value)
    shutil.rmtree(wal)
    with pytest.raises(WalError, match="no WAL directory"):
        folds.risk.read(lambda f: f.answer(10))
    state, _ = folds.ladder.read(WalState.copy, tolerant=True)  # the snapshot's: as new
    assert (state.level, state.agents, state.kill_reason) == ("NORMAL", {}, None)


def test_concurrent_readers_see_the_wal_grow(tmp_path: Path) -> None:
    run = tmp_path / RUN
    wal = run / "wal"
    append(wal, RUN, [regime(RUN, 0)])
    fold = FoldedWal(wal, runs.RegimeFold)
    seen: list[list[int]] = [[] for _ in range(4)]
    done = threading.Event()

    def poll(k: int) -> None:
        while not done.is_set():
            answer, _ = fold.read(lambda f: len(f.rows))
            seen[k].append(answer)

    threads = [threading.Thread(target=poll, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for step in range(1, 60):
        append(wal, RUN, [regime(RUN, step)], segment_bytes=1500)
    done.set()
    for t in threads:
        t.join()
    final, _ = fold.read(lambda f: [r["step"] for r in f.rows])
    assert final == list(range(60)) == [r["step"] for r in runs.regimes(run, limit=1000)["changes"]]
    assert all(s == sorted(s) for s in seen)  # never a line twice, never one taken back
    assert os.path.isdir(wal)
