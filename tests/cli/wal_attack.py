"""What an attacker with write access can do to a WAL: edit a record and recompute the whole
hash chain (it is keyed only by the run id) and the manifest's head and segment hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from scarline.journal.format import canonical_of, chain_hash, genesis, seal
from scarline.journal.segments import list_segments


def rechain(run_dir: Path, edit_seq: int, edited: bytes) -> None:
    """What an attacker does: put ``edited`` (canonical bytes) at ``edit_seq``, re-chain
    every record from the genesis of the run id, and rewrite the manifest to match."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    prev = genesis(manifest["run_id"])
    seq = 0
    for path in list_segments(run_dir / "wal"):
        out = []
        for line in path.read_bytes().splitlines():
            canonical = edited if seq == edit_seq else canonical_of(line)
            prev = chain_hash(prev, canonical)
            out.append(seal(canonical, prev))
            seq += 1
        path.write_bytes(b"".join(out))
    manifest["wal_head"] = prev.hex()
    for entry in manifest["wal_segments"]:
        data = (run_dir / "wal" / entry["name"]).read_bytes()
        entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
