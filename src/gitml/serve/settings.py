"""Limits and options of one model server: what ``gitml serve``'s flags set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.serve.ids import DEFAULT_KNOWN_IDS

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DEFAULT_HEADER_TIMEOUT_SECONDS",
    "DEFAULT_KEEP_ALIVE_SECONDS",
    "DEFAULT_KNOWN_IDS",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_HEADER_BYTES",
    "ServeSettings",
]

# 10 MiB holds a 10,000-record batch of the example model (about 400 bytes a record in
# JSON) with room to spare; bigger uploads are a mistake or an attack.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_BATCH = 10_000
DEFAULT_TIMEOUT_SECONDS = 30.0
# Open connections one process holds at most. Each is a file descriptor, so the
# effective limit is also kept below the process's open-file limit (``ulimit -n``,
# see :mod:`gitml.serve.connections`): a connection past it is never accepted into a
# failing ``accept()``. A thousand is far more than one model process scores at once.
DEFAULT_MAX_CONNECTIONS = 1000
# uvicorn's own default: an idle keep-alive connection is closed after 5 s. Behind a
# load balancer, its idle timeout should be the shorter of the two.
DEFAULT_KEEP_ALIVE_SECONDS = 5.0
# From a connection's opening (or its previous response) to the end of a request's
# headers: a client on any real network sends a request head in milliseconds, so ten
# seconds only ever cuts off a connection that sends nothing, or drips its headers.
DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
# The largest request line plus headers (h11's default): more is a 400. The model server
# needs a few hundred bytes of headers.
MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class ServeSettings:
    """Limits and options of one server.

    ``predict_threads`` caps the OpenMP threads one prediction may use (None leaves the
    runtime's default): concurrent requests already use every core, and a
    single-record prediction spends longer starting OpenMP threads than scoring.

    ``fast_path`` lets small requests be scored by the compiled scorer
    (:mod:`gitml.serve.fastpath`) when it is proven identical for the served model;
    False scores every request with the model's own ``predict_proba``.

    ``known_ids`` is how many of the latest predictions ``POST /feedback`` can match a
    label to (their ids, versions and roles are kept in memory; older ids are unknown).

    ``log_path`` is the prediction log's file, its ``{host}`` already replaced
    (:func:`~gitml.serve.prediction_log.log_path_for_host`, as ``gitml serve`` does).

    ``max_connections``, ``keep_alive_seconds`` and ``header_timeout_seconds`` bound the
    connections (:mod:`gitml.serve.connections`): at the limit a new connection replaces
    the oldest one that has no request in progress, or is closed when every connection
    is busy; a connection that has not sent a whole request head within
    ``header_timeout_seconds`` of opening (or of its previous response) is closed.
    """

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch: int = DEFAULT_MAX_BATCH
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    log_path: Path | None = None
    predict_threads: int | None = 1
    fast_path: bool = True
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    keep_alive_seconds: float = DEFAULT_KEEP_ALIVE_SECONDS
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    known_ids: int = DEFAULT_KNOWN_IDS

    def __post_init__(self) -> None:
        for name in (
            "max_body_bytes",
            "max_batch",
            "timeout_seconds",
            "max_connections",
            "keep_alive_seconds",
            "header_timeout_seconds",
            "known_ids",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.log_path is not None and "{host}" in str(self.log_path):
            # A file literally named "...{host}..." would be shared by every replica.
            raise ValueError(
                f"log_path {self.log_path} still holds {{host}}: replace it first "
                "(gitml.serve.prediction_log.log_path_for_host)"
            )
        if self.predict_threads is not None and self.predict_threads < 1:
            raise ValueError(f"predict_threads must be at least 1, got {self.predict_threads}")
