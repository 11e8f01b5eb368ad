"""Run ``scarline run`` and kill -9 it at seeded random moments; print what was done as JSON.

Used by ``test_kill9.py`` in a fresh interpreter. Importing scarline and torch takes seconds
per process, so this driver imports them once and forks each run from itself: every child
is a ``scarline run`` process, started in milliseconds, and the kill moments spread over
the run itself (data load, kernel build, stepping, rotation, the closing writes) rather
than over interpreter start-up. Forking is safe here because this process never runs a
kernel, so no thread pool exists yet to be lost across the fork.

    python kill9_driver.py OUT_DIR SEED KILLS CONFIG...

Each config is run once to the end first, to time its window. A fifth of the kills land
before the WAL holds a byte; the rest are timed from the child's own first WAL bytes to just
after the calibrated end of the run. Kills cycle through the configs.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time


def _child(config: str, out: str, run_id: str) -> None:
    """``scarline run`` in this forked process; never returns."""
    from scarline.cli import app

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    code = 1
    try:
        app(["run", "-c", config, "--out", out, "--run-id", run_id], prog_name="scarline")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        os._exit(code)


def _start(config: str, out: str, run_id: str) -> int:
    pid = os.fork()
    if pid == 0:
        _child(config, out, run_id)
    return pid


def _calibrate(config: str, out: str, run_id: str) -> tuple[float, float]:
    """Run once to the end: seconds until the WAL first holds bytes, and until the run ended."""
    segment = os.path.join(out, run_id, "wal", "000000.jsonl")
    begun = time.monotonic()
    pid = _start(config, out, run_id)
    first = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        now = time.monotonic() - begun
        if first is None and os.path.isfile(segment) and os.path.getsize(segment) > 0:
            first = now
        if done:
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"calibration run {run_id} failed")
            return first if first is not None else now, now
        time.sleep(0.002)


EARLY = 0.2
"""Share of kills aimed before the WAL holds a byte (start-up, data load, kernel build)."""


def _wait_for_bytes(pid: int, segment: str) -> int | None:
    """Until the child's first segment holds bytes; the child's wait status if it ended
    (and was reaped) first."""
    while not (os.path.isfile(segment) and os.path.getsize(segment) > 0):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.002)
    return None


def main(out: str, seed: int, kills: int, configs: list[str]) -> None:
    # everything a run imports, loaded before the first fork
    import scarline.cli
    import scarline.runner  # noqa: F401

    windows = [_calibrate(c, out, f"calibration-{k}") for k, c in enumerate(configs)]
    rng = random.Random(seed)
    runs = []
    for i in range(kills):
        k = i % len(configs)
        first, full = windows[k]
        early, at = rng.random() < EARLY, rng.random()
        run_id = f"kill-{i:02d}"
        pid = _start(configs[k], out, run_id)
        ended = None
        if early:
            time.sleep(at * first)
        else:  # timed from the child's own first WAL bytes: load on the machine varies
            ended = _wait_for_bytes(pid, os.path.join(out, run_id, "wal", "000000.jsonl"))
        if ended is None:
            if not early:
                time.sleep(at * (full - first) * 1.05)
            os.kill(pid, signal.SIGKILL)
            _, ended = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(ended)
        runs.append({"run_id": run_id, "config": k, "early": early, "status": code})
    print(json.dumps({"windows": windows, "runs": runs}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
