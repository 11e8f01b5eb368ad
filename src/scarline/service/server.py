"""Serving the app with uvicorn: in the foreground (``scarline serve``) or on a thread beside
a session (``scarline paper`` with ``[service] enabled``).

Uvicorn's access log is turned off: it writes request URLs, and ``/events?token=…`` carries
a token in its URL. :class:`~scarline.service.guards.AccessLog` logs requests instead,
without query strings. The bind is checked first (:func:`~scarline.service.auth.check_bind`).
"""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI

from scarline.service.auth import Auth, ServiceError, check_bind


class Server:
    """One uvicorn server for ``app`` on ``host:port`` (port 0: any free port)."""

    def __init__(self, app: FastAPI, auth: Auth, *, host: str = "127.0.0.1", port: int = 0) -> None:
        check_bind(host, auth)
        config = uvicorn.Config(
            app, host=host, port=port, access_log=False, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (once started)."""
        for server in getattr(self.server, "servers", []):
            for sock in server.sockets:
                port: int = sock.getsockname()[1]
                return port
        return int(self.server.config.port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C, SIGTERM)."""
        self.server.run()

    def start(self, timeout: float = 10.0) -> None:
        """Serve on a daemon thread; returns once listening (:class:`ServiceError` if it
        does not within ``timeout`` s, e.g. the port is taken)."""
        self._thread = threading.Thread(
            target=self.server.run, name="scarline-service", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServiceError(
                    f"the service did not start on {self.host}:{self.server.config.port}"
                )
            time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish and wait for its thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
