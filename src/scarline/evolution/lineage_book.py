"""The lineage book: the in-memory record of every agent of a run, written as
``lineage.parquet`` (:mod:`scarline.evolution.lineage`).

Append-only and columnar: the kernel hands over whole batches of births and deaths as arrays,
the book grows its columns by doubling (amortized O(1) per agent) and never builds a Python
object per agent. Misuse that would corrupt the record (an unknown parent, a duplicate id, an
agent dying twice) raises :class:`~scarline.evolution.lineage.LineageError` naming the agent
id, because a lineage that silently disagrees with the WAL is worse than none.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from scarline.evolution.lineage import ALIVE, NO_PARENT, SCHEMA, LineageError, write_lineage

_INT_COLUMNS: dict[str, type[np.integer]] = {
    "agent_id": np.int64,
    "parent_id": np.int64,
    "generation": np.int32,
    "island": np.int32,
    "slot": np.int32,
    "birth_step": np.int64,
    "death_step": np.int64,
    "scars": np.int64,
}
_INITIAL_CAPACITY = 64


def _ids(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise LineageError(f"{name} must be a 1-d integer array, got {arr.dtype}{list(arr.shape)}")
    return arr.astype(np.int64, copy=False)


def _same_length(k: int, **arrays: np.ndarray) -> None:
    for name, arr in arrays.items():
        if arr.shape != (k,):
            raise LineageError(
                f"{name} has shape {list(arr.shape)}, expected [{k}] (one per agent)"
            )


def _strings(name: str, values: Sequence[str], k: int) -> np.ndarray:
    """Strings as an object array, type-checked in C by pyarrow (no per-agent Python loop)."""
    try:
        checked = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        raise LineageError(f"{name} must be a sequence of str") from None
    if len(checked) != k or checked.null_count:
        raise LineageError(f"{name} must hold {k} strings (one per agent), got {len(checked)}")
    return np.asarray(checked.to_numpy(zero_copy_only=False), dtype=object)


def _step(step: int) -> int:
    step = int(step)
    if step < 0:
        raise LineageError(f"step must be >= 0, got {step}")
    return step


class LineageBook:
    """In-memory, append-only record of one run's agents; ``table()`` / ``write()`` export it.

    Rows stay in append order; a sorted view of the ids (free while ids only grow, as the
    kernel hands them out) answers parent and death look-ups with ``searchsorted``.
    """

    def __init__(self) -> None:
        self._n = 0
        self._cols: dict[str, np.ndarray] = {
            name: np.empty(_INITIAL_CAPACITY, dtype) for name, dtype in _INT_COLUMNS.items()
        }
        self._cols["cause"] = np.empty(_INITIAL_CAPACITY, np.int16)  # index into _causes
        self._cols["fitness"] = np.empty(_INITIAL_CAPACITY, np.float64)
        self._cols["trust"] = np.empty(_INITIAL_CAPACITY, np.float64)
        self._cols["closed"] = np.empty(_INITIAL_CAPACITY, bool)  # died or finished
        self._cols["genome_hash"] = np.empty(_INITIAL_CAPACITY, object)
        self._cols["final_hash"] = np.empty(_INITIAL_CAPACITY, object)
        self._causes: list[str] = [""]
        self._cause_code: dict[str, int] = {"": 0}
        self._monotone = True  # ids appended in increasing order: rows are already sorted
        self._order: np.ndarray | None = None  # argsort of ids when not monotone (lazy)
        self._finished = False

    def __len__(self) -> int:
        return self._n

    # -- appends --------------------------------------------------------------------------

    def found(
        self,
        agent_ids: np.ndarray,
        slots: np.ndarray,
        genome_hashes: Sequence[str],
        step: int,
        island: int | np.ndarray = 0,
    ) -> None:
        """Record generation-0 agents (no parent), e.g. the initial population."""
        ids = _ids("agent_ids", agent_ids)
        parents = np.full(ids.shape, NO_PARENT, np.int64)
        gens = np.zeros(ids.shape, np.int32)
        self._append(ids, parents, gens, slots, genome_hashes, _step(step), island)

    def born(
        self,
        agent_ids: np.ndarray,
        parent_ids: np.ndarray,
        slots: np.ndarray,
        genome_hashes: Sequence[str],
        step: int,
        island: int | np.ndarray = 0,
    ) -> None:
        """Record children; their generation is their parent's plus one.

        Parents must have been recorded by an earlier call (dead parents are fine).
        """
        ids = _ids("agent_ids", agent_ids)
        parents = _ids("parent_ids", parent_ids)
        _same_length(ids.size, parent_ids=parents)
        step = _step(step)
        rows = self._rows(parents, "unknown parent id", owners=ids)
        late = self._cols["birth_step"][rows] > step
        if late.any():
            i = int(np.flatnonzero(late)[0])
            raise LineageError(
                f"agent {ids[i]}: parent {parents[i]} was born at step "
                f"{self._cols['birth_step'][rows[i]]}, after the child's step {step}"
            )
        gens = (self._cols["generation"][rows] + 1).astype(np.int32)
        self._append(ids, parents, gens, slots, genome_hashes, step, island)

    def arrived(
        self,
        agent_ids: np.ndarray,
        parent_ids: np.ndarray,
        parent_generations: np.ndarray,
        slots: np.ndarray,
        genome_hashes: Sequence[str],
        step: int,
        island: int | np.ndarray = 0,
    ) -> None:
        """Record immigrants: children of parents that live in *another* book (another
        island), so this book cannot look them up; their generations are given instead.

        A parent recorded in this book is an error (that is a local birth: :meth:`born`).
        """
        ids = _ids("agent_ids", agent_ids)
        parents = _ids("parent_ids", parent_ids)
        gens = _ids("parent_generations", parent_generations)
        _same_length(ids.size, parent_ids=parents, parent_generations=gens)
        if (parents < 0).any():
            i = int(np.argmax(parents < 0))
            raise LineageError(f"agent {ids[i]}: immigrant needs a parent id, got {parents[i]}")
        if (gens < 0).any():
            i = int(np.argmax(gens < 0))
            raise LineageError(f"agent {ids[i]}: negative parent generation {gens[i]}")
        local = self._lookup(parents)[1]
        if local.any():
            i = int(np.argmax(local))
            raise LineageError(
                f"agent {ids[i]}: parent {parents[i]} is in this lineage; record it with born()"
            )
        self._append(
            ids, parents, (gens + 1).astype(np.int32), slots, genome_hashes, _step(step), island
        )

    def died(
        self,
        agent_ids: np.ndarray,
        step: int,
        cause: str | Sequence[str],
        final_hashes: Sequence[str],
        fitness: np.ndarray,
        scars: np.ndarray,
        trust: np.ndarray | None = None,
    ) -> None:
        """Close the record of agents that died at ``step`` (cause: "ruin", "culled" …) with
        their trust then (NaN when not given)."""
        ids = _ids("agent_ids", agent_ids)
        if isinstance(cause, str):
            codes = np.full(ids.shape, self._code(cause), np.int16)
        else:
            names, inverse = np.unique(
                np.asarray(cause, dtype=object).astype(str), return_inverse=True
            )
            _same_length(ids.size, cause=inverse)
            codes = np.array([self._code(str(c)) for c in names], np.int16)[inverse]
        self._close(ids, _step(step), codes, final_hashes, fitness, scars, trust, "die")

    def finish(
        self,
        agent_ids_alive: np.ndarray,
        step: int,
        final_hashes: Sequence[str],
        fitness: np.ndarray,
        scars: np.ndarray,
        trust: np.ndarray | None = None,
    ) -> None:
        """Fill in the agents alive at the run's end (``death_step`` stays -1, cause ""),
        with their trust at the end (NaN when not given).

        Must name exactly the agents that have not died, once: a living agent left out would
        otherwise end the run with no final hash and no fitness.
        """
        if self._finished:
            raise LineageError("finish() was already called for this lineage")
        ids = _ids("agent_ids_alive", agent_ids_alive)
        missing = np.setdiff1d(self.alive_ids(), ids)
        if missing.size:
            shown = ", ".join(map(str, missing[:5].tolist()))
            raise LineageError(
                f"finish: {missing.size} living agent(s) not given (e.g. agent {shown})"
            )
        codes = np.zeros(ids.shape, np.int16)
        self._close(ids, _step(step), codes, final_hashes, fitness, scars, trust, "finish")
        self._finished = True

    # -- queries --------------------------------------------------------------------------

    def alive_ids(self) -> np.ndarray:
        """Ids (sorted) of agents recorded, not dead and not yet finished."""
        open_rows = ~self._cols["closed"][: self._n]
        return np.sort(self._cols["agent_id"][: self._n][open_rows])

    def generation_of(self, agent_ids: np.ndarray) -> np.ndarray:
        """Generations (int32) of known agents, e.g. to decide who may reproduce."""
        ids = _ids("agent_ids", agent_ids)
        return self._cols["generation"][self._rows(ids, "unknown agent id")]

    def table(self) -> pa.Table:
        """The record as an Arrow table in :data:`SCHEMA`, sorted by ``agent_id``."""
        n = self._n
        order = np.arange(n) if self._monotone else self._sorted_order()
        c = {name: arr[:n][order] for name, arr in self._cols.items()}
        # closing rows sets death_step/final_hash/fitness/scars; open rows keep the defaults
        data = {name: c[name] for name in _INT_COLUMNS}
        data["death_cause"] = np.asarray(self._causes, dtype=object)[c["cause"]]
        data |= {name: c[name] for name in ("genome_hash", "final_hash", "fitness", "trust")}
        return pa.Table.from_pydict({f.name: data[f.name] for f in SCHEMA}, schema=SCHEMA)

    def write(self, path: Path | str) -> Path:
        """Write ``table()`` as Parquet (temp file + rename: never half a file)."""
        return write_lineage(self.table(), path)

    # -- internals ------------------------------------------------------------------------

    def _code(self, cause: str) -> int:
        if not cause:
            raise LineageError("death cause must be a non-empty string")
        code = self._cause_code.get(cause)
        if code is None:
            code = self._cause_code[cause] = len(self._causes)
            self._causes.append(cause)
        return code

    def _sorted_order(self) -> np.ndarray:
        if self._order is None:
            self._order = np.argsort(self._cols["agent_id"][: self._n], kind="stable")
        return self._order

    def _lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row of each id, whether it is recorded); rows of unrecorded ids are meaningless."""
        known = self._cols["agent_id"][: self._n]
        if self._n == 0:
            return np.zeros(ids.shape, np.int64), np.zeros(ids.shape, bool)
        if self._monotone:
            pos = np.searchsorted(known, ids)
            rows = np.minimum(pos, self._n - 1)
        else:
            order = self._sorted_order()
            pos = np.searchsorted(known[order], ids)
            rows = order[np.minimum(pos, self._n - 1)]
        return rows, known[rows] == ids

    def _rows(self, ids: np.ndarray, what: str, owners: np.ndarray | None = None) -> np.ndarray:
        """Row of each id; :class:`LineageError` naming the first id not recorded."""
        rows, found = self._lookup(ids)
        if not found.all():
            i = int(np.argmin(found))
            who = "" if owners is None else f"agent {owners[i]}: "
            raise LineageError(f"{who}{what} {ids[i]}")
        return rows

    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        cap = self._cols["agent_id"].shape[0]
        if need <= cap:
            return
        while cap < need:
            cap *= 2
        for name, arr in self._cols.items():
            grown = np.empty(cap, arr.dtype)
            grown[: self._n] = arr[: self._n]
            self._cols[name] = grown

    def _append(
        self,
        ids: np.ndarray,
        parents: np.ndarray,
        gens: np.ndarray,
        slots: object,
        genome_hashes: Sequence[str],
        step: int,
        island: int | np.ndarray,
    ) -> None:
        k = ids.size
        slot_arr = _ids("slots", slots)
        island_arr = np.broadcast_to(np.asarray(island, dtype=np.int64), ids.shape)
        _same_length(k, slots=slot_arr, island=island_arr)
        hashes = _strings("genome_hashes", genome_hashes, k)
        if k == 0:
            return
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            raise LineageError(f"duplicate agent id {uniq[np.argmax(counts > 1)]} in one batch")
        dup = self._lookup(uniq)[1]
        if dup.any():
            raise LineageError(f"duplicate agent id {uniq[np.argmax(dup)]} (already recorded)")
        if self._finished:
            raise LineageError(f"agent {ids[0]}: born after finish() closed the lineage")
        monotone_batch = bool((np.diff(ids) > 0).all())
        after_last = self._n == 0 or ids[0] > self._cols["agent_id"][self._n - 1]
        self._monotone = self._monotone and monotone_batch and after_last
        self._order = None
        self._reserve(k)
        s = slice(self._n, self._n + k)
        cols = self._cols
        cols["agent_id"][s] = ids
        cols["parent_id"][s] = parents
        cols["generation"][s] = gens
        cols["island"][s] = island_arr
        cols["slot"][s] = slot_arr
        cols["birth_step"][s] = step
        cols["death_step"][s] = ALIVE
        cols["cause"][s] = 0
        cols["closed"][s] = False
        cols["genome_hash"][s] = hashes
        cols["final_hash"][s] = ""
        cols["fitness"][s] = np.nan
        cols["trust"][s] = np.nan
        cols["scars"][s] = 0
        self._n += k

    def _close(
        self,
        ids: np.ndarray,
        step: int,
        codes: np.ndarray,
        final_hashes: Sequence[str],
        fitness: np.ndarray,
        scars: np.ndarray,
        trust: np.ndarray | None,
        verb: str,
    ) -> None:
        k = ids.size
        fit = np.asarray(fitness, dtype=np.float64)
        scar = _ids("scars", scars)
        trusted = np.full(k, np.nan) if trust is None else np.asarray(trust, dtype=np.float64)
        _same_length(k, fitness=fit, scars=scar, trust=trusted)
        hashes = _strings("final_hashes", final_hashes, k)
        if (scar < 0).any():
            raise LineageError(f"agent {ids[np.argmax(scar < 0)]}: negative scar count")
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            raise LineageError(f"agent {uniq[np.argmax(counts > 1)]} appears twice in one {verb}")
        rows = self._rows(ids, f"cannot {verb}: unknown agent id")
        cols = self._cols
        closed = cols["closed"][rows]
        if closed.any():
            i = int(np.argmax(closed))
            dead = cols["cause"][rows[i]] > 0
            state = f"died at step {cols['death_step'][rows[i]]}" if dead else "was finished"
            raise LineageError(f"agent {ids[i]} cannot {verb}: it already {state}")
        early = cols["birth_step"][rows] > step
        if early.any():
            i = int(np.argmax(early))
            raise LineageError(
                f"agent {ids[i]} cannot {verb} at step {step}: born at step "
                f"{cols['birth_step'][rows[i]]}"
            )
        cols["closed"][rows] = True
        cols["death_step"][rows] = step if verb == "die" else ALIVE
        cols["cause"][rows] = codes
        cols["final_hash"][rows] = hashes
        cols["fitness"][rows] = fit
        cols["trust"][rows] = trusted
        cols["scars"][rows] = scar
