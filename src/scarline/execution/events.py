"""Batches → their one-record-per-step WAL events (built only when a batch is non-empty)."""

from __future__ import annotations

from scarline.events import Array, Fills, Orders, Rejects
from scarline.execution.types import REJECT_REASONS, FillBatch, OrderBatch, RejectBatch
from scarline.session import SessionIds


def orders_event(ids: SessionIds, decision_id: str, step: int, o: OrderBatch) -> Orders:
    return Orders(
        run_id=ids.run_id,
        session_id=ids.session_id,
        decision_id=decision_id,
        step=step,
        order_id=Array.of(o.order_id),
        agent=Array.of(o.agent),
        instrument=Array.of(o.instrument),
        side=Array.of(o.side),
        qty=Array.of(o.qty),
        order_type=Array.of(o.order_type),
        limit_price=Array.of(o.limit_price),
    )


def fills_event(ids: SessionIds, step: int, f: FillBatch) -> Fills:
    return Fills(
        run_id=ids.run_id,
        session_id=ids.session_id,
        step=step,
        order_id=Array.of(f.order_id),
        agent=Array.of(f.agent),
        instrument=Array.of(f.instrument),
        side=Array.of(f.side),
        qty=Array.of(f.qty),
        price=Array.of(f.price),
        ref_price=Array.of(f.ref_price),
        fee=Array.of(f.fee),
        slippage=Array.of(f.slippage),
        maker=Array.of(f.maker),
    )


def rejects_event(ids: SessionIds, step: int, r: RejectBatch) -> Rejects:
    return Rejects(
        run_id=ids.run_id,
        session_id=ids.session_id,
        step=step,
        order_id=Array.of(r.order_id),
        agent=Array.of(r.agent),
        qty=Array.of(r.qty),
        reason=Array.of(r.reason),
        reasons=list(REJECT_REASONS),
    )
