"""The decision diary: every decision cell of a run as one row of ``RUN_DIR/diary.parquet``.

Built after the run from what the run directory holds — the WAL, ``config.toml`` and, for
evolving runs, ``lineage.parquet`` and the genome vault — so it never touches the decision
trace or replay, and ``scarline diary RUN_DIR --rebuild`` rebuilds it for older runs.

A row is one (step, agent, instrument) cell of a ``Decision`` record (the cells whose action
or target changed; a dense record is reduced to its changes first) with what explains it
(policy hash, lineage id, regime, router profile, features hash, reason, the agent's trust,
risk template),
what became of it (the order intent, the risk verdict, the fills) and, filled in later, its
ex-post outcome: the instrument's log return from the close of ``step`` to the close of
``step + outcome_horizon``, signed by the direction of the target change (null past the
run's end). See ``docs/diary.md`` for every column.

Everything is built with numpy/pyarrow array operations per WAL record (no per-row Python),
and written with fixed Parquet options and no timestamps: the same run gives the same bytes,
whose sha256 goes into the run manifest.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scarline.agents.config import AgentGroup, QNetGroup
from scarline.agents.sma import crossover_pairs
from scarline.config import RunConfig, load_config
from scarline.decisions import ChangeTracker
from scarline.errors import ScarlineError
from scarline.events import REASONS, Bar, Decision, Fills, RiskChecks, SessionStart
from scarline.evolution.artifacts import VAULT_DIR
from scarline.evolution.lineage import LINEAGE_FILE, read_lineage
from scarline.evolution.vault import PACK_SUFFIX, VaultError, read_header
from scarline.journal import read_records
from scarline.parquet_io import write_parquet_atomic
from scarline.regime.hmm import REGIME_NAMES

DIARY_FILE = "diary.parquet"
DEFAULT_HORIZON = 5
"""Bars between a decision's close and the close its outcome is measured at."""
COVERAGE_TARGET = 0.95
NO_ORDER = "no-order"
"""``risk_outcome`` of a decision cell that produced no order intent."""
CONFIG_TEMPLATE = "config"
"""``risk_template`` of agents whose risk limits are the run config's alone (no genes)."""

_TEXT = pa.dictionary(pa.int32(), pa.string())
"""Text columns are dictionary-encoded (few distinct values; DuckDB reads them as VARCHAR)."""

SCHEMA = pa.schema(
    [
        pa.field("step", pa.int64(), nullable=False),
        pa.field("ts", pa.timestamp("ns"), nullable=False),
        pa.field("wal_seq", pa.int64(), nullable=False),
        pa.field("decision_id", _TEXT, nullable=False),
        pa.field("agent", pa.int64(), nullable=False),
        pa.field("group", _TEXT, nullable=False),
        pa.field("kind", _TEXT, nullable=False),
        pa.field("instrument", _TEXT, nullable=False),
        pa.field("policy_hash", _TEXT, nullable=False),
        pa.field("lineage_id", pa.int64()),
        pa.field("regime", _TEXT),
        pa.field("profile", _TEXT),
        pa.field("features_hash", _TEXT),
        pa.field("risk_template", _TEXT, nullable=False),
        pa.field("action", pa.float64(), nullable=False),
        pa.field("prev_target_qty", pa.int64(), nullable=False),
        pa.field("target_qty", pa.int64(), nullable=False),
        pa.field("reason", _TEXT, nullable=False),
        pa.field("trust", pa.float64()),
        pa.field("order_id", pa.int64()),
        pa.field("orders", pa.int32(), nullable=False),
        pa.field("risk_outcome", _TEXT, nullable=False),
        pa.field("risk_rule", _TEXT),
        pa.field("requested_qty", pa.int64(), nullable=False),
        pa.field("approved_qty", pa.int64(), nullable=False),
        pa.field("filled_qty", pa.int64(), nullable=False),
        pa.field("avg_fill_price", pa.float64()),
        pa.field("outcome_horizon", pa.int32(), nullable=False),
        pa.field("outcome_return", pa.float64()),
    ],
    metadata={"scarline.schema": "diary/2"},
)
"""Columns of ``diary.parquet``, in order (see docs/diary.md)."""


