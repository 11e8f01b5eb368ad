"""What a request passes before an endpoint sees it: authentication, a body size cap, an
access log without secrets, and the per-key rate limit of acting endpoints.

Authentication is ASGI middleware, not a FastAPI dependency, because FastAPI parses a JSON
body before it runs dependencies: a stranger's malformed body would be told 422 (and parsed)
before being told 401. Here an unauthenticated request is answered 401 before any of it is
read. Roles (403), read-only (409) and rate limits (429) are per endpoint, in the app.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scarline.service.auth import Auth, Principal

MAX_BODY = 16 * 1024
"""Request bodies larger than this are refused (413) before they are parsed."""
PRINCIPAL = "principal"
"""The key of the authenticated :class:`Principal` in the request's ``state``."""

log = structlog.get_logger("scarline.service")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            text: str = value.decode("latin-1")
            return text
    return None


def bearer_token(scope: Scope, *, query_paths: Collection[str] = ()) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or (only on ``query_paths``) of the
    ``token`` query parameter."""
    header = _header(scope, b"authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None
    if scope.get("path") in query_paths:
        from urllib.parse import parse_qs

        query = scope.get("query_string", b"").decode("latin-1")
        values = parse_qs(query).get("token")
        return values[0] if values else None
    return None


class Authenticate:
    """Answers 401 (with ``WWW-Authenticate: Bearer``) unless the request carries a known
    token; ``public`` paths pass without one. The caller's :class:`Principal` is left in the
    request state under :data:`PRINCIPAL`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: Auth,
        public: Collection[str],
        query_token_paths: Collection[str] = (),
    ) -> None:
        self.app, self.auth = app, auth
        self.public, self.query_paths = frozenset(public), frozenset(query_token_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.public or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        principal = self.auth.authenticate(bearer_token(scope, query_paths=self.query_paths))
        if principal is None:
            detail = "a valid bearer token is required (Authorization: Bearer <token>)"
            response = JSONResponse(
                {"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[PRINCIPAL] = principal
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuses bodies over ``max_bytes`` with 413: at once when ``Content-Length`` says so,
    else as soon as the streamed body passes the cap (FastAPI turns the exception raised
    from ``receive`` into the response)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > self.max_bytes):
            status = 413 if length.strip().isdigit() else 400
            await self._refuse(scope, receive, send, status)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, f"request body over {self.max_bytes} bytes")
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except HTTPException as err:  # raised outside FastAPI's handlers
            if started or err.status_code != 413:
                raise
            await self._refuse(scope, receive, send, 413)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int) -> None:
        detail = (
            f"request body over {self.max_bytes} bytes"
            if status == 413
            else "bad Content-Length header"
        )
        await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)


class StatusWatch:
    """``send`` that keeps the response's status once it has started (0 before): what the
    guards below need to know of a response they pass on."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self.send(message)


class InternalErrors:
    """The last guard: an exception no handler answered becomes a JSON 500 and one log line
    (its type, message and where it was raised), never a traceback. Uvicorn would otherwise
    print the traceback and answer ``Internal Server Error`` as plain text. A streamed
    response that already started cannot change its status; it is cut short instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watch = StatusWatch(send)
        try:
            await self.app(scope, receive, watch)
        except Exception as err:
            frame = err.__traceback__
            while frame is not None and frame.tb_next is not None:
                frame = frame.tb_next
            where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame else "unknown"
            log.error(
                "service.internal_error",
                method=scope.get("method"),
                path=scope.get("path"),
                error=f"{type(err).__name__}: {err}",
                where=where,
            )
            if not watch.status:  # nothing sent yet: the 500 can still be the answer
                detail = f"internal error ({type(err).__name__}); the server log has more"
                await JSONResponse({"detail": detail}, status_code=500)(scope, receive, send)


class AccessLog:
    """One log line per request: method, path (never the query, which may hold a token),
    status, the caller's key id and the time taken."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        watch = StatusWatch(send)
        try:
            await self.app(scope, receive, watch)
        finally:
            principal: Any = scope.get("state", {}).get(PRINCIPAL)
            log.info(
                "service.request",
                method=scope["method"],
                path=scope["path"],
                status=watch.status,
                key_id=principal.key_id if isinstance(principal, Principal) else None,
                ms=round((time.perf_counter() - start) * 1e3, 3),
            )


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests in a burst, refilled evenly over a
    minute. :meth:`acquire` takes one or says how long to wait."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be >= 1, got {per_minute}")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """0 when ``key`` may go ahead (one request taken), else seconds until it may."""
        with self._lock:
            return self._acquire(key)

    def _acquire(self, key: str) -> float:
        now = self._clock()
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate
