"""One pass over a run's WAL: what the diary needs of every Decision, RiskChecks, Fills and
Bar record, gathered as arrays (no per-row Python)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scarline.decisions import ChangeTracker
from scarline.diary.schema import DiaryError
from scarline.events import Bar, Decision, Fills, RiskChecks, SessionStart
from scarline.journal import read_records
from scarline.journal.quiet_run import row_records


class _Book:
    """Columns gathered record by record, concatenated once at the end."""

    def __init__(self, **dtypes: type) -> None:
        self._dtypes = dtypes
        self._parts: dict[str, list[np.ndarray]] = {name: [] for name in dtypes}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self._parts[name].append(np.asarray(values, dtype=self._dtypes[name]))

    def cat(self) -> dict[str, np.ndarray]:
        """Each column as one array (the parts are released column by column)."""
        out = {}
        for name, dtype in self._dtypes.items():
            parts = self._parts.pop(name)
            out[name] = np.concatenate(parts) if parts else np.zeros(0, dtype)
        return out


@dataclass(eq=False)
class Scan:
    """What the diary needs from the WAL."""

    symbols: list[str] = field(default_factory=list)
    tick: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # per Decision record
    steps: list[int] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    decision_ids: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)  # "" = none
    regimes: list[int] = field(default_factory=list)
    # per decision cell, risk verdict, fill and bar (concatenated at the end)
    cells: dict[str, np.ndarray] = field(default_factory=dict)
    risk: dict[str, np.ndarray] = field(default_factory=dict)
    fills: dict[str, np.ndarray] = field(default_factory=dict)
    bars: dict[str, np.ndarray] = field(default_factory=dict)
    outcome_names: list[str] = field(default_factory=list)
    rule_names: list[str] = field(default_factory=list)


def _global_codes(names: list[str], local: list[str]) -> np.ndarray:
    """Map a record's own name list onto the scan's growing global list."""
    for name in local:
        if name not in names:
            names.append(name)
    return np.array([names.index(n) for n in local], dtype=np.int64)


class _Targets:
    """The dense last target of every (agent, instrument) cell, grown on demand."""

    def __init__(self) -> None:
        self.dense = np.zeros((0, 0), dtype=np.int64)

    def swap(self, agent: np.ndarray, inst: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Store ``target`` in the cells; return what they held before."""
        if agent.size:
            n, m = self.dense.shape
            need_n, need_m = max(n, int(agent.max()) + 1), max(m, int(inst.max()) + 1)
            if (need_n, need_m) != (n, m):
                grown = np.zeros((need_n, need_m), dtype=np.int64)
                grown[:n, :m] = self.dense
                self.dense = grown
        prev = self.dense[agent, inst]
        self.dense[agent, inst] = target
        return prev


