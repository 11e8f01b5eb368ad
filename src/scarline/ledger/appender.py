"""Appending to the ledger inside its lock: each record between a pending and a final signed
anchor, approvals and policy versions signed by the writer's key, registrations read from
the run's manifest, and a torn tail set aside (never dropped)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO

import msgspec
import structlog

from scarline.journal.format import chain_hash, seal
from scarline.journal.scan import Scan
from scarline.ledger.anchor import AnchorPoint, write_anchor
from scarline.ledger.checks import decode_manifest, manifest_sha256, sealed_refusal
from scarline.ledger.policy import POLICY_FILE, parse_policy
from scarline.ledger.records import (
    Approval,
    Envelope,
    LedgerError,
    LedgerRecord,
    LedgerRecordData,
    PolicyRegistered,
    PolicySet,
    PromotionRefused,
    approval_payload,
    policy_payload,
)
from scarline.ledger.state import LedgerState
from scarline.rundir import RunDir
from scarline.safe_write import replace_file
from scarline.session import is_agent_id
from scarline.signing import APPROVAL_PURPOSE, POLICY_PURPOSE, SigningKey

_encode = msgspec.json.Encoder().encode


class Appender:
    """Inside the lock: the folded state and the writer's key; appends one record at a time,
    each between a pending and a final signed anchor."""

    def __init__(self, directory: Path, state: LedgerState, path: Path, key: SigningKey) -> None:
        self.dir = directory
        self.state = state
        self.key = key
        self._path = path

    def append(self, event: LedgerRecordData, now: int | None = None) -> LedgerRecord:
        ts = time.time_ns() if now is None else now
        kind = type(event).__name__
        seq, head = len(self.state.records), self.state.head
        canonical = _encode(Envelope(seq, ts, kind, event))
        digest = chain_hash(bytes.fromhex(head), canonical).hex()
        write_anchor(self.dir, seq, head, self.key, pending=AnchorPoint(seq + 1, digest))
        with _open_own(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, "ab") as f:
            f.write(seal(canonical, bytes.fromhex(digest)))
            f.flush()
            os.fsync(f.fileno())
        rec = LedgerRecord(seq, ts, kind, event, digest)
        self.state.apply(rec)
        write_anchor(self.dir, seq + 1, digest, self.key)
        return rec

    def reanchor(self) -> None:
        """Sign the anchor of the records as they are (finishes an interrupted write)."""
        write_anchor(self.dir, len(self.state.records), self.state.head, self.key)

    def signed(self, approval: Approval) -> Approval:
        """``approval`` signed by the writer's key at the current ledger head."""
        payload = approval_payload(self.state.head, approval)
        return msgspec.structs.replace(
            approval,
            public_key=self.key.public.text,
            signature=self.key.sign(APPROVAL_PURPOSE, payload),
        )

    def set_policy(self, text: str, now: int | None = None) -> PolicySet:
        """Record ``text`` as the policy in force (and write it to policy.toml). The first
        policy must let its writer write the ledger; a later one needs a writer of the
        policy before it (checked when the lock was taken)."""
        path = self.dir / POLICY_FILE
        policy = parse_policy(text, str(path))
        if self.state.policy is None and not policy.may("ledger", self.key.public):
            raise LedgerError(
                f"{path} does not let your key {self.key.name!r} ({self.key.public.key_id}) "
                "write the ledger (roles.ledger), so it could never be written"
            )
        payload = policy_payload(self.state.head, policy.sha256)
        event = PolicySet(
            sha256=policy.sha256,
            text=text,
            public_key=self.key.public.text,
            signature=self.key.sign(POLICY_PURPOSE, payload),
        )
        self.append(event, now)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_text(path, text)
        return event

    def register(self, policy: str, run_dir: Path) -> PolicyRegistered:
        run = Path(run_dir).resolve()
        manifest_path = RunDir(run).manifest
        if not manifest_path.is_file():
            raise LedgerError(f"{manifest_path}: no run manifest; cannot register {policy}")
        raw = manifest_path.read_bytes()
        manifest = decode_manifest(manifest_path, raw)
        if refusal := sealed_refusal(manifest_path, manifest):
            raise PromotionRefused(f"cannot register {policy}: {refusal}")
        run_id = str(manifest.get("run_id", run.name))
        agent: int | None = None
        policy_hash: str | None = None
        if is_agent_id(policy):
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
            gate_report_sha256=_str_or_none(manifest.get("gate_report_sha256")),
        )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def write_text(path: Path, text: str) -> None:
    replace_file(path, text.encode("utf-8"))  # never through a link planted in the ledger


def set_aside(directory: Path, found: Scan) -> Path:
    """Move a torn last line out of its segment into ``<segment>.torn-<ns>`` (kept, never
    dropped) and cut the segment back to its last complete record."""
    assert found.bad is not None
    segment = directory / found.bad.segment
    with segment.open("rb") as f:
        f.seek(found.bad_offset)
        tail = f.read()
    aside = segment.with_name(f"{segment.name}.torn-{time.time_ns()}")
    with aside.open("xb") as f:
        f.write(tail)
        f.flush()
        os.fsync(f.fileno())
    with _open_own(segment, os.O_RDWR, "r+b") as f:
        f.truncate(found.bad_offset)
        f.flush()
        os.fsync(f.fileno())
    structlog.get_logger("scarline.ledger").warning(
        "ledger.torn_tail_set_aside",
        segment=segment.name,
        offset=found.bad_offset,
        bytes=len(tail),
        kept_in=aside.name,
        seq=found.bad.seq,
    )
    return aside


def _open_own(path: Path, flags: int, mode: str) -> IO[bytes]:
    """``path`` opened for writing, refused (``ELOOP``) when it is a symbolic link: the
    ledger's own files only, whatever was planted after the write's checks."""
    fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o666)
    return os.fdopen(fd, mode)


def _vault_hash(run: Path, prefix: str) -> str:
    from scarline.evolution.vault import Vault  # only needed for vault policies

    vault_dir = RunDir(run).vault
    if not vault_dir.is_dir():
        raise LedgerError(
            f"{run}: {prefix!r} is not an agent id and the run has no vault/ of policy hashes"
        )
    found = [h for h in Vault(vault_dir).hashes() if h.startswith(prefix.lower())]
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise LedgerError(f"{vault_dir}: {what} policy hashes start with {prefix!r}")
    return found[0]
