"""The write-ahead log: hash-chained, segmented JSON-lines records of every event of a run.

See ``docs/wal.md`` for the format. Write with :class:`WalWriter`, recompute a head without
writing with :class:`HashOnlyWal`, read with :func:`read_records`, check with :func:`verify`.
"""

from scarline.journal.chain import HashOnlyWal
from scarline.journal.format import genesis
from scarline.journal.reader import Record, read_records
from scarline.journal.recovery import Recovery, recover
from scarline.journal.scan import BadRecord
from scarline.journal.segments import SegmentInfo, segment_infos
from scarline.journal.verify import VerifyReport, verify
from scarline.journal.writer import FsyncPolicy, WalWriter

__all__ = [
    "BadRecord",
    "FsyncPolicy",
    "HashOnlyWal",
    "Record",
    "Recovery",
    "SegmentInfo",
    "VerifyReport",
    "WalWriter",
    "genesis",
    "read_records",
    "recover",
    "segment_infos",
    "verify",
]
