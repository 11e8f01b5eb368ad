"""``verify``: is a WAL exactly what its writer wrote, ending at the head a manifest bound?"""

from __future__ import annotations

from pathlib import Path

import msgspec

from scarline.journal.scan import BadRecord, scan
from scarline.journal.segments import require_wal_dir


class VerifyReport(msgspec.Struct, frozen=True):
    """``records`` and ``head`` cover the good prefix; ``first_bad`` is ``None`` when ``ok``."""

    ok: bool
    records: int
    head: str
    first_bad: BadRecord | None

    def describe(self) -> str:
        """One line for humans: ``WAL check failed at segment …, seq 17 (line 18): …``."""
        if self.first_bad is None:
            return f"WAL intact: {self.records} records, head {self.head}"
        bad = self.first_bad
        where = f"segment {bad.segment}, seq {bad.seq} (line {bad.line})"
        return f"WAL check failed at {where}: {bad.reason}"


def verify(wal_dir: Path, run_id: str, *, expected_head: str | None = None) -> VerifyReport:
    """Check framing, the hash chain from ``genesis(run_id)`` and seq continuity of every record.

    Read-only. A torn last line counts as bad. With ``expected_head`` (the manifest's
    ``wal_head``) a WAL that is intact but ends elsewhere (records cut off or added) fails too.
    """
    found = scan(require_wal_dir(wal_dir), run_id)
    head = found.head.hex()
    bad = found.bad
    if bad is None and expected_head is not None and head != expected_head:
        bad = BadRecord(
            segment=found.segments[-1].name if found.segments else "",
            seq=found.records - 1,
            line=found.last_lines,
            reason=f"WAL head {head} does not match manifest {expected_head}",
        )
    return VerifyReport(ok=bad is None, records=found.records, head=head, first_bad=bad)
