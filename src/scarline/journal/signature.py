"""Signing a run directory with the user's key (:mod:`scarline.signing`).

- ``manifest.sig``, written when a run closes or is sealed: the run key's signature over the
  manifest — config, code, seed, every WAL segment's sha256, the WAL head, the decision
  trace hash, every artifact's sha256 — as key-sorted JSON without ``gate_report_sha256``
  (:func:`manifest_digest`), the one field written after the run.
- ``gates.sig``, written by ``scarline gates``: the gate key's signature over the exact
  bytes of ``gates.json`` and the manifest digest of the run it judged. So the manifest's
  ``gate_report_sha256`` is covered too (it must equal the signed report's sha256), a report
  cannot be moved to another run, and gating never re-signs a manifest, so it can never
  lend its key to a manifest someone edited.

Without a key the files are written unsigned and a warning says so; the ledger refuses
unsigned evidence, nothing else does.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import structlog

from scarline.digest import sha256_hex
from scarline.rundir import RunDir
from scarline.signing import (
    GATES_PURPOSE,
    MANIFEST_PURPOSE,
    FileCheck,
    SigningKey,
    check_file,
    sign_file,
    signing_key,
)

MANIFEST_FILE = RunDir.MANIFEST
GATES_FILE = RunDir.GATES
MANIFEST_SIG = RunDir.MANIFEST_SIG
GATES_SIG = RunDir.GATES_SIG
UNBOUND_FIELD = "gate_report_sha256"
RUN_BINDING = "run_manifest_sha256"


def manifest_digest(manifest: dict[str, object]) -> str:
    """sha256 of a manifest's key-sorted JSON without ``gate_report_sha256``: what the run
    key signs, and what the ledger binds at registration."""
    body = {k: v for k, v in manifest.items() if k != UNBOUND_FIELD}
    return sha256_hex(msgspec.json.encode(body, order="sorted"))


def _digest_of(path: Path) -> str | None:
    try:
        doc = msgspec.json.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError, RecursionError):  # nested thousands deep: no manifest
        return None
    return manifest_digest(doc) if isinstance(doc, dict) else None


def _unsigned(run_dir: Path, files: str, why: str) -> str:
    structlog.get_logger("scarline.signing").warning(
        "run.unsigned",
        run_dir=str(run_dir),
        files=files,
        reason=why,
        note="the ledger refuses unsigned evidence",
    )
    return ""


def sign_run_files(run_dir: Path, key: SigningKey | None = None) -> str:
    """Sign ``manifest.json`` with ``key``, else the signing key (``$SCARLINE_KEY``, else
    ``default``); the key id, or "" (with a warning) when there is no key."""
    why = ""
    if key is None:
        key, why = signing_key()
    if key is None:
        return _unsigned(run_dir, MANIFEST_FILE, why)
    path = run_dir / MANIFEST_FILE
    digest = _digest_of(path)
    assert digest is not None, path  # the caller just wrote it
    sign_file(path, key, MANIFEST_PURPOSE, digest=digest)
    return key.public.key_id


def sign_gate_report(run_dir: Path, key: SigningKey | None = None) -> str:
    """Sign ``gates.json`` together with the digest of the manifest it judged (with ``key``,
    else the signing key); the key id, or "" (with a warning) when there is no key."""
    why = ""
    if key is None:
        key, why = signing_key()
    if key is None:
        return _unsigned(run_dir, GATES_FILE, why)
    digest = _digest_of(run_dir / MANIFEST_FILE)
    assert digest is not None, run_dir
    sign_file(run_dir / GATES_FILE, key, GATES_PURPOSE, bound={RUN_BINDING: digest})
    return key.public.key_id


def check_manifest(run_dir: Path) -> FileCheck:
    """Whether ``manifest.json`` is what its ``manifest.sig`` key signed."""
    path = run_dir / MANIFEST_FILE
    digest = _digest_of(path)
    if digest is None:
        return FileCheck(MANIFEST_FILE, "", f"{MANIFEST_FILE} is missing or not JSON")
    return check_file(path, MANIFEST_PURPOSE, digest=digest)


def check_gates(run_dir: Path) -> FileCheck:
    """Whether ``gates.json`` is what its ``gates.sig`` key signed, for this run's manifest."""
    digest = _digest_of(run_dir / MANIFEST_FILE) or ""
    return check_file(run_dir / GATES_FILE, GATES_PURPOSE, bound={RUN_BINDING: digest})