class DiaryError(ScarlineError):
    """The diary cannot be built or read (missing run directory, WAL, config or file)."""


class MissingDiary(DiaryError):
    """The run directory or its diary does not exist."""

    exit_code = 2


@dataclass(frozen=True)
class DiaryStats:
    """What a build produced: rows, order rows, attribution coverage (None without orders)
    and the build's wall time in seconds (not written anywhere in the diary)."""

    rows: int
    orders: int
    coverage: float | None
    seconds: float

    def line(self) -> str:
        return attribution_line(self.orders, self.coverage)


def attribution_line(orders: int, coverage: float | None) -> str:
    """``Attribution coverage: 97.3 % of 1,234 orders have regime + features + reason …``."""
    target = f"(target ≥ {COVERAGE_TARGET * 100:.0f} %)"
    if not orders:
        return f"Attribution coverage: no orders to attribute {target}"
    if coverage is None:
        return (
            f"Attribution coverage: not measured for {orders:,} orders — the run records no "
            "regime or router profile (regimes and router off)"
        )
    return (
        f"Attribution coverage: {coverage * 100:.1f} % of {orders:,} orders have "
        f"regime + features + reason {target}"
    )


def coverage_of(table: pa.Table) -> tuple[int, float | None]:
    """``(order rows, share of them attributed)``: an order row (one with an order intent)
    is attributed when it has a regime or a router profile, a features hash and a reason
    other than "unknown". None when nothing is to be measured: no orders, or a run that
    records no market context at all (regimes and router off: 0 % would be no finding)."""
    has_order = pc.is_valid(table.column("order_id"))
    orders = int(pc.sum(has_order).as_py() or 0)
    market = pc.or_(pc.is_valid(table.column("regime")), pc.is_valid(table.column("profile")))
    if not orders or not pc.any(market).as_py():
        return orders, None
    why = pc.and_(
        pc.is_valid(table.column("features_hash")),
        pc.not_equal(table.column("reason"), REASONS[0]),
    )
    good = int(pc.sum(pc.and_(has_order, pc.and_(market, why))).as_py() or 0)
    return orders, good / orders


def read_coverage(path: Path | str) -> tuple[int, float | None]:
    """:func:`coverage_of` a written ``diary.parquet`` (reads only the columns it needs)."""
    path = Path(path)
    if not path.is_file():
        raise MissingDiary(f"{path}: no diary file (build it with `scarline diary RUN --rebuild`)")
    columns = ["order_id", "regime", "profile", "features_hash", "reason"]
    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError) as err:
        raise DiaryError(f"{path}: not a readable diary ({err})") from None
    return coverage_of(table)


def build_diary(run_dir: Path | str, *, horizon: int = DEFAULT_HORIZON) -> DiaryStats:
    """Build ``run_dir/diary.parquet`` from the run directory; its :class:`DiaryStats`."""
    start = time.perf_counter()
    run_dir = Path(run_dir)
    table = diary_table(run_dir, horizon=horizon)
    write_diary(table, run_dir / DIARY_FILE)
    orders, coverage = coverage_of(table)
    return DiaryStats(table.num_rows, orders, coverage, time.perf_counter() - start)


def write_diary(table: pa.Table, path: Path | str) -> Path:
    """Write a diary table as Parquet, deterministically (fixed options, one row group per
    2^20 rows, no timestamps) and atomically (temp file + rename)."""
    return write_parquet_atomic(table, path, row_group_size=1 << 20)


# -- the run's agents ---------------------------------------------------------------------


def _group_size(group: AgentGroup) -> int:
    """Agents a group contributes (the same counts the population builds)."""
    match group.kind:
        case "sma-crossover":
            return len(crossover_pairs(group.fast, group.slow))  # type: ignore[union-attr]
        case "buy-and-hold":
            return 1
        case "momentum":
            return len(group.lookbacks)  # type: ignore[union-attr]
        case "mean-reversion":
            return len(group.windows)  # type: ignore[union-attr]
    return int(group.count)  # type: ignore[union-attr]


