"""Server-sent events of a session's snapshots (``GET /events``).

A browser's ``EventSource`` reconnects by itself; each event carries the step as its id. A
keep-alive comment every :data:`KEEPALIVE_SECONDS` keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec

from scarline.service.view import SessionView, Snapshot

KEEPALIVE_SECONDS = 15.0


def encode(snap: Snapshot) -> bytes:
    return b"event: snapshot\nid: %d\ndata: %s\n\n" % (snap.step, msgspec.json.encode(snap))


async def once(snap: Snapshot) -> AsyncIterator[bytes]:
    """A finished run: its one state."""
    yield encode(snap)


async def live(view: SessionView, limit: int | None) -> AsyncIterator[bytes]:
    """The current snapshot, then each one published, until ``limit`` events. Subscribing
    before reading the current one means a step in between is sent twice, never missed."""
    sub = view.subscribe()
    sent = 0
    try:
        first = view.current()
        if first is not None:
            yield encode(first)
            sent += 1
        while limit is None or sent < limit:
            try:
                snap = await asyncio.wait_for(sub.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            yield encode(snap)
            sent += 1
    finally:
        view.unsubscribe(sub)
