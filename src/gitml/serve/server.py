"""The uvicorn server of a gitml app: its socket, its configuration, its log.

:func:`listen_socket` binds the address first (a port in use is a one-line
:class:`ServeError` naming it, exit code 1), :func:`app_server` makes the uvicorn server
with the connection bounds of :mod:`gitml.serve.connections`, :func:`configure_logging`
sets up the bounded server log (:mod:`gitml.serve.logbounds`), and :func:`run_server`
runs it until SIGINT/SIGTERM. :func:`gitml.serve.run.serve` puts them together.
"""

from __future__ import annotations

import copy
import errno
import logging
import logging.config
import math
import signal
import socket
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import uvicorn

from gitml.errors import GitmlError
from gitml.serve.connections import ACCEPT_BATCH, protocol_class
from gitml.serve.settings import MAX_HEADER_BYTES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

    from starlette.types import ASGIApp

    from gitml.serve.settings import ServeSettings

__all__ = [
    "DEFAULT_GRACEFUL_SECONDS",
    "GitmlServer",
    "ServeError",
    "app_server",
    "configure_logging",
    "listen_socket",
    "run_server",
    "server_config",
]

DEFAULT_GRACEFUL_SECONDS = 30.0
# Connections the kernel queues for the server to accept (uvicorn's default).
LISTEN_BACKLOG = 2048


class ServeError(GitmlError):
    """The server cannot start: its address is taken or invalid, or uvicorn gave up."""


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: any free port), not yet listening.

    Bound the way uvicorn binds for its workers (``SO_REUSEADDR``, IPv6 when the host
    is an IPv6 address); uvicorn starts listening on it once the app has started, so
    until then a client is refused rather than left waiting. A port in use, an address
    not on this machine or a port below 1024 without the privilege is a
    :class:`ServeError` naming the address.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY)
    # only on connections whose socket says TCP, and a response's head and body go out
    # as two writes; with Nagle on, the body waits for the client's delayed ACK of the
    # head, 40 ms on Linux, on every response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            reason += " (another process listens there: stop it or choose another --port)"
        raise ServeError(f"cannot listen on {_address(host, port)}: {reason}") from None
    return sock


def server_config(
    app: ASGIApp,
    settings: ServeSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    access_log: bool = True,
    graceful_seconds: float = DEFAULT_GRACEFUL_SECONDS,
    log_config: dict[str, Any] | None = None,
) -> uvicorn.Config:
    """uvicorn's configuration for ``app``, with ``settings``' connection bounds.

    ``log_config`` None leaves logging as it is (``gitml serve`` configures it itself,
    before the model loads).
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=log_config,
        log_level=log_level,
        access_log=access_log,
        server_header=False,
        timeout_graceful_shutdown=int(graceful_seconds),
        http=protocol_class(settings),
        # The protocol keeps the exact value; uvicorn's Config takes whole seconds.
        timeout_keep_alive=max(1, math.ceil(settings.keep_alive_seconds)),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        backlog=ACCEPT_BATCH,
    )


class GitmlServer(uvicorn.Server):
    """A uvicorn server on a socket bound by :func:`listen_socket`.

    It names its address when it listens (uvicorn only does so for a socket it binds
    itself), in uvicorn's own words. The event loop accepts at most
    :data:`~gitml.serve.connections.ACCEPT_BATCH` connections before the protocol sees
    them (``backlog`` in uvicorn's Config, which the loop also passes to ``listen``):
    once listening, the socket's queue is set back to :data:`LISTEN_BACKLOG`.
    """

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        if sockets is None:
            sockets = [listen_socket(self.config.host, self.config.port)]
        await super().serve(sockets=sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if sockets is not None and self.started:
            for sock in sockets:
                sock.listen(LISTEN_BACKLOG)
                host, port = sock.getsockname()[:2]
                url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
                logging.getLogger("uvicorn.error").info(
                    "Uvicorn running on %s (Press CTRL+C to quit)", url
                )


def app_server(
    app: ASGIApp,
    settings: ServeSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    access_log: bool = True,
    graceful_seconds: float = DEFAULT_GRACEFUL_SECONDS,
) -> uvicorn.Server:
    """A uvicorn server for ``app`` as ``gitml serve`` runs one, not yet running: run it
    with :func:`run_server` on a socket from :func:`listen_socket`."""
    config = server_config(
        app,
        settings,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        graceful_seconds=graceful_seconds,
    )
    return GitmlServer(config)


def configure_logging(log_level: str = "info") -> None:
    """The server log of ``gitml serve``: uvicorn's format, bounded (see :func:`_log_config`)."""
    logging.config.dictConfig(_log_config(log_level))


def _log_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging, with gitml's server messages (reloads, failed reloads, scoring
    errors) on the same stream and in the same format as uvicorn's own.

    Every message is bounded (:class:`~gitml.serve.logbounds.TruncatingFilter`), and the
    same message repeated is written once per ten seconds
    (:class:`~gitml.serve.logbounds.ThrottlingFilter`), the event loop's own included:
    it logs a traceback for every ``accept()`` that fails for lack of descriptors.
    """
    from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {
        "truncate": {"()": "gitml.serve.logbounds.TruncatingFilter"},
        "throttle": {"()": "gitml.serve.logbounds.ThrottlingFilter"},
    }
    config["handlers"]["default"]["filters"] = ["truncate", "throttle"]
    config["handlers"]["access"]["filters"] = ["truncate"]
    config["loggers"]["gitml"] = {
        "handlers": ["default"],
        "level": LOG_LEVELS.get(log_level, logging.INFO),
        "propagate": False,
    }
    config["loggers"]["asyncio"] = {
        "handlers": ["default"],
        "level": logging.WARNING,
        "propagate": False,
    }
    return config


def run_server(server: uvicorn.Server, sock: socket.socket) -> None:
    """Run ``server`` on the bound ``sock`` until SIGINT/SIGTERM (see :func:`serve`).

    uvicorn ending the process at start-up (its exit code 3, which gitml uses for a
    failed gate) is a :class:`ServeError`, exit code 1. (A prediction log reaching a
    file-size limit fails its write with EFBIG, not SIGXFSZ: Python ignores that
    signal.)
    """
    with _sigterm_stops(server):
        try:
            server.run(sockets=[sock])
        except SystemExit as exc:
            if exc.code in (None, 0):
                raise
            raise ServeError(
                f"the server stopped while starting (uvicorn exit code {exc.code}); "
                "its log above says why"
            ) from None


@contextmanager
def _sigterm_stops(server: uvicorn.Server) -> Iterator[None]:
    """While ``server`` runs, SIGTERM asks it to stop; after the graceful shutdown the
    process exits normally (code 0).

    uvicorn installs its own handlers while it serves, and once it has shut down it
    raises the signal again for whatever handler was there before: with the default
    one, SIGTERM would kill the process after the clean shutdown (exit -15, 143 in a
    shell), which supervisors report as a failure. This handler is the one it finds;
    installed before uvicorn's, it also covers a SIGTERM that arrives just before.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread handles signals (uvicorn installs none either)
        return

    def stop(_signum: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
