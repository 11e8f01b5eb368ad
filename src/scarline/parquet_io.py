"""Parquet files whose bytes are a function of their table alone, written atomically.

Run artifacts (``lineage.parquet``, ``diary.parquet``) are bound into the run manifest by
sha256, so the same table must give the same bytes on every write: fixed compression and
encoding options, no page index or checksums, no timestamps; a temp file renamed into place,
so a crash leaves no half file.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from scarline.safe_write import replacing


def write_parquet_atomic(table: pa.Table, path: Path | str, row_group_size: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as out:  # never written through a link planted at NAME.tmp
        pq.write_table(
            table,
            out,
            row_group_size=row_group_size,
            compression="zstd",
            compression_level=3,
            use_dictionary=True,
            write_statistics=True,
            store_schema=True,
            write_page_index=False,
            write_page_checksum=False,
        )
    return path
