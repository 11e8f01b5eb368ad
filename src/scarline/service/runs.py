"""What the read endpoints show from a run directory: decisions, risk, regimes, lineage, ledger.

Everything comes from files the run already keeps — the WAL above all, which holds every
decision and risk verdict — so a finished run and a running session are read the same way.
Answers are plain JSON types and bounded (``limit``, a cell budget per page): a dashboard
polling a long session must not pull the whole WAL over the wire.
"""

from __future__ import annotations

from collections import Counter, deque
from pathlib import Path
from typing import Any

import numpy as np

from scarline.events import (
    REASONS,
    Decision,
    QuietRun,
    RegimeChange,
    Rejects,
    RiskChecks,
    RiskStateChange,
)
from scarline.journal import Record, read_records
from scarline.journal.reader import Position
from scarline.rundir import RunDir
from scarline.service.wal_fold import RecordFold

MAX_LIMIT = 1000
"""The largest ``limit`` an endpoint takes."""
MAX_CELLS = 5000
"""Decision cells in one page at most (a page ends early, with a cursor, when reached)."""

Json = dict[str, Any]


def _tolist(values: np.ndarray) -> list[Any]:
    out: list[Any] = values.tolist()
    return out


def decision_cells(d: Decision) -> list[Json]:
    """The cells of one Decision (changes or dense layout) as rows: agent, instrument, action,
    target lots, reason name and trust (None when not recorded)."""
    agents = d.agents.numpy().astype(np.int64)
    actions = d.actions.numpy()
    target = d.target_qty.numpy()
    if d.instrument is None:  # dense: [N] agents, [N, M] cells
        m = actions.shape[1] if actions.ndim == 2 else 1
        agents = np.repeat(agents, m)
        instrument = np.tile(np.arange(m, dtype=np.int64), max(len(agents) // max(m, 1), 0))
    else:
        instrument = d.instrument.numpy().astype(np.int64)
    actions, target = actions.ravel(), target.ravel()
    k = len(agents)
    reasons = d.reasons.numpy().ravel() if d.reasons is not None else np.zeros(k, np.uint8)
    trust = d.trust.numpy().ravel() if d.trust is not None else None
    names = [REASONS[r] if r < len(REASONS) else str(r) for r in reasons.tolist()]
    return [
        {
            "agent": a,
            "instrument": i,
            "action": act,
            "target_qty": t,
            "reason": names[j],
            "trust": None if trust is None else float(trust[j]),
        }
        for j, (a, i, act, t) in enumerate(
            zip(
                _tolist(agents), _tolist(instrument), _tolist(actions), _tolist(target), strict=True
            )
        )
    ]


def decisions(
    run_dir: Path,
    *,
    agent: int | None = None,
    since: int | None = None,
    limit: int = 100,
    cursor: int | None = None,
    start: Position | None = None,
) -> Json:
    """Decisions from ``cursor`` (a WAL seq, inclusive) on, at steps ``>= since``,
    restricted to ``agent``'s cells: at most ``limit`` decisions and :data:`MAX_CELLS` cells,
    but never part of a record's (a page ends before a record that would not fit whole, or
    holds it alone). A backtest's ``QuietRun`` record is listed by the decisions it holds, if
    any (its rows that decided anew, up to 32; its other rows changed no cell), each under
    the run's seq, so one seq can carry several items. ``next`` is the cursor of the
    following page (None at the end of the WAL so far). ``start``: where to begin reading,
    from the app's :class:`~scarline.service.decision_index.DecisionIndex` (lines before it
    would all be skipped)."""
    items: list[Json] = []
    cells_sent = 0
    next_seq: int | None = None
    kinds = ("Decision", "QuietRun")
    wal = RunDir(run_dir).wal
    for rec in read_records(wal, kinds=kinds, seq_from=cursor, start=start):
        d = rec.data
        held = [e for e in d.events if isinstance(e, Decision)] if isinstance(d, QuietRun) else [d]
        if not held:
            continue
        first, stamps = (d.step, d.ts.numpy()) if isinstance(d, QuietRun) else (0, None)
        listed = []
        for e in held:
            assert isinstance(e, Decision)
            if since is not None and e.step < since:
                continue
            cells = decision_cells(e)
            if agent is not None:
                cells = [c for c in cells if c["agent"] == agent]
                if not cells:
                    continue
            ts = rec.ts if stamps is None else int(stamps[e.step - first])  # the row's own
            listed.append((e, ts, cells))
        if not listed:
            continue
        cells_here = sum(len(cells) for *_, cells in listed)
        if items and (len(items) + len(listed) > limit or cells_sent + cells_here > MAX_CELLS):
            next_seq = rec.seq
            break
        cells_sent += cells_here
        items += [
            {
                "seq": rec.seq,
                "ts": ts,
                "step": e.step,
                "decision_id": e.decision_id,
                "policy": e.policy,
                "regime": e.regime,
                "cells": cells,
            }
            for e, ts, cells in listed
        ]
    return {"items": items, "next": next_seq}


def _named(codes: np.ndarray, names: list[str]) -> list[str]:
    return [names[c] if 0 <= c < len(names) else str(c) for c in codes.tolist()]


class RiskFold(RecordFold):
    """The risk panel of the records folded in: the last ``keep`` non-pass risk verdicts,
    ladder transitions and rejects, and triggers by rule over all of them."""

    KINDS = frozenset(("RiskChecks", "RiskStateChange", "Rejects"))

    def __init__(self, keep: int = MAX_LIMIT) -> None:
        super().__init__()
        self.checks: deque[Json] = deque(maxlen=keep)
        self.transitions: deque[Json] = deque(maxlen=keep)
        self.rejects: deque[Json] = deque(maxlen=keep)
        self.triggers: Counter[str] = Counter()

    def apply(self, rec: Record) -> None:
        e = rec.data
        if isinstance(e, RiskChecks):
            self._checks(e)
        elif isinstance(e, RiskStateChange):
            src, dst = _named(e.from_level.numpy(), e.levels), _named(e.to_level.numpy(), e.levels)
            causes = _named(e.cause.numpy(), e.causes)
            value, lim = _tolist(e.value.numpy()), _tolist(e.limit.numpy())
            for j, a in enumerate(_tolist(e.agent.numpy())):
                self.transitions.append(
                    {
                        "step": e.step,
                        "agent": a,
                        "from": src[j],
                        "to": dst[j],
                        "cause": causes[j],
                        "value": value[j],
                        "limit": lim[j],
                    }
                )
        elif isinstance(e, Rejects):
            reasons = _named(e.reason.numpy(), e.reasons)
            qty, order = _tolist(e.qty.numpy()), _tolist(e.order_id.numpy())
            for j, a in enumerate(_tolist(e.agent.numpy())):
                self.rejects.append(
                    {
                        "step": e.step,
                        "agent": a,
                        "order_id": order[j],
                        "qty": qty[j],
                        "reason": reasons[j],
                    }
                )

    def _checks(self, e: RiskChecks) -> None:
        outcome = e.outcome.numpy()
        passed = e.outcomes.index("pass") if "pass" in e.outcomes else -1
        rows = np.flatnonzero(outcome != passed)
        if rows.size == 0:
            return
        rules = _named(e.rule.numpy()[rows], e.rules)
        self.triggers.update(rules)
        outcomes = _named(outcome[rows], e.outcomes)
        for j, r in enumerate(rows.tolist()):
            self.checks.append(
                {
                    "step": e.step,
                    "agent": int(e.agent.numpy()[r]),
                    "instrument": int(e.instrument.numpy()[r]),
                    "outcome": outcomes[j],
                    "rule": rules[j],
                    "value": float(e.value.numpy()[r]),
                    "limit": float(e.limit.numpy()[r]),
                    "requested": int(e.requested.numpy()[r]),
                    "approved": int(e.approved.numpy()[r]),
                }
            )

    def answer(self, limit: int) -> Json:
        """The panel with the last ``limit`` rows of each list (``limit`` <= ``keep``)."""
        return {
            "checks": _last(self.checks, limit),
            "transitions": _last(self.transitions, limit),
            "rejects": _last(self.rejects, limit),
            "triggers": dict(sorted(self.triggers.items())),
        }


class RegimeFold(RecordFold):
    """The last ``keep`` regime changes of the records folded in."""

    KINDS = frozenset(("RegimeChange",))

    def __init__(self, keep: int = MAX_LIMIT) -> None:
        super().__init__()
        self.rows: deque[Json] = deque(maxlen=keep)

    def apply(self, rec: Record) -> None:
        e = rec.data
        assert isinstance(e, RegimeChange)
        self.rows.append(
            {
                "step": e.step,
                "ts": rec.ts,
                "from": e.from_regime,
                "to": e.to_regime,
                "confidence": e.confidence,
            }
        )

    def answer(self, limit: int) -> Json:
        return {"changes": _last(self.rows, limit)}


def _last(rows: deque[Json], limit: int) -> list[Json]:
    return list(rows)[-limit:] if limit < len(rows) else list(rows)


def _fold(run_dir: Path, fold: RiskFold | RegimeFold) -> None:
    for rec in read_records(RunDir(run_dir).wal, kinds=fold.KINDS):
        fold.apply(rec)


def risk(run_dir: Path, *, limit: int = 200) -> Json:
    """The last ``limit`` non-pass risk verdicts, ladder transitions and rejects, with the
    number of triggers by rule over the whole run (read afresh; the app keeps a
    :class:`RiskFold` current instead)."""
    fold = RiskFold(limit)
    _fold(run_dir, fold)
    return fold.answer(limit)


def regimes(run_dir: Path, *, limit: int = 200) -> Json:
    """The last ``limit`` regime changes (read afresh; the app keeps a :class:`RegimeFold`)."""
    fold = RegimeFold(limit)
    _fold(run_dir, fold)
    return fold.answer(limit)


def lineage(run_dir: Path, *, limit: int = 200) -> Json:
    """The last ``limit`` rows of the run's family tree (``available`` false when the run
    did not evolve)."""
    path = RunDir(run_dir).lineage
    if not path.is_file():
        return no_lineage()
    total, rows = lineage_tail(path, limit)
    return lineage_answer(total, rows, limit)


def no_lineage() -> Json:
    """``/lineage`` of a run that did not evolve."""
    return {"available": False, "rows": [], "total": 0}


def lineage_tail(path: Path, keep: int) -> tuple[int, list[Json]]:
    """The number of rows of the lineage file ``path`` and its last ``keep`` rows."""
    from scarline.evolution.lineage import read_lineage

    table = read_lineage(path)
    start = max(table.num_rows - keep, 0)
    rows: list[Json] = table.slice(start).to_pylist()
    return table.num_rows, rows


def lineage_answer(total: int, rows: list[Json], limit: int) -> Json:
    """``/lineage`` from :func:`lineage_tail` (``limit`` at most the rows kept)."""
    return {"available": True, "rows": rows[-limit:] if limit < len(rows) else rows, "total": total}


def ledger(ledger_dir: Path, *, limit: int = 100) -> Json:
    """The policy ledger's state: each stage's current policy, every policy's stage, and the
    last ``limit`` records (checked against the chain and anchor, as ``ledger show`` does)."""
    from scarline.ledger.store import Ledger

    state = Ledger(ledger_dir).state().to_json()
    history = state.get("history", [])
    state["history"] = history[-limit:] if limit else []
    state["records"] = len(history)
    return state
