"""A wall-clock limit on each attempt of an API request: connect, send, status, headers, body.

Socket timeouts bound each read, not the answer: a server that sends one byte every few
seconds never trips them and holds a CI step for as long as it likes. So every attempt
(one connection's request and its whole answer) gets a deadline, kept by a watchdog
thread that shuts the attempt's socket down when the time is up. The read blocked on it
then fails at once, whatever phase it was in (TLS handshake, status line, headers, body),
and no further attempt starts: a server that slow is not having a blip.

The time urllib3 waits between attempts (:meth:`gitml.github.retry.GitHubRetry.sleep`,
itself bounded) belongs to no attempt, so a ``Retry-After`` wait never eats into one.

How it plugs in: :class:`DeadlineAdapter` makes urllib3 build its connections from
subclasses that report to the deadline of the calling thread (:func:`watch`) when they
connect and when they send a request. A connection used outside :func:`watch` behaves as
urllib3's own.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, cast

from requests.adapters import HTTPAdapter

if TYPE_CHECKING:
    from collections.abc import Iterator

    from urllib3 import PoolManager
    from urllib3.connection import HTTPConnection
    from urllib3.connectionpool import HTTPConnectionPool

    _ConnectionBase = HTTPConnection
else:
    _ConnectionBase = object

_local = threading.local()


class DeadlinePassed(Exception):
    """An attempt ran out of time. Not an OSError, so urllib3 neither wraps nor retries it."""


class Deadline:
    """The deadline of the attempts made inside one :func:`watch` block."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._changed = threading.Condition()
        self._connection: Any = None
        self._started: float | None = None
        self._finished = False

    def begin(self, connection: Any) -> None:
        """``connection`` is about to connect or send: an attempt starts, or goes on."""
        with self._changed:
            if self.expired:
                raise DeadlinePassed
            if self._started is None or self._connection is not connection:
                self._connection = connection
                self._started = time.monotonic()
                self._changed.notify()

    def check(self) -> None:
        """Raise :class:`DeadlinePassed` if the attempt ran out of time meanwhile."""
        if self.expired:
            raise DeadlinePassed

    def attempt_over(self) -> None:
        """The attempt is over: its answer is read, or urllib3 is about to wait, then try
        again. Nothing is cut off until the next one begins."""
        with self._changed:
            self._connection = None
            self._started = None
            self._changed.notify()

    def _finish(self) -> None:
        with self._changed:
            self._finished = True
            self._changed.notify()

    def _watch(self) -> None:
        with self._changed:
            while not self._finished:
                if self._started is None:
                    self._changed.wait()
                    continue
                left = self._started + self.seconds - time.monotonic()
                if left > 0:
                    self._changed.wait(left)
                    continue
                self.expired = True
                _shut_down(self._connection)
                return


@contextlib.contextmanager
def watch(seconds: float) -> Iterator[Deadline]:
    """Give every attempt made by this thread inside the block ``seconds`` in all."""
    deadline = Deadline(seconds)
    watchdog = threading.Thread(target=deadline._watch, name="gitml-github-deadline", daemon=True)
    outer = getattr(_local, "deadline", None)
    _local.deadline = deadline
    watchdog.start()
    try:
        yield deadline
    finally:
        _local.deadline = outer
        deadline._finish()
        watchdog.join()


def current() -> Deadline | None:
    """The deadline of the calling thread's :func:`watch` block, if any."""
    return cast("Deadline | None", getattr(_local, "deadline", None))


def _shut_down(connection: Any) -> None:
    """Make every read and write on ``connection``'s socket fail now.

    The TCP socket itself is shut down (for TLS, under the SSL object, which stays
    untouched so the reading thread only sees its input end).
    """
    sock = getattr(connection, "sock", None)
    if sock is not None and not isinstance(sock, socket.socket):
        sock = getattr(sock, "socket", None)  # urllib3's TLS-in-TLS transport (HTTPS proxy)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _ReportsToDeadline(_ConnectionBase):
    """A urllib3 connection that starts (or goes on with) the current attempt's clock."""

    def connect(self) -> None:
        deadline = current()
        if deadline is not None:
            deadline.begin(self)
        super().connect()
        if deadline is not None:
            deadline.check()

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline = current()
        if deadline is not None:
            deadline.begin(self)
        super().request(*args, **kwargs)
        if deadline is not None:
            deadline.check()


@functools.cache
def _reporting(pool_class: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
    """``pool_class`` whose connections report to the deadline (SOCKS pools included).

    The subclasses keep urllib3's names, which its error messages show."""
    base = pool_class.ConnectionCls
    connection = type(base.__name__, (_ReportsToDeadline, base), {})
    return type(pool_class.__name__, (pool_class,), {"ConnectionCls": connection})


def _make_pools_report(manager: PoolManager) -> PoolManager:
    manager.pool_classes_by_scheme = {
        scheme: _reporting(pool_class)
        for scheme, pool_class in manager.pool_classes_by_scheme.items()
    }
    return manager


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections, direct or through a proxy, keep the deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _make_pools_report(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        known = proxy in self.proxy_manager
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        return manager if known else _make_pools_report(manager)
