"""Bounds on what the server writes: long strings cut with a marker, repeats counted.

A client controls much of what reaches a log (a category value, a URL path, the text
of an error a model raises on its input). Whatever it sends, a prediction-log value
is at most :data:`MAX_LOGGED_CHARS` characters plus a marker saying how much was cut,
and a server-log message, each of its arguments and each line of a traceback at most
:data:`MAX_LOG_ARG_CHARS`. The same message repeated (an error on every request, or
the event loop's complaint when it runs out of file descriptors) is written once per
:data:`THROTTLE_SECONDS`, the next one saying how many were left out.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

__all__ = [
    "MAX_LOGGED_CHARS",
    "MAX_LOG_ARG_CHARS",
    "THROTTLE_SECONDS",
    "ThrottlingFilter",
    "TruncatingFilter",
    "truncate",
    "truncate_strings",
]

# A prediction-log value: real categories are words; a value this long is a mistake or
# an attack, and its first 256 characters are enough to tell which.
MAX_LOGGED_CHARS = 256
# A server-log argument (an error message, a path, a URL): operational messages fit.
MAX_LOG_ARG_CHARS = 1024
# Tracebacks keep their first and last lines: where it started, and the error itself.
_TRACEBACK_HEAD_LINES = 10
_TRACEBACK_TAIL_LINES = 90
THROTTLE_SECONDS = 10.0
_THROTTLE_KEYS = 512  # distinct recent messages remembered; older ones are forgotten


def truncate(text: str, limit: int = MAX_LOGGED_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with a marker saying how many were cut.

    ``truncate("x" * 300) == "x" * 256 + "…[truncated 44 chars]"``
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[truncated {len(text) - limit} chars]"


def truncate_strings(value: Any, limit: int = MAX_LOGGED_CHARS) -> Any:
    """``value`` with every string in it (keys of dicts too) cut by :func:`truncate`."""
    if isinstance(value, str):
        return truncate(value, limit)
    if isinstance(value, dict):
        return {truncate_strings(k, limit): truncate_strings(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [truncate_strings(item, limit) for item in value]
    return value


def _bounded_traceback(text: str) -> str:
    lines = [truncate(line, MAX_LOG_ARG_CHARS) for line in text.splitlines()]
    keep = _TRACEBACK_HEAD_LINES + _TRACEBACK_TAIL_LINES
    if len(lines) > keep:
        dropped = len(lines) - keep
        lines = [
            *lines[:_TRACEBACK_HEAD_LINES],
            f"…[{dropped} traceback lines left out]",
            *lines[-_TRACEBACK_TAIL_LINES:],
        ]
    return "\n".join(lines)


class TruncatingFilter(logging.Filter):
    """Cuts a record's message, its string arguments and its traceback to a bound.

    Attached to a logger or a handler; it never drops a record.
    """

    def __init__(self, name: str = "", limit: int = MAX_LOG_ARG_CHARS):
        super().__init__(name)
        self.limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        # Once per record: a logger's filter and a handler's may both apply, and cutting
        # again would cut the marker of the first cut.
        if getattr(record, "gitml_bounded", False):
            return True
        record.gitml_bounded = True
        if not record.args:
            # A message without arguments may be anything: uvicorn logs some exceptions
            # as the message itself. A template with arguments is the code's own text.
            record.msg = truncate(str(record.msg), self.limit)
        elif isinstance(record.args, tuple):
            record.args = tuple(self._bounded(arg) for arg in record.args)
        elif isinstance(record.args, dict):  # logger.info("%(name)s", {"name": ...})
            record.args = {key: self._bounded(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Formatted once here; a formatter reuses exc_text instead of formatting again.
            record.exc_text = _bounded_traceback(
                logging.Formatter().formatException(record.exc_info)
            )
        elif record.exc_text:
            record.exc_text = _bounded_traceback(record.exc_text)
        return True

    def _bounded(self, arg: Any) -> Any:
        """A string argument cut; any other object whose text is too long, as its text cut."""
        if isinstance(arg, str):
            return truncate(arg, self.limit)
        if arg is None or isinstance(arg, int | float):
            return arg
        text = str(arg)
        return arg if len(text) <= self.limit else truncate(text, self.limit)


class ThrottlingFilter(logging.Filter):
    """Lets a message through once per ``seconds``; the next one says how many it left out.

    Messages are compared after formatting, by logger and level, so a message with other
    arguments (another error, another version) is a new message. Attached to a handler.
    """

    def __init__(self, name: str = "", seconds: float = THROTTLE_SECONDS):
        super().__init__(name)
        self.seconds = seconds
        self._lock = threading.Lock()
        # key -> [start of its window, records left out in it]
        self._seen: dict[tuple[str, int, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, record.getMessage())
        now = time.monotonic()
        with self._lock:
            entry = self._seen.get(key)
            if entry is not None and now - entry[0] < self.seconds:
                entry[1] += 1
                return False
            left_out = int(entry[1]) if entry is not None else 0
            self._seen.pop(key, None)
            self._seen[key] = [now, 0]
            while len(self._seen) > _THROTTLE_KEYS:
                del self._seen[next(iter(self._seen))]
        if left_out:
            record.msg = (
                f"{key[2]} [and {left_out} more like it in the previous {self.seconds:g} s]"
            )
            record.args = None
        return True
