"""Attribution coverage: the share of a diary's orders whose decision is explained (a regime
or router profile, a features hash and a reason)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scarline.diary.schema import COVERAGE_TARGET, DiaryError, MissingDiary
from scarline.events import REASONS


def attribution_line(orders: int, coverage: float | None) -> str:
    """``Attribution coverage: 97.3 % of 1,234 orders have regime + features + reason …``."""
    target = f"(target ≥ {COVERAGE_TARGET * 100:.0f} %)"
    if not orders:
        return f"Attribution coverage: no orders to attribute {target}"
    if coverage is None:
        return (
            f"Attribution coverage: not measured for {orders:,} orders — the run records no "
            "regime or router profile (regimes and router off)"
        )
    return (
        f"Attribution coverage: {coverage * 100:.1f} % of {orders:,} orders have "
        f"regime + features + reason {target}"
    )


def coverage_of(table: pa.Table) -> tuple[int, float | None]:
    """``(order rows, share of them attributed)``: an order row (one with an order intent)
    is attributed when it has a regime or a router profile, a features hash and a reason
    other than "unknown". None when nothing is to be measured: no orders, or a run that
    records no market context at all (regimes and router off: 0 % would be no finding)."""
    has_order = pc.is_valid(table.column("order_id"))
    orders = int(pc.sum(has_order).as_py() or 0)
    market = pc.or_(pc.is_valid(table.column("regime")), pc.is_valid(table.column("profile")))
    if not orders or not pc.any(market).as_py():
        return orders, None
    why = pc.and_(
        pc.is_valid(table.column("features_hash")),
        pc.not_equal(table.column("reason"), REASONS[0]),
    )
    good = int(pc.sum(pc.and_(has_order, pc.and_(market, why))).as_py() or 0)
    return orders, good / orders


def read_coverage(path: Path | str) -> tuple[int, float | None]:
    """:func:`coverage_of` a written ``diary.parquet`` (reads only the columns it needs)."""
    path = Path(path)
    if not path.is_file():
        raise MissingDiary(f"{path}: no diary file (build it with `scarline diary RUN --rebuild`)")
    columns = ["order_id", "regime", "profile", "features_hash", "reason"]
    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError) as err:
        raise DiaryError(f"{path}: not a readable diary ({err})") from None
    return coverage_of(table)
