"""What this machine does, measured the way the arena's hot paths use it.

    python bench/machine.py --json [--mib 256] [--repeat 5]

The arena's figures are read against these. At N = 4096 acting reads every agent's weights
once a step (~10 MB, more than this VM's share of the cache), so its time is the bytes over
``read_gb_s``, not the arithmetic; a learning step adds random reads of replay records
(``random_reads_per_s``, ``chase_ns``) and float32 arithmetic without fused multiply-add
(``gflop_s``, the rule that keeps replay exact); the WAL hashes every byte it writes
(``blake2b_mb_s``). On a shared VM these move by up to ~30 % within minutes, which is why
``bench/all.py`` records them beside the figures.

- ``read_gb_s``: one thread streaming ``--mib`` MiB (an integer OR: vectorized, nothing to
  wait on but memory); ``read_gb_s_2``: both threads, each its own array.
- ``copy_gb_s``: one thread, read and write (counted once each).
- ``random_reads_per_s``: independent 8-byte reads at random cache lines of ``--mib`` MiB, one
  thread (the replay sample's pattern); ``chase_ns``: one dependent random read's latency.
- ``gflop_s`` / ``gflop_s_2``: a multiply then an add on float32 held in L1, one thread /
  both threads; ``arithmetic_scaling``, their ratio: how many cores' worth of arithmetic two
  threads get. On the VM these figures were first taken on it ranged 0.6–1.7 in runs minutes
  apart, and one thread's rate 19–59 GFLOP/s: its vCPUs share floating-point units with
  other load, so a compute-bound pass gains little and unevenly from a second thread.
- ``blake2b_mb_s``: the WAL's chain hash over 1 MiB records.

Each figure is the best of ``--repeat`` (timeit's rule: the least disturbed by other load).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
from collections.abc import Callable

import numpy as np
from numba import njit
from timing import fastest

from scarline.argtypes import positive_int

LINE = 64  # bytes in a cache line
READS = 1 << 20  # random reads timed
FLOP_PASSES = 200_000  # passes over the L1-resident vector


@njit(cache=True, nogil=True)
def _or_all(a: np.ndarray) -> np.uint64:
    acc = np.uint64(0)
    for i in range(a.shape[0]):
        acc |= a[i]
    return acc


@njit(cache=True, nogil=True)
def _random_reads(a: np.ndarray, at: np.ndarray) -> np.uint64:
    acc = np.uint64(0)
    for k in range(at.shape[0]):
        acc ^= a[at[k]]
    return acc


@njit(cache=True, nogil=True)
def _chase(next_of: np.ndarray, steps: int) -> int:
    j = 0
    for _ in range(steps):
        j = next_of[j]
    return j


@njit(cache=True, nogil=True)
def _mul_add(x: np.ndarray, passes: int) -> float:
    c, d = np.float32(0.999), np.float32(0.001)
    for _ in range(passes):
        for k in range(x.shape[0]):
            x[k] = x[k] * c + d  # two roundings: numba contracts nothing without fastmath
    return float(x[0])


def _both(call: Callable[[int], object]) -> Callable[[], None]:
    """``call(0)`` and ``call(1)`` on two threads at once (the kernels release the GIL)."""

    def run() -> None:
        threads = [threading.Thread(target=call, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    return run


def measure(mib: int, repeat: int) -> dict[str, float]:
    words = mib * 2**20 // 8
    rng = np.random.default_rng(0)
    arrays = [np.ones(words, dtype=np.uint64), np.ones(words, dtype=np.uint64)]
    copy_to = np.empty_like(arrays[0])
    per_line = LINE // 8
    lines = words // per_line
    order = rng.permutation(lines) * per_line  # one word of every line, in random order
    chain = np.zeros(words, dtype=np.int64)
    chain[order] = np.roll(order, -1)  # a single cycle through every line
    chase_steps = min(READS, lines)
    at = rng.integers(0, lines, READS) * per_line
    vectors = [np.ones(256, dtype=np.float32), np.ones(256, dtype=np.float32)]
    record = rng.bytes(2**20)
    _or_all(arrays[0][:64])  # compile (or load from the cache) before timing
    _random_reads(arrays[0], at[:8])
    _chase(chain, 8)
    _mul_add(vectors[0], 1)
    np.copyto(copy_to, arrays[0])  # fault its pages in: a first copy timed them (0.7 GB/s)

    read = fastest(lambda: _or_all(arrays[0]), repeat)
    read_2 = fastest(_both(lambda k: _or_all(arrays[k])), repeat)
    copy = fastest(lambda: np.copyto(copy_to, arrays[0]), repeat)
    random = fastest(lambda: _random_reads(arrays[0], at), repeat)
    chase = fastest(lambda: _chase(chain, chase_steps), repeat)
    flops = fastest(lambda: _mul_add(vectors[0], FLOP_PASSES), repeat)
    flops_2 = fastest(_both(lambda k: _mul_add(vectors[k], FLOP_PASSES)), repeat)
    hashed = fastest(lambda: hashlib.blake2b(record, digest_size=32).digest(), repeat)
    nbytes = arrays[0].nbytes
    flop = 2 * 256 * FLOP_PASSES
    return {
        "mib": mib,
        "read_gb_s": round(nbytes / read / 1e9, 2),
        "read_gb_s_2": round(2 * nbytes / read_2 / 1e9, 2),
        "copy_gb_s": round(2 * nbytes / copy / 1e9, 2),
        "random_reads_per_s": round(READS / random),
        "chase_ns": round(chase / chase_steps * 1e9, 1),
        "gflop_s": round(flop / flops / 1e9, 1),
        "gflop_s_2": round(2 * flop / flops_2 / 1e9, 1),
        "arithmetic_scaling": round(2 * flops / flops_2, 2),
        "blake2b_mb_s": round(len(record) / hashed / 1e6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mib", type=positive_int, default=256, help="MiB streamed and read at random"
    )
    parser.add_argument(
        "--repeat", type=positive_int, default=5, help="timed calls; the fastest counts"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args.mib, args.repeat)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"  {key:<20} {value:,}")


if __name__ == "__main__":
    main()
