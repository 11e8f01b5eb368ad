"""Where the gates' independent runs execute: one call maps a job function over its jobs and
returns the results in job order, so executors differ only in *where* the runs happen, never
in what they compute (a block permutation, a walk-forward fold or a slippage variant is a
pure function of its job).

* ``serial``: here, one after another;
* ``process``: a pool of local worker processes (``forkserver``, or ``spawn`` where that is
  not available: never ``fork``, torch is loaded), each pinned to one torch thread;
* ``ray``: Ray tasks on a local cluster (or the one ``RAY_ADDRESS`` names); Ray is imported
  only when asked for.

Jobs are module-level functions and picklable data (configs, markets, plays); a worker may
keep what several jobs share in a module-level cache (:mod:`scarline.gating.prefix`).
The same gates.json comes out whatever the executor and the worker count
(tests/gating/test_gate_executor.py).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any, Protocol, TypeVar

from scarline.errors import ScarlineError

J = TypeVar("J")
R = TypeVar("R")

EXECUTORS = ("serial", "process", "ray")
RAY_HINT = "--executor ray needs Ray, which is not installed: pip install '.[ray]'"
RAY_OBJECT_STORE_BYTES = 512 * 1024**2


class GateExecutorError(ScarlineError):
    """The chosen executor cannot run here (e.g. Ray is not installed)."""

    exit_code = 2


class GateExecutor(Protocol):
    name: str
    workers: int

    def map(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]:
        """``[fn(job) for job in jobs]``, wherever the executor runs them."""
        ...

    def submit(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[Callable[[], R]]:
        """Start ``fn`` on each job without waiting (an executor with workers starts them
        now; ``serial`` runs each when its result is asked for); per job, a call that
        returns its result."""
        ...

    def start(self) -> None:
        """Start the workers now, so they load their modules while the caller works on
        (the first map or submit would start them anyway); nothing for ``serial``."""
        ...

    def close(self) -> None:
        """Release workers; safe to call twice."""
        ...


def pin_threads() -> None:
    """One torch thread per worker: the workers are the parallelism."""
    import torch

    torch.set_num_threads(1)
    with contextlib.suppress(RuntimeError):  # only if torch already ran parallel work
        torch.set_num_interop_threads(1)


class SerialExecutor:
    name = "serial"
    workers = 1

    def map(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]:
        return [fn(job) for job in jobs]

    def submit(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[Callable[[], R]]:
        return [partial(fn, job) for job in jobs]  # run here, when asked for

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


LAZY_IMPORTS = ("hmmlearn.hmm", "arch.bootstrap")
"""Imported where first used rather than at module import (~2 s of a command's start-up)."""


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # the server imports the jobs' modules (torch, numba, the kernel) once, before it starts
    # any thread; each worker forks from it with them loaded instead of importing them again.
    # The libraries the code imports when first used (to start faster) are named too: every
    # job uses them, and the workers should not import them one by one.
    ctx.set_forkserver_preload(["scarline.gating.jobs", *LAZY_IMPORTS])
    return ctx


class ProcessExecutor:
    """A local process pool, started at the first map and kept for the next ones (a worker
    imports torch once and keeps its caches).

    Threading: :meth:`start` launches the pool from a helper thread, because the first
    worker waits for the forkserver to import the jobs' modules (~3 s) and the caller has
    its own work meanwhile (reading the WAL); every other call is made from the caller's
    thread and waits for that start under a lock. Torch's thread count is pinned in the
    caller's thread (an OpenMP setting belongs to the thread that makes it).
    """

    name = "process"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None

    def _started(self) -> ProcessPoolExecutor:
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._start_error is not None:
            raise self._start_error
        if self._pool is None:  # not started: pin here (start() pinned already)
            pin_threads()  # this process replays G1 beside the workers: one thread each
        return self._launched()

    def _launched(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=_context(), initializer=pin_threads
                )
                self._pool.submit(os.getpid)  # a pool forks its first worker at a submit
            return self._pool

    def _launch_in_background(self) -> None:
        try:
            self._launched()
        except BaseException as err:  # raised again by the caller's next call
            self._start_error = err

    def map(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]:
        if len(jobs) <= 1:  # nothing to overlap: no pool for one job
            return [fn(job) for job in jobs]
        return list(self._started().map(fn, jobs))

    def submit(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[Callable[[], R]]:
        pool = self._started()
        return [pool.submit(fn, job).result for job in jobs]

    def start(self) -> None:
        if self._pool is None and self._starter is None:
            self._starter = threading.Thread(
                target=self._launch_in_background, name="scarline-pool-start", daemon=True
            )
            self._starter.start()
        pin_threads()

    def close(self) -> None:
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _ray_call(fn: Callable[[Any], Any], job: Any) -> Any:
    """A Ray task: pin torch, then run the job (a task may land in any pooled worker)."""
    pin_threads()
    return fn(job)


def init_local_ray(
    ray: Any, num_cpus: int, object_store_bytes: int, error: type[ScarlineError], **options: Any
) -> None:
    """Start a local Ray cluster quietly: no usage report, dashboard or driver logs. Ray
    raises many kinds of exception; each becomes ``error`` with its message (the islands of
    ``scarline evolve`` start theirs here too)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(
            num_cpus=num_cpus,
            object_store_memory=object_store_bytes,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
            **options,
        )
    except Exception as err:  # Ray raises many kinds; the message is what matters
        raise error(f"could not start a local Ray cluster: {err}") from None


class RayExecutor:
    """Ray tasks, one per job; a local cluster of ``workers`` CPUs is started at the first
    map (unless Ray is already initialized, e.g. connected to a cluster) and shut down by
    :meth:`close`."""

    name = "ray"

    def __init__(self, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise GateExecutorError(RAY_HINT) from None
        self._ray = ray
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._owned = False
        self._task: Any = None

    def _start(self) -> None:
        ray = self._ray
        if not ray.is_initialized():
            init_local_ray(ray, self.workers, RAY_OBJECT_STORE_BYTES, GateExecutorError)
            self._owned = True
        self._task = ray.remote(num_cpus=1)(_ray_call)

    def map(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]:
        if not jobs:
            return []
        return list(self._get(self._refs(fn, jobs)))

    def submit(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[Callable[[], R]]:
        if not jobs:
            return []
        return [partial(self._get, ref) for ref in self._refs(fn, jobs)]

    def start(self) -> None:
        if self._task is None:
            self._start()

    def _refs(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
        """One started task per job."""
        if self._task is None:
            self._start()
        fn_ref = self._ray.put(fn)
        return [self._task.remote(fn_ref, job) for job in jobs]

    def _get(self, refs: Any) -> Any:
        """``ray.get``, raising a task's own :class:`ScarlineError` as is."""
        ray = self._ray
        try:
            return ray.get(refs)
        except ray.exceptions.RayTaskError as err:
            cause = getattr(err, "cause", None)
            if isinstance(cause, ScarlineError):
                raise cause from None
            raise

    def close(self) -> None:
        if self._owned:
            self._ray.shutdown()
            self._owned = False
        self._task = None


def executor_for(name: str, workers: int | None = None) -> GateExecutor:
    """The executor called ``name`` (one of :data:`EXECUTORS`) with ``workers`` workers
    (default: the machine's cores)."""
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(workers)
    if name == "ray":
        return RayExecutor(workers)
    raise GateExecutorError(f"--executor: unknown executor {name!r} ({', '.join(EXECUTORS)})")
