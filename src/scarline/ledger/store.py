"""The ledger directory: its state read back (after checking the whole chain) and records
appended under the directory lock, in the journal's format and chain (``docs/wal.md``)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from scarline.gates.flags import FLAGS, unknown_flags
from scarline.journal.format import H_CLOSE, H_OPEN, TAIL, chain_hash, seal, segment_name
from scarline.journal.lock import DirLock
from scarline.journal.recovery import repair
from scarline.journal.scan import scan
from scarline.journal.segments import list_segments
from scarline.journal.verify import VerifyReport, verify
from scarline.ledger.checks import collect_evidence, decode_manifest, manifest_sha256
from scarline.ledger.records import (
    LEDGER_ID,
    Approval,
    Envelope,
    LedgerError,
    LedgerRecord,
    LedgerRecordData,
    PolicyRegistered,
    Promotion,
    PromotionRefused,
    Rollback,
)
from scarline.ledger.state import STAGES, LedgerState, next_stage, parse_stage

LEDGER_ENV = "SCARLINE_LEDGER"
DEFAULT_LEDGER = Path("ledger")


def default_ledger_dir() -> Path:
    return Path(os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER)


class Ledger:
    """The ledger directory: read its state, append records under the directory lock."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.dir = Path(directory) if directory is not None else default_ledger_dir()
        self._decode = msgspec.json.Decoder(Envelope).decode
        self._encode = msgspec.json.Encoder().encode

    # reading

    def verify(self) -> VerifyReport:
        if not self.dir.is_dir():
            raise LedgerError(f"no ledger at {self.dir}")
        return verify(self.dir, LEDGER_ID)

    def records(self) -> list[LedgerRecord]:
        """Every record, after checking the whole chain (a tampered ledger proves nothing)."""
        if not self.dir.is_dir():
            return []
        found = scan(self.dir, LEDGER_ID)
        if found.bad is not None:
            bad = found.bad
            raise LedgerError(
                f"ledger {self.dir} fails verification at segment {bad.segment}, seq {bad.seq} "
                f"(line {bad.line}): {bad.reason}"
            )
        return self._read()

    def state(self) -> LedgerState:
        st = LedgerState()
        for rec in self.records():
            st.apply(rec)
        return st

    def _read(self) -> list[LedgerRecord]:
        out: list[LedgerRecord] = []
        for path in list_segments(self.dir):
            with path.open("rb") as f:
                for n, line in enumerate(f, 1):
                    if not line.endswith(b"\n"):
                        break
                    body = line[:-1]
                    try:
                        env = self._decode(body)
                    except ValueError as err:
                        raise LedgerError(f"{path}: line {n}: {err}") from None
                    h = body[-TAIL + len(H_OPEN) : -len(H_CLOSE)].decode()
                    out.append(LedgerRecord(env.seq, env.ts, env.kind, env.data, h))
        return out

    # writing

    @contextmanager
    def _locked(self) -> Iterator[_Appender]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with DirLock(self.dir):
            bad = scan(self.dir, LEDGER_ID).bad
            if bad is not None and not bad.reason.startswith("line has no newline"):
                # Only a torn (unterminated) last line is repaired; an edited record, even the
                # last one, is tampering and blocks every write until someone looks.
                raise LedgerError(
                    f"ledger {self.dir} is corrupt at segment {bad.segment}, seq {bad.seq} "
                    f"(line {bad.line}): {bad.reason}; refusing to write (see `scarline ledger "
                    "verify`)"
                )
            found, _ = repair(self.dir, LEDGER_ID)
            st = LedgerState()
            for rec in self._read():
                st.apply(rec)
            segments = found.segments
            path = segments[-1] if segments else self.dir / segment_name(0)
            yield _Appender(self, st, path, found.head, found.records)

    def register(self, policy: str, run_dir: Path, *, now: int | None = None) -> PolicyRegistered:
        with self._locked() as app:
            event = app.register(policy, run_dir)
            app.append(event, now)
            return event

    def approve(
        self,
        policy: str,
        *,
        stage: str | None,
        by: str,
        reason: str,
        flags: tuple[str, ...] | list[str] = (),
        now: int | None = None,
    ) -> Approval:
        """Record a human approval; ``flags`` names the gate-report flags it accepts."""
        if not by.strip():
            raise LedgerError("an approval needs --by NAME (who approves)")
        if not reason.strip():
            raise LedgerError("an approval needs --reason TEXT (why)")
        if unknown := unknown_flags(tuple(flags)):
            raise LedgerError(
                f"unknown flag(s) {', '.join(unknown)} (flags: {', '.join(sorted(FLAGS))})"
            )
        with self._locked() as app:
            pid = app.state.resolve(policy)
            target = parse_stage(stage) if stage else next_stage(app.state.policies[pid].stage)
            if target == "Research":
                raise LedgerError("nothing to approve for Research")
            event = Approval(
                policy=pid,
                stage=target,
                by=by.strip(),
                reason=reason.strip(),
                flags=tuple(sorted(set(flags))),
            )
            app.append(event, now)
            return event

    def promote(
        self,
        policy: str,
        to: str,
        *,
        run_dir: Path | None = None,
        now: int | None = None,
    ) -> Promotion:
        """Move ``policy`` up one stage, re-checking (and binding) every piece of evidence."""
        target = parse_stage(to)
        with self._locked() as app:
            try:
                pid = app.state.resolve(policy)
            except LedgerError:
                if run_dir is None:
                    raise
                reg = app.register(policy, run_dir)
                app.append(reg, now)
                pid = reg.policy
            st = app.state.policies[pid]
            if run_dir is not None and Path(run_dir).resolve() != Path(st.registered.run_dir):
                raise LedgerError(
                    f"policy {pid} was registered from {st.registered.run_dir}, not {run_dir}"
                )
            here = st.stage
            if target == "Research" or STAGES.index(target) != STAGES.index(here) + 1:
                nxt = next_stage(here) if here != STAGES[-1] else None
                raise PromotionRefused(
                    f"cannot promote {pid} from {here} to {target}: one stage at a time"
                    + (f" (next: {nxt})" if nxt else f" ({here} is the last stage)")
                )
            evidence, missing = collect_evidence(st.registered, target, app.state)
            if missing:
                raise PromotionRefused(
                    f"cannot promote {pid} to {target}: missing evidence: " + "; ".join(missing)
                )
            event = Promotion(policy=pid, from_stage=here, to_stage=target, evidence=evidence)
            app.append(event, now)
            return event

    def rollback(self, target: str, *, reason: str = "", now: int | None = None) -> Rollback:
        """Take the current policy of a stage (or the stage of ``target`` policy) back one stage;
        the policy promoted to that stage before it is current again."""
        with self._locked() as app:
            st = app.state
            try:
                stage: str | None = parse_stage(target)
            except LedgerError:
                stage = None
            if stage is not None:
                current = st.current(stage)
                if current is None:
                    raise LedgerError(f"no policy is at {stage}; nothing to roll back")
            else:
                current = st.resolve(target)
                stage = st.policies[current].stage
                if st.current(stage) != current:
                    raise LedgerError(
                        f"policy {current} is not the current {stage} policy "
                        f"({st.current(stage)} is); roll back {stage} instead"
                    )
            if stage == "Research":
                raise LedgerError("cannot roll back Research (nothing is below it)")
            st.policies[current].stage = STAGES[STAGES.index(stage) - 1]
            previous = st.current(stage)
            st.policies[current].stage = stage
            event = Rollback(
                stage=stage,
                from_policy=current,
                to_policy=previous,
                reason=reason.strip() or "rollback",
            )
            app.append(event, now)
            return event


