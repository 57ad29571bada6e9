"""The prediction log: one JSON line per scored record, the input of ``gitml drift``.

A request's lines are written whole or not at all. When a write fails (a full disk,
a file-size limit, an I/O error) the bytes it did write are cut off again, so the file
never ends in half a record, and the log is *failing*: the server answers 503 to
predictions (an unlogged prediction would be missing from every drift check) and
``/health`` says why, until :meth:`PredictionLog.check` finds the file writable again.

The feedback log beside it (:func:`feedback_path`, the labels of ``POST /feedback``) is
the same kind of file, written by the same class (:meth:`PredictionLog.write_entries`).

Replicas sharing one volume each keep their own log: ``{host}`` in the path becomes the
host name (:func:`log_path_for_host`), which in a Kubernetes pod is the pod's name, so
``/var/log/gitml/predictions-{host}.jsonl`` gives every pod its file (and its feedback
log beside it), and ``gitml drift --data /var/log/gitml/`` reads them all as one batch.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import socket
import stat
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import GitmlError
from gitml.serve.logbounds import truncate_strings

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from gitml.serve.loaded import LoadedModel
    from gitml.serve.records import ValidBatch

__all__ = [
    "HOST_PLACEHOLDER",
    "PredictionLog",
    "PredictionLogError",
    "feedback_path",
    "log_path_for_host",
    "timestamp",
]

logger = logging.getLogger("gitml.serve")

# A failing log is checked again at most this often (by /health or /predict).
CHECK_SECONDS = 1.0
# A log on a regular file counts as writable again once its filesystem has this much
# free space: room for a large batch's lines, so the server does not flap between
# ready and failing on the last few kilobytes.
FREE_BYTES_NEEDED = 4 * 1024 * 1024
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
# Replaced by the host name in a log path: one file per replica on a shared volume.
HOST_PLACEHOLDER = "{host}"
# A host name that can be one part of a file name as it is: no separator, no leading dot
# (no ``..``, no hidden file), nothing a shell or a glob would read specially. Kubernetes
# pod names (RFC 1123 labels, at most 63 characters) and DNS names (253) fit.
_SAFE_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")


class PredictionLogError(GitmlError):
    """The prediction log cannot be opened (at start-up) or written."""


def timestamp() -> str:
    """The current UTC time as the prediction log writes it (ISO 8601, ms, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def feedback_path(log_path: Path) -> Path:
    """Where the labels of ``/feedback`` go beside the prediction log:
    ``predictions.jsonl`` -> ``predictions.feedback.jsonl``."""
    suffix = log_path.suffix or ".jsonl"
    stem = log_path.stem if log_path.suffix else log_path.name
    return log_path.with_name(f"{stem}.feedback{suffix}")


def log_path_for_host(path: Path | str, host: str | None = None) -> Path:
    """``path`` with every ``{host}`` replaced by ``host`` (default: this machine's host
    name, ``socket.gethostname()``, a Kubernetes pod's name); ``path`` itself without one.

    A host name that could not be a file name component as it is (a separator, a leading
    dot, a space, more than 253 characters) raises :class:`PredictionLogError`.
    """
    text = str(path)
    if HOST_PLACEHOLDER not in text:
        return Path(text)
    name = socket.gethostname() if host is None else host
    if not _SAFE_HOST.fullmatch(name):
        raise PredictionLogError(
            f"prediction log {text}: the host name {name!r} cannot stand for {HOST_PLACEHOLDER} "
            "(expected letters, digits, '.', '-' or '_', not starting with '.', '-' or '_', "
            "at most 253 characters)"
        )
    return Path(text.replace(HOST_PLACEHOLDER, name))


def _describe(path: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return f"cannot write the prediction log {path}: {reason} (errno {exc.errno})"


class PredictionLog:
    """Append-only JSON Lines file, one line per scored record.

    Each line is ``{"ts", "id", "model", "version", "role", "features", "score",
    "decision"}`` (the shape ``gitml drift`` reads; ``role`` is ``stable``, ``candidate``
    or ``shadow``, :mod:`gitml.serve.deployment`); a string value longer than
    :data:`~gitml.serve.logbounds.MAX_LOGGED_CHARS` is cut, with a marker. A request's
    lines go out in one ``write`` on a file opened with ``O_APPEND``, under a lock:
    lines of concurrent requests (or of several server processes sharing the file)
    never interleave, and nothing waits in a Python buffer when the process dies.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = os.open(self.path, _FLAGS, 0o644)
        except OSError as exc:
            raise PredictionLogError(_describe(self.path, exc)) from None
        self._lock = threading.Lock()
        self._error: str | None = None
        self._next_check = 0.0

    @property
    def error(self) -> str | None:
        """Why the log cannot be written (None while it can)."""
        return self._error

    def write(
        self,
        model: LoadedModel,
        batch: ValidBatch,
        scores: Sequence[float],
        decisions: Sequence[int],
        ids: Sequence[str] | None = None,
        role: str = "stable",
    ) -> None:
        """Append one line per record of ``batch``, all or none of them.

        ``ids`` are the records' prediction ids, ``role`` how ``model`` took part
        (``stable``, ``candidate`` or ``shadow``: scored, not answered). Raises
        :class:`PredictionLogError` (and the log is failing) when they cannot be
        written; nothing of them is left in the file then.
        """
        # One timestamp per request: the records of a batch arrived together.
        ts = timestamp()
        self.write_entries(
            [
                {
                    "ts": ts,
                    "id": ids[i] if ids is not None else None,
                    "model": model.name,
                    "version": model.version,
                    "role": role,
                    "features": truncate_strings(batch.record(i)),
                    "score": scores[i],
                    "decision": decisions[i],
                }
                for i in range(batch.count)
            ]
        )

    def write_entries(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append one JSON line per entry, all or none of them (see :meth:`write`)."""
        if not entries:
            return
        lines = [json.dumps(entry, separators=(",", ":")) for entry in entries]
        data = ("\n".join(lines) + "\n").encode("utf-8")
        with self._lock:
            if self._fd is None:
                return  # closed at shutdown while a timed-out request still finished
            if self._error is not None:
                raise PredictionLogError(self._error)
            try:
                self._append(self._fd, data)
            except OSError as exc:
                self._fail(_describe(self.path, exc))
                raise PredictionLogError(self._error or "") from None

    def _append(self, fd: int, data: bytes) -> None:
        """Write ``data`` at the end; on failure, cut off what of it was written."""
        info = os.fstat(fd)
        regular = stat.S_ISREG(info.st_mode)
        start = info.st_size
        view = memoryview(data)
        written = 0
        try:
            while written < len(data):
                count = os.write(fd, view[written:])
                if count == 0:
                    raise OSError(errno.EIO, "the write made no progress")
                written += count
        except OSError:
            if written and regular:
                self._cut(fd, start, written)
            raise

    def _cut(self, fd: int, start: int, written: int) -> None:
        """Remove the ``written`` bytes of a failed write that began at ``start``.

        Only when the file is exactly that long: a longer file means another process
        appended meanwhile, whose lines must stay (the torn line then stays too, and
        the server log says where).
        """
        try:
            if os.fstat(fd).st_size == start + written:
                os.ftruncate(fd, start)
                return
        except OSError:
            pass
        logger.error(
            "the prediction log %s holds an incomplete line at byte %d: remove it before "
            "reading the log",
            self.path,
            start,
        )

    def _fail(self, reason: str) -> None:
        """Enter the failing state (lock held); said once in the server log."""
        if self._error is None:
            logger.error("%s; predictions are refused until it can be written", reason)
        self._error = reason
        self._next_check = time.monotonic() + CHECK_SECONDS

    def check(self) -> str | None:
        """None when the log can be written; otherwise why not (blocking: a thread).

        A failing log is reopened (so a replaced or recreated file is found) and
        checked at most every :data:`CHECK_SECONDS`: a regular file needs
        :data:`FREE_BYTES_NEEDED` free on its filesystem; anything else (a device, a
        pipe) takes an empty line, which ``gitml drift`` skips.
        """
        with self._lock:
            if self._error is None or self._fd is None:
                return None
            if time.monotonic() < self._next_check:
                return self._error
            try:
                fd = os.open(self.path, _FLAGS, 0o644)
            except OSError as exc:
                self._fail(_describe(self.path, exc))
                return self._error
            try:
                self._probe(fd)
            except OSError as exc:
                os.close(fd)
                self._fail(_describe(self.path, exc))
                return self._error
            os.close(self._fd)
            self._fd = fd
            self._error = None
            logger.info("the prediction log %s can be written again", self.path)
            return None

    def _probe(self, fd: int) -> None:
        """Raise OSError unless ``fd`` looks writable (see :meth:`check`)."""
        if stat.S_ISREG(os.fstat(fd).st_mode):
            fs = os.fstatvfs(fd)
            free = fs.f_bavail * fs.f_frsize
            if free < FREE_BYTES_NEEDED:
                raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)}: {free} bytes free")
        else:
            os.write(fd, b"\n")

    def close(self) -> None:
        """Close the file; later writes are dropped."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
