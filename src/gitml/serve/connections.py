"""Connections of the model server: how many it holds, and how long one may say nothing.

uvicorn's HTTP/1.1 protocol closes a keep-alive connection left idle after a response,
but a connection that never sends a request, or sends its head a byte at a time, stays
open for ever, holding a file descriptor. Enough of them exhaust the process's
descriptors: ``accept()`` fails, health checks cannot connect, and the event loop logs
a traceback for every failed accept (thousands a second). uvicorn's
``limit_concurrency`` does not help: it is checked when a request arrives, so a
connection that sends none is never counted against it, and it answers a plain-text
503.

:class:`BoundedH11Protocol` is uvicorn's h11 protocol with two bounds:

* **a deadline for request heads**: a connection without a request in progress (just
  opened, or after a response) that has not sent a complete request line and headers
  within ``header_timeout`` is closed. An idle keep-alive connection is closed sooner,
  by uvicorn's own keep-alive timeout.
* **a connection limit**, kept below the open-file limit (:func:`connection_limit`): a
  connection past it replaces the oldest connection that has no request in progress
  (idle, or still sending its head), so a flood of silent connections cannot keep a
  real client, or a health check, out; when every connection has a request in
  progress, the new one is closed.

The limit is checked on connections the server has already accepted, which needs a
descriptor to do: :data:`FD_RESERVE` descriptors are left for that, and for the log,
the listening socket and the registry watcher's git processes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from gitml.serve.settings import (
    DEFAULT_HEADER_TIMEOUT_SECONDS,
    DEFAULT_KEEP_ALIVE_SECONDS,
    DEFAULT_MAX_CONNECTIONS,
)

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import asyncio

    from gitml.serve.settings import ServeSettings

__all__ = [
    "ACCEPT_BATCH",
    "FD_RESERVE",
    "BoundedH11Protocol",
    "connection_limit",
    "protocol_class",
    "raise_fd_limit",
]

logger = logging.getLogger("gitml.serve")

# asyncio accepts up to its ``backlog`` argument of connections each time the listening
# socket is ready, before any of them reaches the protocol (uvicorn's default: 2048,
# so an idle flood exhausted the descriptors in one go). This many at a time, the
# protocol's limit acts within a few batches.
ACCEPT_BATCH = 16
# Descriptors a server process uses besides its connections: standard streams, the
# event loop's selector and self-pipe, the listening socket, the prediction log, a git
# subprocess's pipes (about 10), and connections accepted but not yet seen by the
# protocol (a few accept batches).
FD_RESERVE = 64


def _fd_limits() -> tuple[int | None, int | None]:
    """The soft and hard open-file limits (None: unlimited or unknown)."""
    if resource is None:
        return None, None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    unlimited = resource.RLIM_INFINITY
    return (None if soft == unlimited else soft), (None if hard == unlimited else hard)


def raise_fd_limit(connections: int) -> None:
    """Raise this process's soft open-file limit to fit ``connections`` and the reserve,
    as far as the hard limit allows (what a server may do for itself, unprivileged)."""
    soft, hard = _fd_limits()
    wanted = connections + FD_RESERVE
    if resource is None or soft is None or soft >= wanted:
        return
    target = wanted if hard is None else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(
                resource.RLIMIT_NOFILE, (target, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
            )
        except (ValueError, OSError) as exc:  # a sandbox may refuse; the limit then stays
            logger.debug("cannot raise the open-file limit to %d: %s", target, exc)


def connection_limit(requested: int) -> int:
    """The connections a server may hold: ``requested``, or fewer when the open-file
    limit leaves less than that beside :data:`FD_RESERVE` (at least one)."""
    soft, _hard = _fd_limits()
    if soft is None:
        return requested
    return max(1, min(requested, soft - FD_RESERVE))


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head deadline and a connection limit.

    The bounds are class attributes; :func:`protocol_class` makes a subclass per server.
    """

    max_connections: int = DEFAULT_MAX_CONNECTIONS
    header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    keep_alive: float = DEFAULT_KEEP_ALIVE_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn's Config takes whole seconds; its protocol's timer takes any.
        self.timeout_keep_alive = self.keep_alive  # type: ignore[assignment]
        self._head_deadline: asyncio.TimerHandle | None = None
        self._opened = 0.0

    @property
    def busy(self) -> bool:
        """A request is in progress: its head arrived and its response is not complete."""
        return self.cycle is not None and not self.cycle.response_complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened = self.loop.time()
        self._arm_head_deadline()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()  # the next request's head is due in time too

    def _arm_head_deadline(self) -> None:
        self._cancel_head_deadline()
        self._head_deadline = self.loop.call_later(self.header_timeout, self._head_overdue)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_overdue(self) -> None:
        self._head_deadline = None
        # A request in progress is bounded by the app's own timeout; once its response
        # is complete the deadline is armed again.
        if not self.busy and not self.transport.is_closing():
            self.transport.close()

    def _make_room(self) -> None:
        """Over the limit: close the oldest connection without a request in progress,
        or this one when every other connection is busy."""
        open_ = [c for c in self.connections if not c.transport.is_closing()]
        if len(open_) <= self.max_connections:
            return  # the excess is connections already closing
        idle = [
            c for c in open_ if c is not self and isinstance(c, BoundedH11Protocol) and not c.busy
        ]
        if idle:
            min(idle, key=lambda c: c._opened).transport.close()
            what = "closed the oldest connection without a request in progress"
        else:
            self.transport.close()
            what = "every connection has a request in progress: refused a new one"
        logger.warning("connection limit of %d reached: %s", self.max_connections, what)


def protocol_class(settings: ServeSettings) -> type[BoundedH11Protocol]:
    """The protocol class of a server with ``settings``' connection bounds.

    The connection limit is :func:`connection_limit` of ``settings.max_connections``,
    with a warning when the open-file limit lowers it.
    """
    limit = connection_limit(settings.max_connections)
    if limit < settings.max_connections:
        soft, _hard = _fd_limits()
        logger.warning(
            "at most %d connections, not %d: the open-file limit is %s (ulimit -n), "
            "%d descriptors are kept for other files",
            limit,
            settings.max_connections,
            soft,
            FD_RESERVE,
        )
    attributes = {
        "max_connections": limit,
        "header_timeout": settings.header_timeout_seconds,
        "keep_alive": settings.keep_alive_seconds,
    }
    return type("GitmlH11Protocol", (BoundedH11Protocol,), attributes)
