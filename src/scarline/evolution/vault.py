"""The genome vault: content-addressed snapshots of policies, checked on every read.

Genomes are stored in immutable **packs**, one per batch the census hands over (a life cycle's
newborns and culled, a step's dead, the living at the end): ``<dir>/pack-000001.vpack`` …
A pack is::

    b"SCVAULT1" | uint64 LE header length | msgpack header | the genomes' bytes, concatenated

and its header lists ``[policy_hash, sha256, offset, length]`` for each genome (offsets into
the data part). ``<dir>/SHA256SUMS`` lists every pack in ``sha256sum`` format, so
``sha256sum -c SHA256SUMS`` works outside scarline; each genome's own sha256 is in its pack's
header and is checked on every :meth:`Vault.get`.

Why packs and not one file per genome: creating a file costs ~0.7 ms of kernel time on these
machines, and an evolving arena at N = 4096 records ~8000 genomes per 500 steps — one file
each cost more than the evolution itself (see docs/architecture.md). A pack is one file per
batch whatever its size.

Snapshots are written once: putting the same hash again is a no-op, putting *different*
bytes under a hash that exists is an error, because a hash that names two genomes would break
every lineage that cites it. Packs and the sums file are written to a temporary name and
renamed, so a crash leaves no half file; a pack written before a crash (not yet in the sums
file) is checked and listed by the next write.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from scarline.digest import file_sha256, sha256_hex
from scarline.errors import ScarlineError
from scarline.safe_write import replace_file

SUMS_FILE = "SHA256SUMS"
PACK_SUFFIX = ".vpack"
MAGIC = b"SCVAULT1"
_LEN = struct.Struct("<Q")
_HASH = re.compile(r"[0-9a-f]{8,128}")
_PACK = re.compile(r"pack-(\d{6,})\.vpack")
_SUMS_LINE = re.compile(r"([0-9a-f]{64}) [ *](\S+)")


class VaultError(ScarlineError):
    """A snapshot is missing, was tampered with, or would overwrite different bytes."""


@dataclass(frozen=True)
class Entry:
    """Where one genome lives: its pack, its byte range there and its sha256."""

    pack: str
    offset: int  # from the start of the pack file
    length: int
    sha256: str


def pack_bytes(items: list[tuple[bytes, str]]) -> bytes:
    """One pack holding ``items`` (``(canonical bytes, policy hash)``) in the given order."""
    header, offset = [], 0
    for data, policy_hash in items:
        header.append([policy_hash, sha256_hex(data), offset, len(data)])
        offset += len(data)
    head = msgspec.msgpack.encode(header)
    return b"".join([MAGIC, _LEN.pack(len(head)), head, *(data for data, _ in items)])


def read_header(path: Path) -> dict[str, Entry]:
    """``{policy hash: Entry}`` of one pack, from its header only."""
    try:
        with path.open("rb") as f:
            fixed = f.read(len(MAGIC) + _LEN.size)
            if len(fixed) != len(MAGIC) + _LEN.size or fixed[: len(MAGIC)] != MAGIC:
                raise VaultError(f"{path}: not a scarline vault pack")
            (size,) = _LEN.unpack(fixed[len(MAGIC) :])
            head = f.read(size)
    except FileNotFoundError:
        raise VaultError(f"{path}: listed in {SUMS_FILE} but the file is missing") from None
    try:
        rows = msgspec.msgpack.decode(head, type=list[tuple[str, str, int, int]])
    except msgspec.DecodeError as exc:
        raise VaultError(f"{path}: unreadable pack header ({exc})") from None
    base = len(MAGIC) + _LEN.size + size
    return {h: Entry(path.name, base + offset, n, sha) for h, sha, offset, n in rows}


class Vault:
    """Genome snapshots in one directory (created on the first ``put``)."""

    def __init__(self, directory: Path | str) -> None:
        self.dir = Path(directory)
        # The index of the packs as last read, keyed by the sums file's text: any change to
        # SHA256SUMS (ours or anyone's) re-reads the headers, so tampering always shows.
        self._index: dict[str, Entry] = {}
        self._indexed_sums: str | None = None

    @property
    def sums_path(self) -> Path:
        return self.dir / SUMS_FILE

    @staticmethod
    def check_hash(policy_hash: str, where: Path | str) -> None:
        if not isinstance(policy_hash, str) or not _HASH.fullmatch(policy_hash):
            raise VaultError(
                f"{where}: policy hash must be 8-128 lowercase hex digits, got {policy_hash!r}"
            )

    def entry(self, policy_hash: str) -> Entry | None:
        """Where the snapshot of ``policy_hash`` is stored (None if it is not)."""
        return self._entries().get(policy_hash)

    def location(self, policy_hash: str) -> str:
        """Where the snapshot of ``policy_hash`` lives, for messages: ``<pack>[<hash>]``."""
        entry = self.entry(policy_hash)
        pack = self.dir / (entry.pack if entry else "?")
        return f"{pack}[{policy_hash}]"

    def put(self, data: bytes, policy_hash: str) -> None:
        """Store ``data`` under ``policy_hash`` once."""
        self.put_many([(data, policy_hash)])

    def put_many(self, items: Iterable[tuple[bytes, str]]) -> None:
        """Store a batch of snapshots as one pack (only those not stored yet)."""
        packs = self._pack_numbers()  # one listing of the directory for this batch
        sums = self._adopt_orphans(self._load_sums(), packs)
        index = self._entries(sums)
        fresh: dict[str, bytes] = {}
        for data, policy_hash in items:
            self.check_hash(policy_hash, self.dir)
            if not isinstance(data, bytes | bytearray | memoryview):
                raise VaultError(
                    f"{self.dir}[{policy_hash}]: snapshot must be bytes, got {type(data).__name__}"
                )
            data = bytes(data)
            known = index.get(policy_hash)
            earlier = fresh.get(policy_hash)
            if (known is not None and known.sha256 != sha256_hex(data)) or (
                earlier is not None and earlier != data
            ):
                where = self.location(policy_hash) if known else f"{self.dir}[{policy_hash}]"
                raise VaultError(f"{where}: already holds different bytes for this policy hash")
            if known is None:
                fresh[policy_hash] = data
        if not fresh:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"pack-{max((n for n, _ in packs), default=0) + 1:06d}{PACK_SUFFIX}"
        blob = pack_bytes([(data, h) for h, data in fresh.items()])
        replace_file(path, blob)
        sums[path.name] = sha256_hex(blob)
        text = self._store_sums(sums)
        # the new pack's entries join the index without re-reading the other headers
        self._index = index | read_header(path)
        self._indexed_sums = text

    def get(self, policy_hash: str) -> bytes:
        """The snapshot's bytes, after checking them against their sha256."""
        self.check_hash(policy_hash, self.dir)
        entry = self.entry(policy_hash)
        if entry is None:
            raise VaultError(f"{self.dir}[{policy_hash}]: not in the vault")
        path = self.dir / entry.pack
        try:
            with path.open("rb") as f:
                f.seek(entry.offset)
                data = f.read(entry.length)
        except FileNotFoundError:
            raise VaultError(f"{path}: listed in {SUMS_FILE} but the file is missing") from None
        if sha256_hex(data) != entry.sha256:
            raise VaultError(
                f"{path}[{policy_hash}]: sha256 differs from the pack's index "
                "(the snapshot was altered)"
            )
        return data

    def check_pack(self, name: str) -> str:
        """Re-hash pack ``name`` against ``SHA256SUMS``; its sha256, or VaultError. A genome's
        own sha256 lives in its pack's header, which whoever edits the pack can rewrite: only
        the pack's listed digest binds the whole file."""
        path = self.dir / name
        listed = self._load_sums().get(name)
        if listed is None:
            raise VaultError(f"{path}: not listed in {self.sums_path}")
        try:
            digest = file_sha256(path)
        except FileNotFoundError:
            raise VaultError(f"{path}: listed in {SUMS_FILE} but the file is missing") from None
        if digest != listed:
            raise VaultError(f"{path}: sha256 differs from {SUMS_FILE} (the pack was altered)")
        return digest

    def __contains__(self, policy_hash: str) -> bool:
        return policy_hash in self._entries()

    def hashes(self) -> list[str]:
        """Policy hashes of every stored snapshot, sorted."""
        return sorted(self._entries())

    def fingerprints(self, root: Path | str | None = None) -> dict[str, str]:
        """``{path relative to root: sha256}`` of the packs, for the run manifest's artifacts.

        ``root`` defaults to the vault's parent (the run directory when the vault is
        ``RUN_DIR/vault``). Digests are the recorded ones; :meth:`verify` re-reads the files.
        """
        base = Path(root) if root is not None else self.dir.parent
        rel = os.path.relpath(self.dir, base)
        prefix = "" if rel == "." else Path(rel).as_posix() + "/"
        return {f"{prefix}{name}": digest for name, digest in sorted(self._load_sums().items())}

    def verify(self) -> None:
        """Re-hash every pack and every genome, look for unlisted packs; VaultError if bad."""
        sums = self._load_sums()
        for name, digest in sorted(sums.items()):
            path = self.dir / name
            if not path.is_file():
                raise VaultError(f"{path}: listed in {SUMS_FILE} but the file is missing")
            if file_sha256(path) != digest:
                raise VaultError(f"{path}: sha256 differs from {SUMS_FILE} (the pack was altered)")
        for policy_hash in self.hashes():
            self.get(policy_hash)
        for _, name in self._pack_numbers():
            if name not in sums:
                raise VaultError(f"{self.dir / name}: not listed in {self.sums_path}")

    # -- the index ---------------------------------------------------------------------------

    def _entries(self, sums: dict[str, str] | None = None) -> dict[str, Entry]:
        """``{policy hash: Entry}`` over the listed packs (re-read when the sums file changed)."""
        text = self._sums_text()
        if text != self._indexed_sums:
            listed = sums if sums is not None else self._parse_sums(text)
            index: dict[str, Entry] = {}
            for name in sorted(listed):
                for policy_hash, entry in read_header(self.dir / name).items():
                    seen = index.get(policy_hash)
                    if seen is not None and seen.sha256 != entry.sha256:
                        raise VaultError(
                            f"{self.dir / name}[{policy_hash}]: also in {seen.pack} "
                            "with other bytes"
                        )
                    index.setdefault(policy_hash, entry)
            self._index, self._indexed_sums = index, text
        return self._index

    def _pack_numbers(self) -> list[tuple[int, str]]:
        """``(number, file name)`` of every pack in the directory, by number. Names and
        numbers only: listing a run's ~110 packs as sorted pathlib objects, twice for each of
        its batches, took ~0.13 s more of the vault's writer thread in an evolving arena run
        at N = 4096 (0.38 against 0.25 s for its 114 batches), holding the GIL the kernel's
        thread needs."""
        try:
            names = os.listdir(self.dir)
        except (FileNotFoundError, NotADirectoryError):  # nothing stored there yet
            return []
        return sorted((int(m.group(1)), name) for name in names if (m := _PACK.fullmatch(name)))

    def _adopt_orphans(self, sums: dict[str, str], packs: list[tuple[int, str]]) -> dict[str, str]:
        """List packs a crash left out of the sums file (``packs``: :meth:`_pack_numbers`),
        if their genomes check out."""
        orphans = [self.dir / name for _, name in packs if name not in sums]
        for path in orphans:
            blob = path.read_bytes()
            for policy_hash, entry in read_header(path).items():
                data = blob[entry.offset : entry.offset + entry.length]
                if sha256_hex(data) != entry.sha256:
                    raise VaultError(f"{path}[{policy_hash}]: unlisted pack with a bad genome")
            sums[path.name] = sha256_hex(blob)
        if orphans:
            self._store_sums(sums)
        return sums

    # -- SHA256SUMS ------------------------------------------------------------------------

    def _sums_text(self) -> str:
        try:
            return self.sums_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        except UnicodeDecodeError as err:  # an edit, not what _store_sums writes
            raise VaultError(
                f"{self.sums_path}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at "
                f"offset {err.start})"
            ) from None

    def _load_sums(self) -> dict[str, str]:
        """``{file name: sha256}`` as on disk now (never cached: a tampered file must show)."""
        return self._parse_sums(self._sums_text())

    def _parse_sums(self, text: str) -> dict[str, str]:
        sums: dict[str, str] = {}
        for lineno, line in enumerate(text.splitlines(), 1):
            m = _SUMS_LINE.fullmatch(line)
            if m is None or "/" in m.group(2):
                raise VaultError(f"{self.sums_path}:{lineno}: not a '<sha256>  <file>' line")
            sums[m.group(2)] = m.group(1)
        return sums

    def _store_sums(self, sums: dict[str, str]) -> str:
        text = "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
        self.dir.mkdir(parents=True, exist_ok=True)
        replace_file(self.sums_path, text.encode("utf-8"))
        return text
