"""RowSplit: blocks cover every row once, errors surface, and a forked child still runs."""

import copy
import multiprocessing
import pickle
import threading

import pytest

from scarline.learning.row_split import PIECES, RowSplit


def _blocks(split: RowSplit, n: int) -> list[tuple[int, int, str]]:
    return _blocks_of(split, n, 1)


@pytest.mark.parametrize(("threads", "n"), [(1, 10), (2, 10), (3, 10), (3, 5), (4, 1), (2, 0)])
def test_blocks_cover_every_row_exactly_once(threads: int, n: int) -> None:
    blocks = _blocks(RowSplit(threads), n)
    rows = [row for lo, hi, _ in blocks for row in range(lo, hi)]
    assert rows == list(range(n))
    split_up = threads > 1 and n >= 2 * threads
    assert len(blocks) == (min(threads * PIECES, n // 2) if split_up else 1)


def test_the_thread_count_is_asked_at_every_run() -> None:
    count = [1]
    split = RowSplit(lambda: count[0])
    assert len(_blocks(split, 40)) == 1
    count[0] = 3
    assert len(_blocks(split, 40)) == 3 * PIECES
    count[0] = 2
    assert len(_blocks(split, 40)) == 2 * PIECES


def test_an_error_in_a_block_reaches_the_caller() -> None:
    def kernel(lo: int, hi: int) -> None:
        if lo > 0:
            raise ValueError(f"block {lo}")

    with pytest.raises(ValueError, match="block"):
        RowSplit(2).run(kernel, 10)


def _run_in_child(split: RowSplit, queue: "multiprocessing.Queue[int]") -> None:
    covered: list[int] = []
    lock = threading.Lock()

    def kernel(lo: int, hi: int) -> None:
        with lock:
            covered.extend(range(lo, hi))

    split.run(kernel, 12)
    queue.put(len(covered))


def test_a_forked_child_makes_its_own_pool_and_copies_start_without_one() -> None:
    split = RowSplit(2)
    _blocks(split, 12)  # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[int] = ctx.Queue()
    child = ctx.Process(target=_run_in_child, args=(split, queue))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0 and queue.get(timeout=5) == 12  # it did not wait for ghosts
    for other in (copy.deepcopy(split), pickle.loads(pickle.dumps(split))):
        assert other._pool is None and len(_blocks(other, 12)) == 6  # 12 // 2 rows a block


def test_blocks_keep_min_block_rows() -> None:
    split = RowSplit(2)
    assert len(_blocks_of(split, 99, 50)) == 1  # two blocks would be under 50 rows each
    assert [(lo, hi) for lo, hi, _ in _blocks_of(split, 100, 50)] == [(0, 50), (50, 100)]
    assert [hi - lo for lo, hi, _ in _blocks_of(split, 400, 50)] == [50] * 8  # PIECES each


def test_a_held_up_thread_leaves_its_share_to_the_others() -> None:
    """The caller takes blocks too, and takes the rest while a pool thread is held up: the
    pool thread's block waits until the caller has taken every other block."""
    caller = threading.current_thread().name
    release = threading.Event()
    taken: list[str] = []
    lock = threading.Lock()

    def kernel(lo: int, hi: int) -> None:
        name = threading.current_thread().name
        with lock:
            taken.append(name)
            if taken.count(caller) == 2 * PIECES - 1:
                release.set()
        if name != caller:
            assert release.wait(5)

    RowSplit(2).run(kernel, 80)
    assert len(taken) == 2 * PIECES
    assert taken.count(caller) >= 2 * PIECES - 1


def test_an_error_in_the_callers_block_wins_after_every_block_has_ended() -> None:
    """The caller's error is raised once the block a pool thread is in has ended, and the
    blocks nobody has taken yet are dropped."""
    caller = threading.current_thread().name
    inside, go = threading.Event(), threading.Event()
    ended: list[tuple[int, int]] = []

    def kernel(lo: int, hi: int) -> None:
        if threading.current_thread().name == caller:
            assert inside.wait(5)
            threading.Timer(0.2, go.set).start()
            raise ValueError("the caller's block")
        inside.set()
        assert go.wait(5)
        ended.append((lo, hi))

    with pytest.raises(ValueError, match="the caller's block"):
        RowSplit(2).run(kernel, 80)
    assert len(ended) == 1  # it ended before run raised, and took no block after it


def _blocks_of(split: RowSplit, n: int, min_block: int) -> list[tuple[int, int, str]]:
    seen: list[tuple[int, int, str]] = []
    lock = threading.Lock()

    def kernel(lo: int, hi: int) -> None:
        with lock:
            seen.append((lo, hi, threading.current_thread().name))

    split.run(kernel, n, min_block)
    return sorted(seen)
