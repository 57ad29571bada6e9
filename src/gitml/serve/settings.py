"""Limits and options of one model server: what ``gitml serve``'s flags set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT_SECONDS",
    "ServeSettings",
]

# 10 MiB holds a 10,000-record batch of the example model (about 400 bytes a record in
# JSON) with room to spare; bigger uploads are a mistake or an attack.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_BATCH = 10_000
DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ServeSettings:
    """Limits and options of one server.

    ``predict_threads`` caps the OpenMP threads one prediction may use (None leaves the
    runtime's default): concurrent requests already use every core, and a
    single-record prediction spends longer starting OpenMP threads than scoring.

    ``fast_path`` lets small requests be scored by the compiled scorer
    (:mod:`gitml.serve.fastpath`) when it is proven identical for the served model;
    False scores every request with the model's own ``predict_proba``.
    """

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch: int = DEFAULT_MAX_BATCH
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    log_path: Path | None = None
    predict_threads: int | None = 1
    fast_path: bool = True

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch", "timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.predict_threads is not None and self.predict_threads < 1:
            raise ValueError(f"predict_threads must be at least 1, got {self.predict_threads}")