@dataclass(frozen=True)
class _Groups:
    """The config's agent groups; the last entry stands for rows beyond the config."""

    names: list[str]
    kinds: list[str]
    hashes: list[str]
    evolving: np.ndarray  # bool[G + 1]
    starts: np.ndarray  # int64[G + 1], first row of each group (then the total)

    def of(self, agent: np.ndarray) -> np.ndarray:
        """Group index of each agent row (G for rows the config does not cover)."""
        return np.searchsorted(self.starts, agent, side="right") - 1


def _groups(config: RunConfig) -> _Groups:
    names, kinds, hashes, evolving, sizes = [], [], [], [], []
    for i, group in enumerate(config.agents):
        canonical = json.dumps(group.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        names.append(f"agents[{i}]")
        kinds.append(group.kind)
        hashes.append(hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest())
        evolving.append(isinstance(group, QNetGroup) and group.evolution.enabled)
        sizes.append(_group_size(group))
    names.append("unknown")
    kinds.append("unknown")
    hashes.append("")
    evolving.append(False)
    starts = np.cumsum([0, *sizes]).astype(np.int64)
    return _Groups(names, kinds, hashes, np.array(evolving), starts)


def _profile_names(config: RunConfig) -> list[str]:
    return list(config.regime.router.profiles)


# -- one pass over the WAL ----------------------------------------------------------------


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
class _Scan:
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
    if dense[0] is None:
        dense[0] = ChangeTracker(np.arange(agents.size, dtype=np.int64))
    try:
        c = dense[0].update(actions, dense_target)
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


def _scan(wal_dir: Path) -> _Scan:
    s = _Scan()
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
    kinds = ("SessionStart", "Bar", "Decision", "RiskChecks", "Fills")
    for rec in read_records(wal_dir, kinds=kinds):
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


# -- joins ----------------------------------------------------------------------------------


def _closes(bars: dict[str, np.ndarray], n_steps: int, m: int) -> np.ndarray:
    """``float64[T, M]`` closes in ticks, carried forward over missing bars (NaN before any)."""
    close = np.full((n_steps, m), np.nan)
    step, inst = bars["step"], bars["inst"]
    ok = (step < n_steps) & (inst < m)
    close[step[ok], inst[ok]] = bars["close"][ok]
    seen = np.where(np.isfinite(close), np.arange(n_steps)[:, None], 0)
    last = np.maximum.accumulate(seen, axis=0)
    filled = close[last, np.arange(m)[None, :]]
    filled[~np.maximum.accumulate(np.isfinite(close), axis=0)] = np.nan
    return filled


def _outcomes(
    closes: np.ndarray, step: np.ndarray, inst: np.ndarray, direction: np.ndarray, h: int
) -> tuple[np.ndarray, np.ndarray]:
    """Signed log return from the close of ``step`` to that of ``step + h``; (values, valid)."""
    n_steps = closes.shape[0]
    later = step + h
    inside = (later < n_steps) & (inst < closes.shape[1])
    c0 = np.full(step.shape, np.nan)
    c1 = np.full(step.shape, np.nan)
    c0[inside] = closes[step[inside], inst[inside]]
    c1[inside] = closes[later[inside], inst[inside]]
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.log(c1 / c0)
    valid = np.isfinite(ret)
    signed = np.where(direction == 0, 0.0, np.sign(direction) * ret)
    return np.where(valid, signed, 0.0), valid


def _lookup(keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each query in sorted unique ``keys`` and whether it is there."""
    if keys.size == 0:
        return np.zeros(query.shape, dtype=np.int64), np.zeros(query.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(keys, query), keys.size - 1)
    return pos, keys[pos] == query


@dataclass(frozen=True, eq=False)
class _CellOrders:
    """The order intents of each (step, agent, instrument) cell that had any, by sorted
    cell ``key``: a target that crosses zero gives two intents (reduce, then open)."""

    key: np.ndarray
    order_id: np.ndarray  # the cell's first order id
    count: np.ndarray
    requested: np.ndarray
    approved: np.ndarray
    outcome: np.ndarray  # global outcome code of the most severe verdict
    rule: np.ndarray  # global rule code of that verdict
    filled: np.ndarray  # lots filled over the run, all the cell's orders
    notional: np.ndarray  # sum of fill price (ticks) x lots


def _cell_orders(s: _Scan, n_agents: int, m: int) -> _CellOrders:
    r = s.risk
    oid = r["order_id"]
    step, agent, inst = (r[k].astype(np.int64) for k in ("step", "agent", "inst"))
    raw_key = (step * n_agents + agent) * m + inst
    del step, agent, inst
    order = np.lexsort((oid, r["severity"], raw_key))  # by cell, the most severe verdict last
    key = raw_key[order]
    cells, first = np.unique(key, return_index=True)
    worst = order[np.r_[first[1:], key.size] - 1] if first.size else order

    def total(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values[order], first) if first.size else values[:0]

    # fills of every order, summed per cell (an order's fills may come over several steps)
    f = s.fills
    by_id = np.argsort(oid, kind="stable")
    fpos, known = _lookup(oid[by_id], f["order_id"])
    cell = np.searchsorted(cells, raw_key[by_id[fpos[known]]]) if oid.size else fpos[known]
    filled = np.bincount(cell, weights=f["qty"][known], minlength=cells.size)
    notional = np.bincount(cell, weights=(f["qty"] * f["price"])[known], minlength=cells.size)
    return _CellOrders(
        key=cells,
        order_id=np.minimum.reduceat(oid[order], first) if first.size else oid[:0],
        count=np.diff(np.r_[first, key.size]),
        requested=total(r["requested"]),
        approved=total(r["approved"]),
        outcome=r["outcome"][worst].astype(np.int64),
        rule=r["rule"][worst].astype(np.int64),
        filled=np.rint(filled).astype(np.int64),  # exact: lot sums stay far below 2**53
        notional=notional,
    )


class _RiskGenes(msgspec.Struct):
    """The genes of a vaulted genome the diary reads (the rest, weights included, skipped)."""

    risk_template: int = -1
    exposure_cap: float = float("nan")


def _risk_templates(run_dir: Path, hashes: set[str]) -> dict[str, str]:
    """``{policy hash: "template k (cap c)"}`` of the genomes found in the run's vault
    (each read once from its pack and checked against the pack's sha256)."""
    directory = run_dir / VAULT_DIR
    if not hashes or not directory.is_dir():
        return {}
    decode = msgspec.msgpack.Decoder(_RiskGenes).decode
    out: dict[str, str] = {}
    for path in sorted(directory.glob(f"pack-*{PACK_SUFFIX}")):
        try:
            wanted = {h: e for h, e in read_header(path).items() if h in hashes and h not in out}
        except VaultError as err:
            raise DiaryError(str(err)) from None
        if not wanted:
            continue
        blob = path.read_bytes()
        for h, entry in wanted.items():
            data = blob[entry.offset : entry.offset + entry.length]
            if hashlib.sha256(data).hexdigest() != entry.sha256:
                raise DiaryError(f"{path}[{h}]: sha256 differs from the pack's index")
            genes = decode(data)
            if genes.risk_template >= 0:
                out[h] = f"template {genes.risk_template} (cap {genes.exposure_cap:g})"
    return out


def _strings(dictionary: list[str], codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``dictionary[codes]`` (null where not ``valid``) as a dictionary-encoded Arrow array
    whose dictionary holds the values used, sorted: no string is copied per row."""
    used = codes if valid is None else codes[valid]
    present = np.bincount(used, minlength=len(dictionary)) > 0
    values = sorted({dictionary[i] for i in np.flatnonzero(present).tolist()})
    index = {v: k for k, v in enumerate(values)}
    remap = np.array([index.get(v, 0) for v in dictionary] or [0], dtype=np.int32)
    mask = None if valid is None else ~valid
    indices = pa.array(remap[codes], pa.int32(), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string()))


def _nullable(values: np.ndarray, valid: np.ndarray, kind: pa.DataType) -> pa.Array:
    return pa.array(values, kind, mask=~valid)


# -- the table ------------------------------------------------------------------------------


def _load(run_dir: Path) -> RunConfig:
    if not run_dir.is_dir():
        raise MissingDiary(f"{run_dir}: no such run directory")
    if not (run_dir / "wal").is_dir():
        raise MissingDiary(f"{run_dir}: no wal/ in this directory (not a run directory?)")
    path = run_dir / "config.toml"
    if not path.is_file():
        raise MissingDiary(f"{path}: no config snapshot in this run directory")
    return load_config(path)


def diary_table(run_dir: Path | str, *, horizon: int = DEFAULT_HORIZON) -> pa.Table:
    """The diary of the run in ``run_dir`` as an Arrow table in :data:`SCHEMA`, sorted by
    (step, agent, instrument)."""
    if horizon < 1:
        raise DiaryError(f"outcome horizon must be >= 1 bar, got {horizon}")
    run_dir = Path(run_dir)
    config = _load(run_dir)
    s = _scan(run_dir / "wal")
    c = s.cells
    record, agent, inst = c["record"], c["agent"].astype(np.int64), c["inst"].astype(np.int64)
    target, prev = c["target"], c["prev"]
    steps = np.array(s.steps, dtype=np.int64)
    step = steps[record]
    n_rows = record.size

    m = max(len(s.symbols), int(inst.max(initial=-1)) + 1)
    symbols = s.symbols + [str(i) for i in range(len(s.symbols), m)]
    tick = np.concatenate([s.tick, np.full(m - s.tick.size, np.nan)])

    # who: group, kind, policy hash, lineage, risk template
    groups = _groups(config)
    g = groups.of(agent)
    policy_dict = list(groups.hashes)
    policy_code = g
    template_dict = [CONFIG_TEMPLATE]
    template_code = np.zeros(n_rows, dtype=np.int64)
    lineage_id = np.zeros(n_rows, dtype=np.int64)
    in_lineage = np.zeros(n_rows, dtype=bool)
    lineage_path = run_dir / LINEAGE_FILE
    evolving = groups.evolving[g]
    if evolving.any() and lineage_path.is_file():
        lin = read_lineage(lineage_path)
        slot = lin.column("slot").to_numpy().astype(np.int64)
        birth = lin.column("birth_step").to_numpy().astype(np.int64)
        ids = lin.column("agent_id").to_numpy().astype(np.int64)
        genome = lin.column("genome_hash").to_pylist()
        order = np.lexsort((ids, birth, slot))
        big = int(max(birth.max(initial=0), step.max(initial=0))) + 2
        # the agent most recently born into the slot at or before the step
        pos = np.searchsorted(slot[order] * big + birth[order], agent * big + step, "right") - 1
        row = order[np.maximum(pos, 0)]
        in_lineage = evolving & (pos >= 0) & (slot[row] == agent)
        lineage_id = np.where(in_lineage, ids[row], 0)
        policy_code = np.where(in_lineage, len(policy_dict) + row, policy_code)
        policy_dict += genome
        used = {genome[i] for i in np.unique(row[in_lineage]).tolist()}
        templates = _risk_templates(run_dir, used)
        template_dict += [templates.get(h, CONFIG_TEMPLATE) for h in genome]
        template_code = np.where(in_lineage, 1 + row, 0)

    # why: regime, profile, features hash, reason
    regime_code = np.array(s.regimes, dtype=np.int64)[record]
    has_regime = (regime_code >= 0) & (regime_code < len(REGIME_NAMES))
    profile_code = c["profile"].astype(np.int64)
    profile_names = _profile_names(config)
    has_profile = (profile_code >= 0) & (profile_code < len(profile_names))
    reason_code = c["reason"].astype(np.int64)
    reason_code = np.where((reason_code >= 0) & (reason_code < len(REASONS)), reason_code, 0)
    has_features = np.array([bool(f) for f in s.features], dtype=bool)[record]

    # what became of it: the cell's order intents, their risk verdicts and fills
    n_agents = int(max(agent.max(initial=-1), s.risk["agent"].max(initial=-1))) + 1
    m_all = max(m, int(s.risk["inst"].max(initial=-1)) + 1, 1)
    key = (step * n_agents + agent) * m_all + inst
    o = _cell_orders(s, n_agents, m_all)
    pos, has_order = _lookup(o.key, key)

    def per_row(values: np.ndarray) -> np.ndarray:
        return np.where(has_order, values[pos], 0) if values.size else np.zeros(n_rows, np.int64)

    outcome_code = np.where(has_order, 1 + per_row(o.outcome), 0)
    rule_code = per_row(o.rule)
    rule_valid = has_order & np.array([n != "none" for n in s.rule_names] or [False])[rule_code]
    filled_qty = per_row(o.filled)
    with np.errstate(divide="ignore", invalid="ignore"):
        avg_price = np.where(filled_qty > 0, per_row(o.notional) / filled_qty, np.nan) * tick[inst]
    has_price = np.isfinite(avg_price)

    # ex-post outcome
    n_steps = int(max(steps.max(initial=-1), s.bars["step"].max(initial=-1))) + 1
    closes = _closes(s.bars, n_steps, m)
    outcome, has_outcome = _outcomes(closes, step, inst, target - prev, horizon)

    columns = {
        "step": pa.array(step, pa.int64()),
        "ts": pa.array(np.array(s.ts, dtype=np.int64)[record], pa.timestamp("ns")),
        "wal_seq": pa.array(np.array(s.seqs, dtype=np.int64)[record], pa.int64()),
        "decision_id": _strings(s.decision_ids, record),
        "agent": pa.array(agent, pa.int64()),
        "group": _strings(groups.names, g),
        "kind": _strings(groups.kinds, g),
        "instrument": _strings(symbols, inst),
        "policy_hash": _strings(policy_dict, policy_code),
        "lineage_id": _nullable(lineage_id, in_lineage, pa.int64()),
        "regime": _strings(list(REGIME_NAMES), regime_code, has_regime),
        "profile": _strings(profile_names, profile_code, has_profile),
        "features_hash": _strings(s.features, record, has_features),
        "risk_template": _strings(template_dict, template_code),
        "action": pa.array(c["action"], pa.float64()),
        "prev_target_qty": pa.array(prev, pa.int64()),
        "target_qty": pa.array(target, pa.int64()),
        "reason": _strings(list(REASONS), reason_code),
        "trust": _nullable(np.nan_to_num(c["trust"]), np.isfinite(c["trust"]), pa.float64()),
        "order_id": _nullable(per_row(o.order_id), has_order, pa.int64()),
        "orders": pa.array(per_row(o.count).astype(np.int32), pa.int32()),
        "risk_outcome": _strings([NO_ORDER, *s.outcome_names], outcome_code),
        "risk_rule": _strings(s.rule_names or ["none"], rule_code, rule_valid),
        "requested_qty": pa.array(per_row(o.requested), pa.int64()),
        "approved_qty": pa.array(per_row(o.approved), pa.int64()),
        "filled_qty": pa.array(filled_qty, pa.int64()),
        "avg_fill_price": _nullable(np.where(has_price, avg_price, 0.0), has_price, pa.float64()),
        "outcome_horizon": pa.array(np.full(n_rows, horizon, dtype=np.int32), pa.int32()),
        "outcome_return": _nullable(outcome, has_outcome, pa.float64()),
    }
    table = pa.Table.from_arrays(list(columns.values()), schema=SCHEMA)
    if key.size > 1 and not (np.diff(key) > 0).all():
        table = table.take(pa.array(np.lexsort((inst, agent, step)), pa.int64()))
    return table
