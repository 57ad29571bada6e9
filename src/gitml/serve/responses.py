"""What every endpoint that takes a body shares: bounded reading, JSON errors, the
state of a log it must write before answering."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from gitml.serve.scoring import TooLarge

if TYPE_CHECKING:
    from starlette.requests import Request

    from gitml.serve.prediction_log import PredictionLog

__all__ = ["CSV_TYPES", "error", "log_check", "log_failing", "media_type", "read_body"]

CSV_TYPES = ("text/csv", "application/csv")


def error(status: int, detail: Any) -> JSONResponse:
    """``{"detail": ...}`` with ``status``."""
    return JSONResponse({"detail": detail}, status_code=status)


def log_failing(reason: str, what: str = "predictions") -> JSONResponse:
    """A 503 for a request whose record is not (or would not be) in its log."""
    detail = f"{reason}; {what} are refused until it can be written"
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "1"})


async def log_check(log: PredictionLog | None) -> str | None:
    """Why the log cannot be written, or None (also when there is none)."""
    if log is None or log.error is None:
        return None
    return await run_in_threadpool(log.check)  # reopens the file: not on the event loop


def media_type(request: Request) -> tuple[str, bool, bool]:
    """The request's media type, whether it is CSV, and whether it is JSON (or none)."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    is_json = media in ("", "application/json") or media.endswith("+json")
    return media, media in CSV_TYPES, is_json


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body of {int(declared)} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    # Chunked uploads declare no length: count while reading, stop at the limit.
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