def _decision_cells(
    d: Decision, dense: list[ChangeTracker | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(agent, instrument, action, target, reason code)`` of a record's changed cells."""
    agents = d.agents.numpy().astype(np.int64)
    reasons = None if d.reasons is None else d.reasons.numpy().astype(np.int64)
    if d.instrument is not None:
        inst = d.instrument.numpy().astype(np.int64)
        action = d.actions.numpy().ravel().astype(np.float64)
        target = d.target_qty.numpy().ravel().astype(np.int64)
        if reasons is None or reasons.shape != inst.shape:
            reasons = np.zeros(inst.shape, dtype=np.int64)
        return agents, inst, action, target, reasons
    # dense layout: reduce to the cells that changed, as the kernel's change layout does
    actions, dense_target = d.actions.numpy(), d.target_qty.numpy().astype(np.int64)
    tracker = dense[0]
    if tracker is None:
        tracker = dense[0] = ChangeTracker(np.arange(agents.size, dtype=np.int64))
    try:
        c = tracker.update(actions, dense_target)
    except ValueError as err:
        raise DiaryError(f"Decision {d.decision_id}: {err}") from None
    rows = c.agent
    if reasons is not None and reasons.shape == (agents.size,):
        why = reasons[rows]
    elif reasons is not None and reasons.shape == dense_target.shape:
        why = reasons[rows, c.instrument]
    else:
        why = np.zeros(rows.shape, dtype=np.int64)
    return agents[rows], c.instrument, c.actions.astype(np.float64), c.target_qty, why


def _cell_trust(d: Decision, k: int) -> np.ndarray:
    """The deciding agents' trust per changed cell (NaN: older records, dense layout)."""
    if d.trust is None or d.instrument is None or d.trust.shape != [k]:
        return np.full(k, np.nan)
    return d.trust.numpy().astype(np.float64)


def scan_wal(wal_dir: Path) -> Scan:
    s = Scan()
    # compact dtypes while gathering (~2.7 M cells at N = 4096); joins widen what they use
    i64, i32, i16 = np.int64, np.int32, np.int16
    cells = _Book(
        record=i32,
        agent=i32,
        inst=i32,
        action=np.float64,
        target=i64,
        prev=i64,
        reason=i16,
        profile=i16,
        trust=np.float64,
    )
    risk = _Book(
        step=i32,
        agent=i32,
        inst=i32,
        order_id=i64,
        severity=i16,
        outcome=i16,
        rule=i16,
        requested=i64,
        approved=i64,
    )
    fills = _Book(order_id=i64, qty=i64, price=np.float64)
    bars = _Book(step=i64, inst=i64, close=np.float64)
    targets = _Targets()
    dense: list[ChangeTracker | None] = [None]
    pending: list[tuple[int, int]] = []  # (instrument, close) of bars before the next Decision
    kinds = ("SessionStart", "Bar", "Decision", "QuietRun", "RiskChecks", "Fills")
    for rec in row_records(read_records(wal_dir, kinds=kinds)):
        e = rec.data
        if isinstance(e, Bar):
            pending.append((e.instrument, e.close))
        elif isinstance(e, Decision):
            agent, inst, action, target, reason = _decision_cells(e, dense)
            k = agent.size
            profile = np.full(k, -1, dtype=np.int64)
            if e.profiles is not None:
                p = e.profiles.numpy().astype(np.int64).ravel()
                known = inst < p.size
                profile[known] = p[inst[known]]
            cells.add(
                record=np.full(k, len(s.steps)),
                agent=agent,
                inst=inst,
                action=action,
                target=target,
                prev=targets.swap(agent, inst, target),
                reason=reason,
                profile=profile,
                trust=_cell_trust(e, k),
            )
            if pending:
                got = np.array(pending, dtype=np.int64)
                bars.add(step=np.full(len(pending), e.step), inst=got[:, 0], close=got[:, 1])
                pending = []
            s.steps.append(e.step)
            s.ts.append(rec.ts)
            s.seqs.append(rec.seq)
            s.decision_ids.append(e.decision_id)
            s.features.append(e.features_hash)
            s.regimes.append(e.regime)
        elif isinstance(e, RiskChecks):
            outcome = e.outcome.numpy()
            risk.add(
                step=np.full(e.order_id.shape[0], e.step),
                agent=e.agent.numpy(),
                inst=e.instrument.numpy(),
                order_id=e.order_id.numpy(),
                severity=outcome,  # a record lists its outcomes mildest first
                outcome=_global_codes(s.outcome_names, e.outcomes)[outcome],
                rule=_global_codes(s.rule_names, e.rules)[e.rule.numpy()],
                requested=e.requested.numpy(),
                approved=e.approved.numpy(),
            )
        elif isinstance(e, Fills):
            fills.add(order_id=e.order_id.numpy(), qty=e.qty.numpy(), price=e.price.numpy())
        elif isinstance(e, SessionStart) and not s.symbols:
            s.symbols = [spec.symbol for spec in e.instruments]
            s.tick = np.array([spec.tick_float for spec in e.instruments], dtype=np.float64)
    if pending:  # bars after the last decision (a run cut short): the step after it
        got = np.array(pending, dtype=np.int64)
        step = (s.steps[-1] + 1) if s.steps else 0
        bars.add(step=np.full(len(pending), step), inst=got[:, 0], close=got[:, 1])
    s.cells = cells.cat()
    s.risk, s.fills, s.bars = risk.cat(), fills.cat(), bars.cat()
    return s
