"""The dashboard at ``/``: one HTML page, one script, one style sheet, all in the package.

No CDN and no build step: the page is plain HTML that asks for a token once (kept in the
tab's ``sessionStorage``, never in a cookie or on disk), reads the API with it, draws the
equity chart as SVG itself and follows the session over ``GET /events``. The files are public
because they hold no data: every figure on the page comes from an authenticated call. A
charting library (plotly's bundle is 4.8 MB) would cost more to ship than the ~100 lines of
SVG that draw a few polylines.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import Response

from scarline._version import __version__

ASSETS = {
    "/": ("dashboard.html", "text/html; charset=utf-8"),
    "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
}
DASHBOARD_PATHS = tuple(ASSETS)
"""Served without a token (they hold no data)."""
SECURITY_HEADERS = {
    # only this origin's script and style, no inline script, no framing: a page that holds a
    # token must not run or be embedded by anyone else's code
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def asset(name: str) -> bytes:
    text = resources.files("scarline.service").joinpath("static", name).read_text("utf-8")
    return text.replace("{{version}}", __version__).encode("utf-8")


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard's three files on ``app`` (outside the OpenAPI schema)."""
    for path, (name, media_type) in ASSETS.items():
        app.add_api_route(
            path, _endpoint(name, media_type), methods=["GET"], include_in_schema=False
        )


def _endpoint(name: str, media_type: str) -> Callable[[], Response]:
    """A route with no parameters at all: nothing a request sends can choose the file."""

    def serve() -> Response:
        return Response(asset(name), media_type=media_type, headers=SECURITY_HEADERS)

    return serve
