"""The ledger's anchor, ``LEDGER_DIR/anchor.json``: how many records the ledger holds and the
head of its chain, signed by the key that wrote them (``docs/ledger.md``, "The anchor").

The chain alone proves every record is the one written after the record before it, but not
that none were cut off the end: a ledger cut at a record boundary is a valid shorter chain.
The anchor knows the length. Each append first signs a *pending* anchor (the record about to
be written), then appends the record, then signs the final anchor, so a crash at any moment
leaves a state the anchor explains, and every other difference between the records and the
anchor is a deleted, cut or added record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import msgspec

from scarline.journal.format import genesis
from scarline.ledger.records import LEDGER_ID, LedgerError
from scarline.safe_write import replace_file
from scarline.signing import ANCHOR_PURPOSE, PublicKey, SigningKey, canonical

ANCHOR_FILE = "anchor.json"
GENESIS_HEAD = genesis(LEDGER_ID).hex()


class AnchorPoint(msgspec.Struct, frozen=True):
    records: int
    head: str


class Anchor(msgspec.Struct, frozen=True, kw_only=True):
    """``records`` and ``head`` of the ledger as its writer left it; ``pending``: the record
    a write was appending when this was signed (``None`` once the write finished)."""

    version: int = 1
    records: int
    head: str
    pending: AnchorPoint | None = None
    key_id: str = ""
    public_key: str
    signature: str

    def payload(self) -> bytes:
        pending = None if self.pending is None else msgspec.structs.asdict(self.pending)
        return canonical(
            {
                "version": self.version,
                "records": self.records,
                "head": self.head,
                "pending": pending,
            }
        )

    def signer(self) -> PublicKey | None:
        """The signing key when the signature holds, else ``None``."""
        try:
            key = PublicKey.parse(self.public_key)
        except ValueError:
            return None
        return key if key.verifies(ANCHOR_PURPOSE, self.payload(), self.signature) else None


def read_anchor(directory: Path) -> Anchor | None:
    """The anchor of the ledger at ``directory`` (``None`` when it has none)."""
    path = directory / ANCHOR_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return msgspec.json.decode(raw, type=Anchor)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise LedgerError(f"{path}: not a valid ledger anchor: {err}") from None


def write_anchor(
    directory: Path,
    records: int,
    head: str,
    key: SigningKey,
    pending: AnchorPoint | None = None,
) -> Anchor:
    """Sign and write the anchor atomically (temp file, fsync, rename, fsync the directory)."""
    draft = Anchor(records=records, head=head, pending=pending, public_key="", signature="")
    anchor = msgspec.structs.replace(
        draft,
        key_id=key.public.key_id,
        public_key=key.public.text,
        signature=key.sign(ANCHOR_PURPOSE, draft.payload()),
    )
    data = msgspec.json.format(msgspec.json.encode(anchor), indent=2) + b"\n"
    replace_file(directory / ANCHOR_FILE, data, fsync=True)
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return anchor


@dataclass(frozen=True)
class AnchorCheck:
    """The records compared with the anchor: ``problem`` (a deleted, cut or added record)
    or, for a crash the anchor explains, ``note`` and whether a torn tail may be set aside."""

    problem: str = ""
    note: str = ""
    torn_is_interrupted_write: bool = False


def compare(anchor: Anchor, heads: list[str], torn_bytes: int) -> AnchorCheck:
    """``heads``: the ``h`` of every complete record in order; ``torn_bytes``: the size of a
    partial last line (0 when the last line is complete)."""
    n = len(heads)

    def head_at(k: int) -> str:
        return heads[k - 1] if 0 < k <= n else GENESIS_HEAD

    at_anchor = n == anchor.records and head_at(n) == anchor.head
    pending = anchor.pending
    if at_anchor and pending is None and not torn_bytes:
        return AnchorCheck()
    if pending is not None:
        if n == pending.records and head_at(n) == pending.head and not torn_bytes:
            return AnchorCheck(
                note=f"the write of record {n - 1} finished but its anchor was not updated "
                "(the writer stopped); the next write completes it"
            )
        if at_anchor:
            torn = f" and left {torn_bytes} bytes of it (a torn tail)" if torn_bytes else ""
            return AnchorCheck(
                note=f"a write of record {n} was interrupted{torn}; the next write sets the "
                "torn bytes aside",
                torn_is_interrupted_write=bool(torn_bytes),
            )
    cut = f" and a cut record ({torn_bytes} bytes of a partial line)" if torn_bytes else ""
    anchored = f"{anchor.records} records (head {anchor.head[:16]}…)"
    if n < anchor.records:
        return AnchorCheck(
            problem=f"ledger truncated: the anchor holds {anchored}, the ledger only {n}{cut}"
            f"; record {n} onward is gone"
        )
    if head_at(anchor.records) != anchor.head:
        return AnchorCheck(
            problem=f"the ledger's first {anchor.records} records are not the anchored ones "
            f"(head {head_at(anchor.records)[:16]}… != anchor {anchor.head[:16]}…)"
        )
    if n > anchor.records:
        return AnchorCheck(
            problem=f"{n - anchor.records} record(s) after the anchored {anchor.records} "
            f"(seq {anchor.records} onward) were added without the ledger's key"
        )
    return AnchorCheck(
        problem=f"{torn_bytes} bytes after the last anchored record (seq {n - 1}): a partial "
        "record no ledger write started"
    )
