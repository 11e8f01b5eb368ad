"""The genome vault: content-addressed snapshots of policies, checked on every read.

``<dir>/<policy_hash>.msgpack`` holds the caller's canonical bytes (the vault never
interprets them); ``<dir>/SHA256SUMS`` lists every snapshot in ``sha256sum`` format, so
``sha256sum -c SHA256SUMS`` works outside scarline too. Snapshots are written once: putting
the same hash again is a no-op, putting *different* bytes under a hash that exists is an
error, because a hash that names two genomes would break every lineage that cites it.
Every file is written to a temporary name and renamed, so a crash leaves no half snapshot
and no half sums file.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from scarline.errors import ScarlineError

SUMS_FILE = "SHA256SUMS"
SUFFIX = ".msgpack"
_HASH = re.compile(r"[0-9a-f]{8,128}")
_SUMS_LINE = re.compile(r"([0-9a-f]{64}) [ *](\S+)")


class VaultError(ScarlineError):
    """A snapshot is missing, was tampered with, or would overwrite different bytes."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Vault:
    """Genome snapshots in one directory (created on the first ``put``)."""

    def __init__(self, directory: Path | str) -> None:
        self.dir = Path(directory)

    @property
    def sums_path(self) -> Path:
        return self.dir / SUMS_FILE

    def path(self, policy_hash: str) -> Path:
        """Where the snapshot of ``policy_hash`` lives (whether or not it exists)."""
        if not isinstance(policy_hash, str) or not _HASH.fullmatch(policy_hash):
            raise VaultError(
                f"{self.dir}: policy hash must be 8-128 lowercase hex digits, got {policy_hash!r}"
            )
        return self.dir / f"{policy_hash}{SUFFIX}"

    def put(self, data: bytes, policy_hash: str) -> Path:
        """Store ``data`` under ``policy_hash`` once; returns the snapshot's path."""
        return self.put_many([(data, policy_hash)])[0]

    def put_many(self, items: Iterable[tuple[bytes, str]]) -> list[Path]:
        """Store many snapshots and rewrite ``SHA256SUMS`` once (a whole birth batch)."""
        sums = self._load_sums()
        before = dict(sums)
        paths: list[Path] = []
        try:
            for data, policy_hash in items:
                paths.append(self._put_one(data, policy_hash, sums))
        finally:  # list what was written even if a later item failed
            if sums != before:
                self._store_sums(sums)
        return paths

    def _put_one(self, data: bytes, policy_hash: str, sums: dict[str, str]) -> Path:
        path = self.path(policy_hash)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise VaultError(f"{path}: snapshot must be bytes, got {type(data).__name__}")
        data = bytes(data)
        digest = _sha256(data)
        if path.is_file():
            if path.read_bytes() != data:
                raise VaultError(
                    f"{path}: already holds different bytes for policy hash {policy_hash}"
                )
        else:
            self.dir.mkdir(parents=True, exist_ok=True)
            _write_atomic(path, data)
        recorded = sums.get(path.name)
        if recorded is not None and recorded != digest:
            raise VaultError(f"{self.sums_path}: {path.name} listed with another sha256")
        sums[path.name] = digest
        return path

    def get(self, policy_hash: str) -> bytes:
        """The snapshot's bytes, after checking them against ``SHA256SUMS``."""
        path = self.path(policy_hash)
        recorded = self._load_sums().get(path.name)
        if recorded is None:
            raise VaultError(f"{path}: not in the vault ({self.sums_path} has no entry)")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise VaultError(f"{path}: listed in {SUMS_FILE} but the file is missing") from None
        if _sha256(data) != recorded:
            raise VaultError(f"{path}: sha256 differs from {SUMS_FILE} (the snapshot was altered)")
        return data

    def __contains__(self, policy_hash: str) -> bool:
        return self.path(policy_hash).name in self._load_sums()

    def hashes(self) -> list[str]:
        """Policy hashes of every stored snapshot, sorted."""
        return sorted(name.removesuffix(SUFFIX) for name in self._load_sums())

    def fingerprints(self, root: Path | str | None = None) -> dict[str, str]:
        """``{path relative to root: sha256}`` for the run manifest's ``artifacts``.

        ``root`` defaults to the vault's parent (the run directory when the vault is
        ``RUN_DIR/vault``). Digests are the recorded ones; :meth:`verify` re-reads the files.
        """
        base = Path(root) if root is not None else self.dir.parent
        rel = os.path.relpath(self.dir, base)
        prefix = "" if rel == "." else Path(rel).as_posix() + "/"
        return {f"{prefix}{name}": digest for name, digest in sorted(self._load_sums().items())}

    def verify(self) -> None:
        """Re-hash every listed snapshot and look for unlisted ones; :class:`VaultError` if bad."""
        sums = self._load_sums()
        for policy_hash in self.hashes():
            self.get(policy_hash)
        if self.dir.is_dir():
            for path in sorted(self.dir.glob(f"*{SUFFIX}")):
                if path.name not in sums:
                    raise VaultError(f"{path}: not listed in {self.sums_path}")

    # -- SHA256SUMS ------------------------------------------------------------------------

    def _load_sums(self) -> dict[str, str]:
        """``{file name: sha256}`` as on disk now (never cached: a tampered file must show)."""
        try:
            text = self.sums_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        sums: dict[str, str] = {}
        for lineno, line in enumerate(text.splitlines(), 1):
            m = _SUMS_LINE.fullmatch(line)
            if m is None or "/" in m.group(2):
                raise VaultError(f"{self.sums_path}:{lineno}: not a '<sha256>  <file>' line")
            sums[m.group(2)] = m.group(1)
        return sums

    def _store_sums(self, sums: dict[str, str]) -> None:
        text = "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.sums_path, text.encode("utf-8"))
