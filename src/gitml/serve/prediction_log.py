"""The prediction log: one JSON line per scored record, the input of ``gitml drift``."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gitml.serve.loaded import LoadedModel
    from gitml.serve.records import ValidBatch

__all__ = ["PredictionLog", "timestamp"]


def timestamp() -> str:
    """The current UTC time as the prediction log writes it (ISO 8601, ms, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PredictionLog:
    """Append-only JSON Lines file, one line per scored record.

    Each line is ``{"ts", "model", "version", "features", "score", "decision"}`` (the
    shape ``gitml drift`` reads). A request's lines go out in one ``write`` on a file
    opened with ``O_APPEND``, under a lock: lines of concurrent requests (or of several
    server processes sharing the file) never interleave, and nothing waits in a Python
    buffer when the process dies.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(
        self,
        model: LoadedModel,
        batch: ValidBatch,
        scores: Sequence[float],
        decisions: Sequence[int],
    ) -> None:
        """Append one line per record of ``batch``."""
        # One timestamp per request: the records of a batch arrived together.
        ts = timestamp()
        lines = [
            json.dumps(
                {
                    "ts": ts,
                    "model": model.name,
                    "version": model.version,
                    "features": batch.record(i),
                    "score": scores[i],
                    "decision": decisions[i],
                },
                separators=(",", ":"),
            )
            for i in range(batch.count)
        ]
        data = memoryview(("\n".join(lines) + "\n").encode("utf-8"))
        with self._lock:
            if self._fd is None:
                return  # closed at shutdown while a timed-out request still finished
            while data:
                written = os.write(self._fd, data)
                data = data[written:]

    def close(self) -> None:
        """Close the file; later writes are dropped."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
