"""``scarline serve``: the operations API, read-only, over the finished runs in a directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scarline.cli.common import console, fail, print_json, require_dir, warn

if TYPE_CHECKING:
    from scarline.ops_config import ServiceConfig


def serve(
    runs: Annotated[
        Path, typer.Option("--runs", help="Directory of run directories, or one run directory.")
    ],
    host: Annotated[
        str | None, typer.Option(help="Bind address (default: \\[service] host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="TCP port (default: \\[service] port; 0: any free)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML config whose \\[service] section applies."),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(help="Policy ledger for /ledger (default: $SCARLINE_LEDGER or ./ledger)."),
    ] = None,
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Start, answer one /healthz request to itself, print it and exit."
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Print {"url", "runs", "read_only", …} as JSON.'),
    ] = False,
) -> None:
    """Serve the REST API, Prometheus metrics and live events over the runs in --runs.

    Read-only: GET /runs lists the runs; ?run=ID picks one (default: the newest) on /status,
    /agents, /decisions, /risk, /regimes, /lineage and /metrics; acting endpoints answer 409.
    OpenAPI at /docs. Every endpoint but /healthz needs `Authorization: Bearer <token>`: the
    read token ($SCARLINE_API_READ_TOKEN) or the operate token ($SCARLINE_API_TOKEN), or
    the token files of [service]. Binds 127.0.0.1 unless told otherwise, and refuses a
    non-loopback address without a token (exit 2). --once checks that it starts and answers.
    """
    require_dir(runs, "runs directory")
    settings = _settings(config)
    host = host or settings.host
    if port is None:  # --once: any free port unless one is asked for
        port = 0 if once else settings.port
    from scarline.service.app import create_app
    from scarline.service.auth import Auth
    from scarline.service.metrics import ServiceMetrics
    from scarline.service.server import Server
    from scarline.service.source import RunsSource

    auth = Auth.from_config(settings)
    ledger_dir = ledger if ledger is not None else _default_ledger()
    source = RunsSource(runs, ledger_dir)
    app = create_app(
        source,
        auth,
        ServiceMetrics(top_k=settings.top_k),
        read_only=True,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        cors_origins=settings.cors_origins,
    )
    server = Server(app, auth, host=host, port=port)
    info: dict[str, Any] = {
        "runs_dir": str(runs),
        "runs": len(source.runs()),
        "read_only": True,
        "keys": auth.key_ids,
    }
    if not auth.configured:
        warn("no API token configured: every endpoint but /healthz answers 401")
    if once:
        server.start()
        try:
            info |= {"url": server.url, "healthz": _get(f"{server.url}/healthz")}
        finally:
            server.stop()
        if as_json:
            print_json(info)
        else:
            console.print(f"served {server.url}: /healthz {info['healthz']}", markup=False)
        return
    server.bind()  # a taken port or unknown host is an error now, before "serving" is said
    info["url"] = server.url
    if as_json:
        print_json(info)
    else:
        console.print(f"serving {info['runs']} runs of {runs} on {info['url']} (docs: /docs)")
    server.run()


def _settings(config: Path | None) -> ServiceConfig:
    from scarline.ops_config import ServiceConfig

    if config is None:
        return ServiceConfig()
    from scarline.cli.common import require_file
    from scarline.config import load_config

    require_file(config, "config file")
    return load_config(config).service


def _default_ledger() -> Path:
    from scarline.ledger.store import default_ledger_dir

    return default_ledger_dir()


def _get(url: str) -> dict[str, Any]:
    import httpx

    try:
        response = httpx.get(url, timeout=10.0)
    except httpx.HTTPError as err:
        fail(f"{url}: no answer ({err})", 1)
    body: dict[str, Any] = {"status": response.status_code, "body": response.json()}
    if response.status_code != 200:
        fail(f"{url}: answered {response.status_code}", 1)
    return body
