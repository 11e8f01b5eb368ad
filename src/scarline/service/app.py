"""The operations API (FastAPI): read a session or a finished run, and act on a session.

Reads come from the :class:`~scarline.service.source.Source`: the live snapshot, the WAL and
the run's files, through the app's :class:`~scarline.service.run_cache.RunCache` (what was
derived from a file is kept until the file changes; a WAL is read on from where the last
request stopped), so a poll costs what changed, not the run's whole history. Acts never
touch the kernel: ``POST /kill`` and ``POST /flags`` queue requests on the
:class:`~scarline.service.view.SessionView`, which the session takes once per bar and
journals (a kill with source ``api`` and the caller's key id). Every endpoint but
``/healthz`` (and the OpenAPI pages) needs a bearer token (see :mod:`.guards`); bad input is
always a 4xx naming what was wrong, never a 500.

``GET /events`` also takes the token as ``?token=``: a browser's ``EventSource`` cannot set
headers. The trade-off: a URL can end up in browser history or a proxy's log, so the read
token (not the operate token) is the one a dashboard should use there; this app's own access
log never records query strings.
"""

from __future__ import annotations

import math
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol

import msgspec
import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from scarline._version import __version__
from scarline.equity_file import read_equity
from scarline.errors import ScarlineError
from scarline.rundir import RunDir
from scarline.service import runs as run_files
from scarline.service.auth import Auth, Principal
from scarline.service.dashboard import DASHBOARD_PATHS, mount_dashboard
from scarline.service.equity import chart_series
from scarline.service.guards import (
    PRINCIPAL,
    AccessLog,
    Authenticate,
    BodyLimit,
    InternalErrors,
    RateLimiter,
)
from scarline.service.metrics import ServiceMetrics
from scarline.service.run_cache import RunCache
from scarline.service.run_snapshot import snapshot_of_run
from scarline.service.source import RUN_ID, Source, UnknownRun
from scarline.service.sse import live, once
from scarline.service.stamps import Lru, StampedCache, StampedValue
from scarline.service.view import RUNTIME_FLAGS, Snapshot

PUBLIC = ("/healthz", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc", *DASHBOARD_PATHS)
"""Paths served without a token."""
ALERT_ID = r"^[A-Za-z0-9_-]{1,64}$"
ALERTS_FILE = "alerts.jsonl"
"""A session's alert journal in its run directory (see :mod:`.alert_book`)."""
SNAPSHOTS_KEPT = 16
"""Finished runs whose snapshot (and Prometheus text) is cached (the most recently read)."""
EQUITY_KEPT = 8
"""``/equity`` answers of finished runs cached (the most recently read)."""
EQUITY_VALUES_KEPT = 100_000
"""An ``/equity`` answer of more values than this is not cached (it would hold megabytes)."""
STALE_BARS = 3
"""``/healthz`` answers 503 when the last step is older than this many bars."""


class Alerts(Protocol):
    """The alerts engine as the API sees it (``scarline.service.alerts`` provides one)."""

    def list(self) -> list[dict[str, Any]]: ...

    def ack(self, alert_id: str, key_id: str) -> bool:
        """Acknowledge alert ``alert_id``; False when there is no such alert."""
        ...


class MsgspecJSON(JSONResponse):
    """JSON via msgspec: NaN and infinities become null instead of failing the response."""

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder the text around them: a reason is shown in chat alerts and the
dashboard, where they could make it read as something else."""


class KillBody(Body):
    reason: str = Field(min_length=1, max_length=200, description="why, for the journal")

    @field_validator("reason")
    @classmethod
    def _legible(cls, value: str) -> str:
        # the reason is journaled (the audit trail of who stopped trading and why) and sent
        # to chat: blank, or holding control characters, it says nothing or hides something
        if not value.strip():
            raise ValueError("say why (the reason is blank)")
        if any(unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS for ch in value):
            raise ValueError("one line of text: no control or bidirectional characters")
        return value


class FlagsBody(Body):
    """Runtime-safe flags to change (see ``scarline.service.view.RUNTIME_FLAGS``); at least
    one. Any other key is refused (422 naming it)."""

    freeze_exploration: StrictBool | None = Field(
        default=None, description="true: no exploratory actions from the next bar on"
    )

    @field_validator("freeze_exploration")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        # an explicit null would otherwise be queued as false: a request to widen what
        # agents may do that nobody asked for
        if value is None:
            raise ValueError("give true or false (null is not a value for a flag)")
        return value

    @model_validator(mode="after")
    def _some(self) -> FlagsBody:
        if not self.model_fields_set:
            raise ValueError(f"name at least one flag ({', '.join(RUNTIME_FLAGS)})")
        return self


bearer = HTTPBearer(auto_error=False, description="the read or operate token")


def _principal(
    request: Request, _: HTTPAuthorizationCredentials | None = Security(bearer)
) -> Principal:
    principal = request.scope.get("state", {}).get(PRINCIPAL)
    if not isinstance(principal, Principal):  # only public paths lack one
        raise HTTPException(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    return principal


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _known_query(request: Request) -> None:
    """Unknown query parameters are an error (422 naming them), not silently ignored; but
    not on the dashboard's files, which take none and read none: a link or bookmark with a
    tracking or cache-busting parameter must still open the page."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.path in DASHBOARD_PATHS:
        return
    allowed = _query_names(route.dependant)
    unknown = [k for k in request.query_params if k not in allowed]
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", k), "msg": "unknown query parameter"}
                for k in unknown
            ]
        )