class _Appender:
    """Inside the lock: the folded state and the chain head; appends one record at a time."""

    def __init__(
        self, ledger: Ledger, state: LedgerState, path: Path, head: bytes, seq: int
    ) -> None:
        self.ledger = ledger
        self.state = state
        self._path = path
        self._head = head
        self._seq = seq

    def append(self, event: LedgerRecordData, now: int | None) -> LedgerRecord:
        ts = time.time_ns() if now is None else now
        kind = type(event).__name__
        canonical = self.ledger._encode(Envelope(self._seq, ts, kind, event))
        digest = chain_hash(self._head, canonical)
        with self._path.open("ab") as f:
            f.write(seal(canonical, digest))
            f.flush()
            os.fsync(f.fileno())
        rec = LedgerRecord(self._seq, ts, kind, event, digest.hex())
        self.state.apply(rec)
        self._head = digest
        self._seq += 1
        return rec

    def register(self, policy: str, run_dir: Path) -> PolicyRegistered:
        run = Path(run_dir).resolve()
        manifest_path = run / "manifest.json"
        if not manifest_path.is_file():
            raise LedgerError(f"{manifest_path}: no run manifest; cannot register {policy}")
        raw = manifest_path.read_bytes()
        manifest = decode_manifest(manifest_path, raw)
        run_id = str(manifest.get("run_id", run.name))
        agent: int | None = None
        policy_hash: str | None = None
        if policy.isdigit():
            agent = int(policy)
            n_agents = int(manifest.get("agents", 0))
            if agent >= n_agents:
                raise LedgerError(f"{run}: no agent {agent} (the run has {n_agents} agents)")
            pid = f"{run_id}:{agent}"
        else:
            policy_hash = _vault_hash(run, policy)
            pid = policy_hash
        if pid in self.state.policies:
            raise LedgerError(f"policy {pid} is already registered")
        return PolicyRegistered(
            policy=pid,
            run_dir=str(run),
            run_id=run_id,
            manifest_sha256=manifest_sha256(manifest),
            agent=agent,
            policy_hash=policy_hash,
        )


def _vault_hash(run: Path, prefix: str) -> str:
    from scarline.evolution.vault import Vault  # only needed for vault policies

    vault_dir = run / "vault"
    if not vault_dir.is_dir():
        raise LedgerError(
            f"{run}: {prefix!r} is not an agent id and the run has no vault/ of policy hashes"
        )
    found = [h for h in Vault(vault_dir).hashes() if h.startswith(prefix.lower())]
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise LedgerError(f"{vault_dir}: {what} policy hashes start with {prefix!r}")
    return found[0]
