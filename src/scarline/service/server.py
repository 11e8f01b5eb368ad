"""Serving the app with uvicorn: in the foreground (``scarline serve``) or on a thread beside
a session (``scarline paper`` with ``[service] enabled``).

Uvicorn's access log is turned off: it writes request URLs, and ``/events?token=…`` carries
a token in its URL. :class:`~scarline.service.guards.AccessLog` logs requests instead,
without query strings. The bind is checked first (:func:`~scarline.service.auth.check_bind`),
then the sockets are bound here, before uvicorn runs: a taken port or an unknown host is a
:class:`ServiceError` saying why (uvicorn would log it and ``sys.exit``), and the URL printed
is the one actually listening (port 0 resolved).
"""

from __future__ import annotations

import socket
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
        self._sockets: list[socket.socket] = []
        self._port = port

    def bind(self) -> None:
        """Bind the listening sockets now (once); :class:`ServiceError` naming the reason."""
        if not self._sockets:
            self._sockets = _listen(self.host, int(self.server.config.port))
            self._port = int(self._sockets[0].getsockname()[1])

    @property
    def port(self) -> int:
        """The bound port (once bound; still known after :meth:`stop` closed the sockets)."""
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C, SIGTERM)."""
        self.bind()
        self.server.run(sockets=self._sockets)

    def start(self, timeout: float = 10.0) -> None:
        """Serve on a daemon thread; returns once listening (:class:`ServiceError` if the
        address cannot be bound, or the server does not start within ``timeout`` s)."""
        self.bind()
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": self._sockets},
            name="scarline-service",
            daemon=True,
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


def _listen(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to every address of ``host`` (``localhost`` may be two), on one port
    (port 0: the first address picks it, the others take the same). Not yet listening:
    uvicorn's loop does that."""
    name = host.strip("[]")
    where = f"{host}:{port}"
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise ServiceError(f"cannot listen on {where}: {reason}") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
    except OSError as err:
        for sock in sockets:
            sock.close()
        raise ServiceError(f"cannot listen on {where}: {err.strerror or err}") from None
    return sockets
