"""The diary table: one row per decision cell, with who decided it (group, policy hash,
lineage id, risk template), why (regime, profile, features hash, reason), what became of it
and its ex-post outcome."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa

from scarline.agents.config import AgentGroup, QNetGroup
from scarline.agents.sma import crossover_pairs
from scarline.config import RunConfig, load_config
from scarline.diary.joins import carried_closes, cell_orders, lookup, outcome_returns
from scarline.diary.scan import scan_wal
from scarline.diary.schema import (
    CONFIG_TEMPLATE,
    DEFAULT_HORIZON,
    MAX_HORIZON,
    NO_ORDER,
    SCHEMA,
    DiaryError,
    MissingDiary,
)
from scarline.digest import sha256_hex
from scarline.events import REASONS
from scarline.evolution.lineage import read_lineage
from scarline.evolution.vault import PACK_SUFFIX, VaultError, read_header
from scarline.regime.hmm import REGIME_NAMES
from scarline.rundir import RunDir

# -- the run's agents ---------------------------------------------------------------------


def _group_size(group: AgentGroup) -> int:
    """Agents a group contributes (the same counts the population builds)."""
    match group.kind:
        case "sma-crossover":
            return len(crossover_pairs(group.fast, group.slow))
        case "buy-and-hold":
            return 1
        case "momentum":
            return len(group.lookbacks)
        case "mean-reversion":
            return len(group.windows)
        case "python":
            return len(group.param_sets())
    return int(group.count)


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
    names: list[str] = []
    kinds: list[str] = []
    hashes: list[str] = []
    evolving: list[bool] = []
    sizes: list[int] = []
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


class _RiskGenes(msgspec.Struct):
    """The genes of a vaulted genome the diary reads (the rest, weights included, skipped)."""

    risk_template: int = -1
    exposure_cap: float = float("nan")


def _risk_templates(run_dir: Path, hashes: set[str]) -> dict[str, str]:
    """``{policy hash: "template k (cap c)"}`` of the genomes found in the run's vault
    (each read once from its pack and checked against the pack's sha256)."""
    directory = RunDir(run_dir).vault
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
            if sha256_hex(data) != entry.sha256:
                raise DiaryError(f"{path}[{h}]: sha256 differs from the pack's index")
            genes = decode(data)
            if genes.risk_template >= 0:
                out[h] = f"template {genes.risk_template} (cap {genes.exposure_cap:g})"
    return out


# -- the table ------------------------------------------------------------------------------


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


def _load(run_dir: Path) -> RunConfig:
    if not run_dir.is_dir():
        raise MissingDiary(f"{run_dir}: no such run directory")
    if not RunDir(run_dir).wal.is_dir():
        raise MissingDiary(f"{run_dir}: no wal/ in this directory (not a run directory?)")
    path = RunDir(run_dir).config
    if not path.is_file():
        raise MissingDiary(f"{path}: no config snapshot in this run directory")
    return load_config(path)


def diary_table(run_dir: Path | str, *, horizon: int = DEFAULT_HORIZON) -> pa.Table:
    """The diary of the run in ``run_dir`` as an Arrow table in :data:`SCHEMA`, sorted by
    (step, agent, instrument)."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise DiaryError(f"outcome horizon must be 1 to {MAX_HORIZON} bars, got {horizon}")
    run_dir = Path(run_dir)
    config = _load(run_dir)
    s = scan_wal(RunDir(run_dir).wal)
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
    lineage_path = RunDir(run_dir).lineage
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
    o = cell_orders(s, n_agents, m_all)
    pos, has_order = lookup(o.key, key)

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
    closes = carried_closes(s.bars, n_steps, m)
    outcome, has_outcome = outcome_returns(closes, step, inst, target - prev, horizon)

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
