"""Handing what the server saw to the canary analysis, off the request path, in order.

The analysis (its observer and label sink) runs in one thread of its own, fed by a
queue: a request pays for a queue put, never for the analysis, and a window that closes
(a performance estimate over thousands of scores) delays no answer. One thread also
means the analysis sees one event at a time, in the order the server produced them: a
prediction's observation always comes before the label that a client sent for it after
reading the answer.

The queue is bounded: when the analysis falls :data:`MAX_PENDING` events behind, new
events are dropped and counted (:attr:`EventDelivery.dropped`) rather than letting memory
grow without limit; the analysis then works on a sample, and ``/health`` says so.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["MAX_PENDING", "EventDelivery"]

logger = logging.getLogger("gitml.serve")

# Events waiting for the analysis: at 1,000 requests a second, ten seconds behind.
MAX_PENDING = 10_000


class EventDelivery:
    """Runs queued calls one at a time in a daemon thread, started on the first call."""

    def __init__(self, name: str = "gitml-serve-analysis", max_pending: int = MAX_PENDING):
        self.name = name
        self.max_pending = max_pending
        self.dropped = 0
        self.failed = 0
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, call: Callable[[], None]) -> bool:
        """Queue ``call``; False (and counted as dropped) when the queue is full or closed."""
        with self._lock:
            if self._closed or self._pending >= self.max_pending:
                self.dropped += 1
                return False
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._queue.put(call)
        return True

    def _run(self) -> None:
        while (call := self._queue.get()) is not None:
            try:
                call()
            except Exception:
                # The analysis failing must never stop serving, nor the next event.
                self.failed += 1
                logger.exception("the canary analysis failed on an event")
            finally:
                with self._idle:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued call has run; False after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Run what is queued (up to ``timeout`` seconds), then end the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
