"""A loopback HTTP server that stands in for Telegram, Discord, Slack or a webhook in tests.

It records every request (method, path, JSON body) and can be told to answer the first
``fail_first`` requests with ``fail_status`` (500 by default), to exercise retries. It binds
127.0.0.1 on a free port: tests never reach the internet.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Caught:
    method: str
    path: str
    body: Any
    status: int


class AlertCatcher:
    """``with AlertCatcher() as catcher: ... catcher.url ... catcher.wait_for(3)``."""

    def __init__(self, *, fail_first: int = 0, fail_status: int = 500) -> None:
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.requests: list[Caught] = []
        self._cond = threading.Condition()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with catcher._cond:
                    failing = len(catcher.requests) < catcher.fail_first
                    status = catcher.fail_status if failing else 200
                    catcher.requests.append(Caught("POST", self.path, body, status))
                    catcher._cond.notify_all()
                reply = b'{"ok": false}' if failing else b'{"ok": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def ok(self) -> list[Caught]:
        """The requests answered 200."""
        with self._cond:
            return [r for r in self.requests if r.status == 200]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Caught]:
        """All requests once there are at least ``count`` (the time-out only bounds a broken
        test; nothing asserts on time)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def __enter__(self) -> AlertCatcher:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)
