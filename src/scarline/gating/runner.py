"""``scarline gates``: judge agents of a finished run, G0–G4, and write ``gates.json``.

G0 (the input data) and G1 (replay parity) are facts about the run; G2–G4 are judged per
candidate from its frozen policy (see :mod:`scarline.gating.frozen`). G3 and G4 pass only
when every one of their checks passes; G2 is one decision over contracts and evidence
(:mod:`scarline.gating.anti_overfit`). An agent passes only when every gate does; a gate left
out with ``--only`` is recorded as skipped and does not pass. Flags a gate raises (e.g.
``implausible_edge``) are gathered per agent: they fail nothing, the ledger reads them. The
report's sha256 is bound into the run's ``manifest.json`` (``gate_report_sha256``), where
the ledger checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import msgspec
import numpy as np

from scarline.agents.qagents import PRIVATE, QAgents
from scarline.digest import sha256_hex
from scarline.errors import ScarlineError
from scarline.gating import anti_overfit, robustness
from scarline.gating.config import GatesConfig
from scarline.gating.context import GateContext, Verdict
from scarline.gating.deploy import DeployThresholds, deployability, risk_limits
from scarline.gating.executor import GateExecutor, SerialExecutor
from scarline.gating.frozen import Candidate
from scarline.gating.plan import Started, replay_starting, run_ahead
from scarline.gating.subject import (
    GateInputError,
    RunUnderTest,
    chosen_in_sample,
    select,
)
from scarline.journal.lock import DirLock
from scarline.journal.manifest import read_manifest, write_json
from scarline.journal.signature import sign_gate_report
from scarline.market.checks import check_market_source
from scarline.report.gate_report import (
    GATE_NAMES,
    REPORT_VERSION,
    AgentGates,
    AntiOverfit,
    DataTruth,
    Deployability,
    GateReport,
    ReplayParity,
    Robustness,
    VerdictBase,
    encode_gate_report,
)
from scarline.rundir import RunDir
from scarline.runner import load_run_market
from scarline.safe_write import replace_file

FINDINGS_SHOWN = 5


def data_truth(run: RunUnderTest, cfg: GatesConfig) -> DataTruth:
    """G0 on the run's input as it is now: the source passes the data checks and still
    yields exactly the market the run saw (its content hash is the manifest's)."""
    data = run.config.data
    try:
        report = check_market_source(data.source, tick_size=data.tick_size)
        current = load_run_market(run.config).content_hash()
    except ScarlineError as err:
        return DataTruth(source=data.source, error=str(err), passed=False)
    expected = run.replayed.manifest.data_hash
    warnings_ok = cfg.G0.allow_warnings or not report.warnings
    return DataTruth(
        source=data.source,
        rows=int(report.rows),
        symbols=int(report.symbols),
        errors=len(report.errors),
        warnings=len(report.warnings),
        findings=[f.message for f in report.findings[:FINDINGS_SHOWN]],
        data_hash=current,
        input_unchanged=current == expected,
        passed=bool(report.ok and warnings_ok and current == expected),
    )


def replay_parity(run: RunUnderTest) -> ReplayParity:
    """G1: the run re-executed from its WAL reproduces it record by record (the comparison
    ``scarline replay`` makes, see :mod:`scarline.replayer`) and its decision trace."""
    r = run.replayed.result
    return ReplayParity(
        decision_trace_hash=r.original,
        replayed_hash=r.replayed,
        wal_head=r.wal_head_original,
        replayed_wal_head=r.wal_head_replayed,
        records_compared=r.records,
        first_mismatch=None if r.mismatch is None else r.mismatch.describe(),
        sealed_prefix=r.sealed_prefix,
        steps=r.steps,
        config_matches_manifest=r.config_matches_manifest,
        passed=bool(r.parity and r.config_matches_manifest),
    )


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


def deployable(ctx: GateContext) -> list[Deployability]:
    """G4 per candidate; rule agents have no network, so only their risk limits are
    checked."""
    th = DeployThresholds.of(ctx.thresholds.G4)
    vault = RunDir(ctx.run.run_dir).vault
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
    return [msgspec.convert(v, type=Deployability) for v in out]


def robust(ctx: GateContext) -> list[Robustness]:
    """G3 per candidate: every check of :data:`robustness.CHECKS`; passes when all do."""
    results = {name: check(ctx) for name, check in robustness.CHECKS.items()}
    out: list[Robustness] = []
    for k in range(len(ctx.candidates)):
        verdict = {name: results[name][k] for name in robustness.CHECKS}
        passed = all(v["pass"] is True for v in verdict.values())
        out.append(msgspec.convert(verdict | {"pass": passed}, type=Robustness))
    return out


V = TypeVar("V", bound=VerdictBase)


def wanted_gates(only: Iterable[str] | None) -> set[str]:
    """The gates ``--only`` names (all without it); an unknown name is bad input."""
    wanted = set(GATE_NAMES) if only is None else {g.upper() for g in only}
    if unknown := wanted - set(GATE_NAMES):
        raise GateInputError(f"--only: unknown gate(s) {', '.join(sorted(unknown))} (G0..G4)")
    return wanted


def _judged(
    gate: str, wanted: set[str], n: int, kind: type[V], judge: Callable[[], list[V]]
) -> list[V]:
    """``judge()`` (one verdict per candidate) when ``gate`` is wanted, else skipped ones."""
    return judge() if gate in wanted else [kind.skip()] * n


def run_gates(
    run_dir: Path,
    agents: list[str] | None = None,
    thresholds: GatesConfig | None = None,
    only: Iterable[str] | None = None,
    tick: Callable[[str], None] | None = None,
    run: RunUnderTest | None = None,
    executor: GateExecutor | None = None,
    started: Started | None = None,
    meanwhile: Callable[[RunUnderTest], object] | None = None,
) -> GateReport:
    """The gate report of ``run_dir``; nothing is written. ``run``: the run
    already replayed by :func:`scarline.gating.plan.replay_starting` (else it is replayed
    here), with the runs it ``started``. ``executor``: where the independent re-runs go
    (default: here, one after another; the report is the same on any executor); it is
    closed at the end. ``meanwhile``: this process's own work on the replayed run, done
    once the re-runs are started, while they run (the CLI drafts report.html then)."""
    cfg = thresholds or GatesConfig()
    wanted = wanted_gates(only)
    say = tick or (lambda _msg: None)
    ex = executor or SerialExecutor()
    try:  # closed on every way out: runs may have started during the replay
        if run is None:
            say("replaying the run (G1)")
            run, started = replay_starting(run_dir, cfg, wanted, ex, agents)
        subject = run
        candidates = select(subject, agents or [])
        holdout = subject.split is not None and chosen_in_sample(agents or [])
        ctx = GateContext(subject, candidates, cfg, say, holdout=holdout, executor=ex)
        ctx.adopt(started or {})
        n = len(candidates)

        def truth() -> list[DataTruth]:
            say("data truth (G0)")
            return [data_truth(subject, cfg)] * n

        run_ahead(ctx, wanted)  # every independent re-run of G2 and G3, started in one batch
        if meanwhile is not None:
            meanwhile(subject)
        g0 = _judged("G0", wanted, n, DataTruth, truth)
        g1 = _judged("G1", wanted, n, ReplayParity, lambda: [replay_parity(subject)] * n)
        g2 = _judged("G2", wanted, n, AntiOverfit, lambda: anti_overfit.anti_overfit(ctx))
        g3 = _judged("G3", wanted, n, Robustness, lambda: robust(ctx))
        g4 = _judged("G4", wanted, n, Deployability, lambda: deployable(ctx))
    finally:
        ex.close()
    report_agents: dict[str, AgentGates] = {}
    for k, c in enumerate(candidates):
        verdicts = (g0[k], g1[k], g2[k], g3[k], g4[k])
        report_agents[str(c.agent)] = AgentGates(
            kind=c.kind,
            policy_hash=c.policy_hash,
            G0=g0[k],
            G1=g1[k],
            G2=g2[k],
            G3=g3[k],
            G4=g4[k],
            flags=sorted(set(g2[k].flags or [])),  # only G2 raises flags today
            passed=all(v.passed is True for v in verdicts),
        )
    manifest = subject.replayed.manifest
    return GateReport(
        version=REPORT_VERSION,
        run_id=manifest.run_id,
        decision_trace_hash=manifest.decision_trace_hash,
        evaluated_bars=[subject.start, subject.market.n_steps],
        split_step=subject.split,
        gates=dict(GATE_NAMES),
        only=sorted(wanted),
        thresholds=cfg.model_dump(mode="json"),
        thresholds_sha256=cfg.sha256(),
        agents=report_agents,
    )


def write_gate_report(run_dir: Path, report: GateReport) -> str:
    """Write ``gates.json``, bind its sha256 into ``manifest.json`` and sign the report with
    the user's key (``gates.sig``: unsigned, with a warning, without one); the sha256. The
    manifest's own signature leaves that one field out, so it still holds. The three writes
    hold the run directory's lock: two ``scarline gates`` on one run finishing together
    leave one report, bound and signed, not one's report with the other's hash."""
    run_dir = Path(run_dir)
    raw = encode_gate_report(report)
    path = RunDir(run_dir).gates
    sha = sha256_hex(raw)
    with DirLock(run_dir, wait=True):
        replace_file(path, raw)  # never through a link planted in the run directory
        manifest = read_manifest(run_dir)
        bound = msgspec.structs.replace(manifest, gate_report_sha256=sha)
        write_json(RunDir(run_dir).manifest, bound)
        sign_gate_report(run_dir)  # gates.sig: the report and the run it judged, by the gate key
    return sha
