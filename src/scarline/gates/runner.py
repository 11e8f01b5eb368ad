"""``scarline gates``: judge agents of a finished run, G0–G4, and write ``gates.json``.

G0 (the input data) and G1 (replay parity) are facts about the run; G2–G4 are judged per
candidate from its frozen policy (see :mod:`scarline.gates.frozen`). G3 and G4 pass only
when every one of their checks passes; G2 is one decision over contracts and evidence
(:mod:`scarline.gates.anti_overfit`). An agent passes only when every gate does; a gate left
out with ``--only`` is recorded as skipped and does not pass. Flags a gate raises (e.g.
``implausible_edge``) are gathered per agent: they fail nothing, the ledger reads them. The
report's sha256 is bound into the run's ``manifest.json`` (``gate_report_sha256``), where
the ledger checks it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec
import numpy as np

from scarline.agents.qagents import PRIVATE, QAgents
from scarline.errors import ScarlineError
from scarline.gates import anti_overfit, robustness
from scarline.gates.config import GatesConfig
from scarline.gates.context import GateContext, Verdict
from scarline.gates.deploy import DeployThresholds, deployability, risk_limits
from scarline.gates.frozen import Candidate
from scarline.gates.subject import (
    GateInputError,
    RunUnderTest,
    chosen_in_sample,
    load_run_under_test,
    select,
)
from scarline.journal.manifest import read_manifest, write_json
from scarline.market.checks import check_market_source
from scarline.report.gates_section import GATE_NAMES
from scarline.runner import load_run_market

GATES = GATE_NAMES
GATES_FILE = "gates.json"
REPORT_VERSION = 2
"""2: G2 as contracts + one evidence decision, per-agent ``flags``."""
FINDINGS_SHOWN = 5


def data_truth(run: RunUnderTest, cfg: GatesConfig) -> Verdict:
    """G0 on the run's input as it is now: the source passes the data checks and still
    yields exactly the market the run saw (its content hash is the manifest's)."""
    data = run.config.data
    verdict: Verdict = {"source": data.source}
    try:
        report = check_market_source(data.source, tick_size=data.tick_size)
        current = load_run_market(run.config).content_hash()
    except ScarlineError as err:
        return verdict | {"error": str(err), "pass": False}
    expected = run.replayed.manifest.data_hash
    warnings_ok = cfg.G0.allow_warnings or not report.warnings
    verdict |= {
        "rows": report.rows,
        "symbols": report.symbols,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "findings": [f.message for f in report.findings[:FINDINGS_SHOWN]],
        "data_hash": current,
        "input_unchanged": current == expected,
        "pass": bool(report.ok and warnings_ok and current == expected),
    }
    return verdict


def replay_parity(run: RunUnderTest) -> Verdict:
    """G1: the run re-executed from its WAL reproduces it record by record (the comparison
    ``scarline replay`` makes, see :mod:`scarline.replay`) and its decision trace."""
    r = run.replayed.result
    return {
        "decision_trace_hash": r.original,
        "replayed_hash": r.replayed,
        "wal_head": r.wal_head_original,
        "replayed_wal_head": r.wal_head_replayed,
        "records_compared": r.records,
        "first_mismatch": None if r.mismatch is None else r.mismatch.describe(),
        "sealed_prefix": r.sealed_prefix,
        "steps": r.steps,
        "config_matches_manifest": r.config_matches_manifest,
        "pass": bool(r.parity and r.config_matches_manifest),
    }


def observations(run: RunUnderTest, c: Candidate) -> np.ndarray:
    """``float32[W, F + P]`` observations for the deployment checks: the candidate's market
    features over the evaluated bars, with the private part cycling through the exposures
    its actions can take (the network's function is what is compared, on realistic inputs)."""
    _, group = run.groups()[c.group]
    assert isinstance(group, QAgents) and c.genome is not None
    market = group.feature_table[run.start :, c.instrument or 0, :].numpy()
    levels = np.asarray(c.genome.actions, dtype=np.float32) * np.float32(c.genome.exposure_cap)
    exposure = levels[np.arange(market.shape[0]) % levels.size]
    private = np.zeros((market.shape[0], len(PRIVATE)), dtype=np.float32)
    private[:, 0], private[:, 2] = exposure, 1.0 - exposure
    return np.concatenate([market, private], axis=1).astype(np.float32)


def deployable(ctx: GateContext) -> list[Verdict]:
    """G4 per candidate; rule agents have no network, so only their risk limits are
    checked."""
    th = DeployThresholds.of(ctx.thresholds.G4)
    vault = ctx.run.run_dir / "vault"
    out: list[Verdict] = []
    for c in ctx.candidates:
        if c.genome is None:
            limits = risk_limits(ctx.config.risk, th.required_risk_limits)
            out.append(
                {"network": "n/a: rule agent", "risk_limits": limits, "pass": limits["pass"]}
            )
            continue
        ctx.tick(f"deployability of agent {c.agent}")
        out.append(
            deployability(
                c.genome,
                observations(ctx.run, c),
                ctx.config.risk,
                th,
                vault if vault.is_dir() else None,
            )
        )
    return out


def _combine(checks: dict[str, Callable[[GateContext], list[Verdict]]], ctx: GateContext):
    """Run a gate's checks; one ``{check: verdict, ..., "pass"}`` per candidate."""
    results = {name: check(ctx) for name, check in checks.items()}
    out: list[Verdict] = []
    for k in range(len(ctx.candidates)):
        verdict: Verdict = {name: results[name][k] for name in checks}
        verdict["pass"] = all(v["pass"] is True for v in verdict.values())  # type: ignore[index]
        out.append(verdict)
    return out


def _flags(verdicts: Iterable[object]) -> list[str]:
    """Every flag the gates raised for one agent, sorted, once each."""
    found: set[str] = set()
    for v in verdicts:
        flags = v.get("flags") if isinstance(v, dict) else None
        found.update(str(f) for f in flags or [])
    return sorted(found)


def run_gates(
    run_dir: Path,
    agents: list[str] | None = None,
    thresholds: GatesConfig | None = None,
    only: Iterable[str] | None = None,
    tick: Callable[[str], None] | None = None,
    run: RunUnderTest | None = None,
) -> dict[str, object]:
    """The gate report of ``run_dir`` (JSON-ready); nothing is written. ``run``: the run
    already replayed by :func:`scarline.gates.subject.load_run_under_test` (else it is
    replayed here)."""
    cfg = thresholds or GatesConfig()
    wanted = set(GATES) if only is None else {g.upper() for g in only}
    if unknown := wanted - set(GATES):
        raise GateInputError(f"--only: unknown gate(s) {', '.join(sorted(unknown))} (G0..G4)")
    say = tick or (lambda _msg: None)
    if run is None:
        say("replaying the run (G1)")
        run = load_run_under_test(run_dir)
    candidates = select(run, agents or [])
    holdout = run.split is not None and chosen_in_sample(agents or [])
    ctx = GateContext(run, candidates, cfg, say, holdout=holdout)
    per_gate: dict[str, list[Verdict]] = {}
    skipped: Verdict = {"skipped": True, "pass": False}
    if "G0" in wanted:
        say("data truth (G0)")
        per_gate["G0"] = [data_truth(run, cfg)] * len(candidates)
    if "G1" in wanted:
        per_gate["G1"] = [replay_parity(run)] * len(candidates)
    if "G2" in wanted:
        per_gate["G2"] = anti_overfit.anti_overfit(ctx)
    if "G3" in wanted:
        per_gate["G3"] = _combine(robustness.CHECKS, ctx)
    if "G4" in wanted:
        per_gate["G4"] = deployable(ctx)
    report_agents: dict[str, object] = {}
    for k, c in enumerate(candidates):
        entry: dict[str, object] = {"kind": c.kind, "policy_hash": c.policy_hash}
        for gate in GATES:
            entry[gate] = per_gate[gate][k] if gate in per_gate else dict(skipped)
        entry["flags"] = _flags(entry[g] for g in GATES)
        entry["pass"] = all(entry[g]["pass"] is True for g in GATES)  # type: ignore[index]
        report_agents[str(c.agent)] = entry
    manifest = run.replayed.manifest
    return {
        "version": REPORT_VERSION,
        "run_id": manifest.run_id,
        "decision_trace_hash": manifest.decision_trace_hash,
        "evaluated_bars": [run.start, run.market.n_steps],
        "split_step": run.split,
        "gates": GATES,
        "only": sorted(wanted),
        "thresholds": cfg.model_dump(mode="json"),
        "thresholds_sha256": cfg.sha256(),
        "agents": report_agents,
    }


def write_gate_report(run_dir: Path, report: dict[str, object]) -> str:
    """Write ``gates.json`` and bind its sha256 into ``manifest.json``; the sha256."""
    run_dir = Path(run_dir)
    raw = msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n"
    path = run_dir / GATES_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(raw)
    tmp.replace(path)
    sha = hashlib.sha256(raw).hexdigest()
    manifest = read_manifest(run_dir)
    write_json(run_dir / "manifest.json", msgspec.structs.replace(manifest, gate_report_sha256=sha))
    return sha
