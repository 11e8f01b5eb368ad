"""The run directory of a registered policy, as the ledger bound it: what a deployment (a
paper session running the ledger's policies at a stage) reads the policy from.

A promotion checks the run directory once; the files stay writable after it. Weights,
``config.toml`` and ``gates.json`` are read again when a session loads the policy, so they
are checked again, against what the ledger bound rather than against the run directory's
own say-so: the manifest must be the one registered (its digest, so every artifact sha256
it lists, the weights among them, is the promoted one), ``config.toml`` the config whose
hash it records, and ``gates.json`` the report bound at Shadow.
"""

from __future__ import annotations

from pathlib import Path

from scarline.config import load_config, snapshot_matches
from scarline.digest import file_sha256
from scarline.errors import ScarlineError
from scarline.ledger.checks import decode_manifest, manifest_sha256
from scarline.ledger.records import LedgerError
from scarline.ledger.state import LedgerState
from scarline.rundir import RunDir


def bound_run(state: LedgerState, policy: str) -> Path:
    """The run directory ``policy`` was registered from, once it is the one the ledger
    bound; a :class:`LedgerError` naming what changed since."""
    known = state.policies[policy]
    run = RunDir(Path(known.registered.run_dir))
    where = f"ledger policy {policy}: {run.root}"
    try:
        raw = run.manifest.read_bytes()
    except OSError as err:
        why = f"{where}: its {RunDir.MANIFEST} cannot be read ({err.strerror})"
        raise LedgerError(why) from None
    manifest = decode_manifest(run.manifest, raw)
    if manifest_sha256(manifest) != known.registered.manifest_sha256:
        raise LedgerError(f"{where}: {RunDir.MANIFEST} changed since the ledger registered it")
    try:
        config = load_config(run.config)
        recorded = run.config_json.read_bytes() if run.config_json.is_file() else None
    except (ScarlineError, OSError) as err:
        raise LedgerError(f"{where}: {RunDir.CONFIG} cannot be read ({err})") from None
    if not snapshot_matches(config, recorded, str(manifest.get("config_hash", ""))):
        raise LedgerError(
            f"{where}: {RunDir.CONFIG} is not the config whose hash {RunDir.MANIFEST} records "
            "(edited after the run)"
        )
    bound = known.gate_report_sha256
    if bound is not None and (not run.gates.is_file() or file_sha256(run.gates) != bound):
        raise LedgerError(f"{where}: {RunDir.GATES} is not the report the ledger bound")
    return run.root
