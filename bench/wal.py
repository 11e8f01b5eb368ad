"""WAL throughput: append N ``Bar`` records with the hash chain (fsync batch), then verify them.

    python bench/wal.py --json [--records N] [--repeat R]

Events are built before the clock starts (the kernel builds them anyway); the append time
includes closing the writer (final flush + fsync). Verify reads the files back from the page
cache, as ``scarline wal verify`` right after a run does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from scarline.argtypes import positive_int
from scarline.events import Bar
from scarline.journal import WalWriter, segment_infos, verify

RUN_ID = "bench-20240101-000000-wal"


def _bars(n: int) -> list[Bar]:
    return [
        Bar(
            run_id=RUN_ID,
            session_id="s0",
            instrument=i % 4,
            open=1_000_000 + i,
            high=1_000_250 + i,
            low=999_750 + i,
            close=1_000_100 + i,
            volume=10 * i,
        )
        for i in range(n)
    ]


def measure(records: int) -> dict[str, object]:
    bars = _bars(records)
    with tempfile.TemporaryDirectory(prefix="scarline-bench-wal-") as tmp:
        wal = Path(tmp) / "wal"
        start = time.perf_counter()
        with WalWriter(wal, RUN_ID, fsync="batch") as writer:
            append = writer.append
            for i, bar in enumerate(bars):
                append(bar, 60_000_000_000 * i)
        appended = time.perf_counter()
        report = verify(wal, RUN_ID)
        verified = time.perf_counter()
        if not report.ok or report.records != records or report.head != writer.head:
            raise SystemExit(f"verify disagrees with the writer: {report}")
        size = sum(info.bytes for info in segment_infos(wal))
    return {
        "append_records_per_s": round(records / (appended - start)),
        "verify_records_per_s": round(records / (verified - appended)),
        "records": records,
        "bytes": size,
        "fsync": "batch",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=positive_int, default=200_000)
    parser.add_argument(
        "--repeat", type=positive_int, default=3, help="runs; the median is reported"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    runs = [measure(args.records) for _ in range(args.repeat)]
    result = dict(runs[0], repeat=len(runs))
    for key in ("append_records_per_s", "verify_records_per_s"):
        result[key] = statistics.median(int(r[key]) for r in runs)  # type: ignore[call-overload]
    if args.json:
        print(json.dumps(result))
        return
    print(f"WAL bench: {result['records']:,} Bar records, {result['bytes']:,} bytes, fsync batch")
    print(f"  append + hash chain  {result['append_records_per_s']:>12,} records/s")
    print(f"  verify               {result['verify_records_per_s']:>12,} records/s")


if __name__ == "__main__":
    main()