def _operator(request: Request, who: Annotated[Principal, Depends(_principal)]) -> Principal:
    """The caller, if it may act now: operate role (403), a live app (409), under its rate
    limit (429 with Retry-After)."""
    if not who.can_operate:
        raise HTTPException(403, "this key may only read (use the operate token)")
    if request.app.state.read_only:
        raise HTTPException(409, "read-only: this server shows finished runs")
    wait = request.app.state.limiter.acquire(who.key_id)
    if wait > 0:
        retry = str(max(1, math.ceil(wait)))
        raise HTTPException(429, "too many requests: slow down", {"Retry-After": retry})
    return who


Reader = Annotated[Principal, Depends(_principal)]
Operator = Annotated[Principal, Depends(_operator)]
RunParam = Annotated[
    str | None,
    Query(pattern=RUN_ID.pattern, max_length=128, description="run id (default: the newest)"),
]
Limit = Annotated[int, Query(ge=1, le=run_files.MAX_LIMIT, description="rows at most")]


def create_app(
    source: Source,
    auth: Auth,
    metrics: ServiceMetrics,
    *,
    read_only: bool,
    rate_limit_per_minute: int = 60,
    alerts: Alerts | None = None,
    cors_origins: list[str] | tuple[str, ...] = (),
    now_ns: Callable[[], int] = time.time_ns,
    accept_flags: bool = False,
) -> FastAPI:
    """The app over ``source``. ``read_only`` refuses acts (409): ``scarline serve`` over
    finished runs. ``alerts`` is the alerts engine (None: ``/alerts`` is empty).
    ``accept_flags``: queue ``POST /flags`` for the session, which journals each change as an
    ``OperatorFlag`` at its next bar and applies it (a paper session turns it on). Off (501)
    where nothing would apply them: an accepted change with no effect would lie."""
    app = FastAPI(
        title="scarline",
        version=__version__,
        summary="Operations API of a scarline session or of finished runs",
        default_response_class=MsgspecJSON,
        dependencies=[Depends(_known_query)],
    )
    app.state.read_only = read_only
    app.state.limiter = RateLimiter(rate_limit_per_minute)
    # what is derived from runs' files, kept while the files hold (see .run_cache); bounded:
    # a scraper walking every run of a big directory must not keep every population in memory
    cache = RunCache()
    app.state.run_cache = cache
    snapshots: Lru[Path, StampedValue[Snapshot]] = Lru(SNAPSHOTS_KEPT)
    app.state.snapshots = snapshots
    rendered: Lru[Path, tuple[Snapshot, bytes]] = Lru(SNAPSHOTS_KEPT)  # /metrics of a run
    charts: StampedCache[tuple[Path, int, int], dict[str, Any]] = StampedCache(
        EQUITY_KEPT, time.time_ns
    )

    app.add_middleware(BodyLimit)
    app.add_middleware(Authenticate, auth=auth, public=PUBLIC, query_token_paths=("/events",))
    app.add_middleware(InternalErrors)  # inside the access log, which then logs the 500
    app.add_middleware(AccessLog)
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> Response:
        # each error names its field (loc); the offending input is not echoed back (it may
        # be large, not JSON-encodable like 1e999, or something the caller should not resend)
        errors = [{k: v for k, v in e.items() if k != "input"} for e in err.errors()]
        return MsgspecJSON({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(UnknownRun)
    async def _unknown_run(_: Request, err: UnknownRun) -> Response:
        return MsgspecJSON({"detail": str(err)}, status_code=404)

    @app.exception_handler(ScarlineError)
    async def _unreadable(_: Request, err: ScarlineError) -> Response:
        # the run's or ledger's files cannot be read (torn, tampered): not the caller's fault
        return MsgspecJSON({"detail": str(err)}, status_code=503)

    def snapshot(run: str | None) -> Snapshot:
        view = source.view()
        if view is not None:
            source.run_dir(run)  # an id other than the session's is 404
            snap = view.current()
            if snap is None:
                raise HTTPException(503, "the session has not finished a step yet")
            return snap
        return run_snapshot(source.run_dir(run))

    def run_snapshot(run_dir: Path) -> Snapshot:
        """A finished run's snapshot, rebuilt when a file it reads (or its WAL) changed."""
        files = cache.run(run_dir)
        stamps, version = files.snapshot_key()
        kept = snapshots.get(run_dir)
        if kept is not None and kept.holds(stamps, version):
            return kept.value
        read_at = time.time_ns()
        snap = snapshot_of_run(files)
        snapshots.put(run_dir, StampedValue(stamps, read_at, snap, version))
        return snap

    mount_dashboard(app)

    @app.get("/healthz", tags=["read"])
    def healthz() -> Response:
        """200 while the session steps (or for finished runs); 503 before its first step or
        when its heartbeat is older than 3 bars."""
        view = source.view()
        if view is None:
            return MsgspecJSON({"status": "ok", "mode": "runs"})
        snap = view.current()
        if snap is None:
            return MsgspecJSON({"status": "starting"}, status_code=503)
        age = max(0.0, (now_ns() - snap.wall_ns) / 1e9)
        stale = snap.bar_seconds > 0 and age > STALE_BARS * snap.bar_seconds
        body = {"status": "stale" if stale else "ok", "step": snap.step, "age_seconds": age}
        return MsgspecJSON(body, status_code=503 if stale else 200)

    @app.get("/runs", tags=["read"])
    def list_runs(_: Reader) -> dict[str, Any]:
        """The runs served, newest first."""
        return {"runs": [r.to_json() for r in source.runs()], "live": source.view() is not None}

    @app.get("/status", tags=["read"])
    def status(_: Reader, run: RunParam = None) -> dict[str, Any]:
        """Run id, profile, step, last bar time, ladder, kill and feed state, policies and
        their stages, stage latencies (p50/p99/p99.9, seconds)."""
        snap = snapshot(run)
        body = snap.to_json()
        body.pop("agents", None)
        body["read_only"] = read_only
        body["live"] = source.view() is not None
        return body

    @app.get("/agents", tags=["read"])
    def agents(_: Reader, run: RunParam = None) -> dict[str, Any]:
        """Each agent: equity, position (lots per instrument), return, Sharpe, drawdown,
        trust, scars, alive."""
        snap = snapshot(run)
        rows = [msgspec.to_builtins(a) for a in snap.agents]
        return {"step": snap.step, "instruments": snap.instruments, "agents": rows}

    @app.get("/decisions", tags=["read"])
    def decisions(
        _: Reader,
        run: RunParam = None,
        agent: Annotated[int | None, Query(ge=0, le=2**62, description="one agent's cells")] = None,
        since: Annotated[int | None, Query(ge=0, le=2**62, description="from this step")] = None,
        limit: Limit = 100,
        cursor: Annotated[
            int | None, Query(ge=0, le=2**62, description="`next` of the previous page")
        ] = None,
    ) -> dict[str, Any]:
        """Decisions from the WAL, oldest first, paginated: pass `next` back as `cursor`.

        Each item names the WAL record (`seq`) that holds it: a backtest's quiet-run record
        holds up to 32 decisions, all listed under its seq, on one page (which may then
        exceed `limit`, when they are more)."""
        return cache.decisions(
            source.run_dir(run), agent=agent, since=since, limit=limit, cursor=cursor
        )

    @app.get("/risk", tags=["read"])
    def risk(_: Reader, run: RunParam = None, limit: Limit = 200) -> dict[str, Any]:
        """The last non-pass risk checks, ladder transitions and rejects; triggers by rule."""
        return cache.risk(source.run_dir(run), limit=limit)

    @app.get("/regimes", tags=["read"])
    def regimes(_: Reader, run: RunParam = None, limit: Limit = 200) -> dict[str, Any]:
        """The last regime changes."""
        return cache.regimes(source.run_dir(run), limit=limit)

    @app.get("/lineage", tags=["read"])
    def lineage(_: Reader, run: RunParam = None, limit: Limit = 200) -> dict[str, Any]:
        """The run's family tree (an evolving run), last rows."""
        return cache.lineage(source.run_dir(run), limit=limit)

    @app.get("/ledger", tags=["read"])
    def ledger(_: Reader, limit: Limit = 100) -> dict[str, Any]:
        """The policy ledger: current policy per stage, each policy's stage, last records."""
        return run_files.ledger(source.ledger_dir(), limit=limit)

    @app.get("/alerts", tags=["read"])
    def list_alerts(_: Reader, run: RunParam = None) -> dict[str, Any]:
        """Alerts raised, newest last: the session's, or a finished run's ``alerts.jsonl``
        (checked against its hash chain; 503 when it does not verify)."""
        run_dir = source.run_dir(run)  # an unknown id is 404, as on every read
        if alerts is not None:
            return {"alerts": alerts.list()}
        return {"alerts": cache.alerts(run_dir / ALERTS_FILE, _journaled_alerts)}

    @app.get("/whoami", tags=["read"])
    def whoami(who: Reader) -> dict[str, Any]:
        """The caller's role and key id (the dashboard shows acts only to the operate role)."""
        return {"role": who.role, "key_id": who.key_id, "read_only": read_only}

    @app.get("/equity", tags=["read"])
    def equity(
        _: Reader,
        run: RunParam = None,
        top: Annotated[int, Query(ge=0, le=100, description="best agents drawn")] = 10,
        points: Annotated[int, Query(ge=2, le=10_000, description="points per curve")] = 1000,
    ) -> dict[str, Any]:
        """Equity curves: buy-and-hold, placebos and the ``top`` other agents by last equity
        (a session's thinned history; a run's ``equity.parquet``)."""
        snap = snapshot(run)
        kinds = {a.id: a.kind for a in snap.agents}
        labels = {a.id: f"{a.id} {a.policy}" for a in snap.agents}
        view = source.view()
        if view is not None:
            ts, ids, values = view.equity_history()
            return chart_series(ts, ids, values, kinds, top=top, points=points, labels=labels)
        path = source.run_dir(run) / RunDir.EQUITY
        if not path.is_file():
            return {"ts": [], "series": [], "agents_total": len(kinds), "note": "no equity.parquet"}

        def chart() -> dict[str, Any]:
            stamps, curves = read_equity(path)
            ids = list(curves)
            matrix = (
                np.column_stack([curves[a] for a in ids]) if ids else np.zeros((len(stamps), 0))
            )
            return chart_series(stamps, ids, matrix, kinds, top=top, points=points, labels=labels)

        # the chart's kinds and labels come from the snapshot: a new one draws it again
        return charts.get((path, top, points), (path,), chart, extra=snap, keep=_small_chart)

    @app.get("/metrics", tags=["read"])
    def prometheus(_: Reader, run: RunParam = None) -> Response:
        """Prometheus text exposition (``scarline_*``)."""
        if source.view() is None:  # a finished run's text, kept while its snapshot holds
            run_dir = source.run_dir(run)
            snap = run_snapshot(run_dir)
            kept = rendered.get(run_dir)
            if kept is None or kept[0] is not snap:
                fresh = ServiceMetrics(top_k=metrics.top_k)
                fresh.update(snap)
                kept = (snap, fresh.render())
                rendered.put(run_dir, kept)
            return Response(kept[1], media_type=CONTENT_TYPE_LATEST)
        try:
            metrics.update(snapshot(run))
        except HTTPException as err:
            if err.status_code != 503:  # no step yet: serve what there is
                raise
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/kill", tags=["act"], status_code=202)
    def kill(body: KillBody, who: Operator) -> dict[str, Any]:
        """Fire the kill switch: the session flattens and halts within one bar and journals
        it with source ``api`` and the caller's key id."""
        view = source.view()
        if view is None:
            raise HTTPException(409, "no running session to kill")
        view.request_kill(body.reason, who.key_id)
        return {"accepted": True, "reason": body.reason, "key_id": who.key_id}

    @app.post("/flags", tags=["act"], status_code=202)
    def flags(body: FlagsBody, who: Operator) -> dict[str, Any]:
        """Change runtime-safe flags (journaled by the session from the next bar)."""
        view = source.view()
        if view is None:
            raise HTTPException(409, "no running session")
        if not accept_flags:
            raise HTTPException(501, "this server's session does not apply runtime flags")
        changed = body.model_dump(exclude_unset=True)
        for name, value in changed.items():
            view.set_flag(name, value, who.key_id)
        return {"accepted": changed, "key_id": who.key_id}

    @app.post("/alerts/{alert_id}/ack", tags=["act"])
    def ack(
        alert_id: Annotated[str, PathParam(pattern=ALERT_ID, max_length=64)], who: Operator
    ) -> dict[str, Any]:
        """Acknowledge an alert."""
        if alerts is None or not alerts.ack(alert_id, who.key_id):
            raise HTTPException(404, f"no alert {alert_id!r}")
        return {"acked": alert_id, "key_id": who.key_id}

    @app.get("/events", tags=["read"])
    async def events(
        _: Reader,
        run: RunParam = None,
        token: Annotated[
            str | None,
            Query(max_length=512, description="the token, for EventSource (no headers)"),
        ] = None,
        limit: Annotated[
            int | None, Query(ge=1, le=1_000_000, description="close after this many events")
        ] = None,
    ) -> StreamingResponse:
        """Server-sent events: a ``snapshot`` event per step (the current one first)."""
        view = source.view()
        if view is None:
            stream = once(snapshot(run))
        else:
            source.run_dir(run)  # an id other than the session's is 404
            stream = live(view, limit)
        return StreamingResponse(
            stream,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return app


def _journaled_alerts(path: Path) -> list[dict[str, Any]]:
    """The alerts a finished run journaled (its acks applied), read without writing."""
    from scarline.service.alert_book import AlertBook, AlertJournalError

    try:
        book = AlertBook(path, read_only=True)
    except AlertJournalError as err:
        raise HTTPException(503, str(err)) from None
    except OSError as err:
        raise HTTPException(503, f"{path}: cannot be read ({err.strerror or err})") from None
    return [msgspec.to_builtins(a) for a in book.list()]


def _small_chart(body: dict[str, Any]) -> bool:
    """Whether an ``/equity`` answer is small enough to keep."""
    values = sum(len(s["values"]) for s in body["series"]) + len(body["ts"])
    return values <= EQUITY_VALUES_KEPT
