"""The endpoints: ``POST /predict``, ``GET /health``, ``GET /metadata``, ``GET /metrics``.

Each handler finds the app's parts on ``request.app.state`` (see
:func:`gitml.serve.app.create_app`): ``settings``, ``metrics``, ``holder``, ``watcher``
and ``prediction_log``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gitml.serve.metrics import CONTENT_TYPE
from gitml.serve.prediction_log import PredictionLogError
from gitml.serve.records import BadRequest, InvalidRecords
from gitml.serve.scoring import TooLarge, score_body

if TYPE_CHECKING:
    from starlette.requests import Request

    from gitml.serve.holder import ModelHolder
    from gitml.serve.loaded import LoadedModel
    from gitml.serve.metrics import ServeMetrics
    from gitml.serve.prediction_log import PredictionLog
    from gitml.serve.records import ValidBatch
    from gitml.serve.settings import ServeSettings
    from gitml.serve.watcher import RegistryWatcher

__all__ = ["ROUTES"]

logger = logging.getLogger("gitml.serve")

_CSV_TYPES = ("text/csv", "application/csv")


def _error(status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _log_failing(reason: str) -> JSONResponse:
    """A 503 for a prediction that is not (or would not be) in the prediction log."""
    detail = f"{reason}; predictions are refused until it can be written"
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "1"})


async def _log_check(log: PredictionLog | None) -> str | None:
    """Why the prediction log cannot be written, or None (also when there is none)."""
    if log is None or log.error is None:
        return None
    return await run_in_threadpool(log.check)  # reopens the file: not on the event loop


async def _read_body(request: Request, limit: int) -> bytes:
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


def _count_batch(
    metrics: ServeMetrics,
    model: LoadedModel,
    batch: ValidBatch,
    scores: list[float],
    decisions: list[int],
    path: str,
) -> None:
    """Count what an answered request scored, and how."""
    for name, count in batch.out_of_range.items():
        metrics.out_of_range.labels(name).inc(count)
    for name, count in batch.unseen.items():
        metrics.unseen.labels(name).inc(count)
    metrics.records.labels(model.version or "").inc(batch.count)
    if batch.count:
        metrics.scoring.labels(path).inc()
    for score in scores:
        metrics.scores.observe(score)
    ones = sum(decisions)
    if ones:
        metrics.decisions.labels("1").inc(ones)
    if len(decisions) - ones:
        metrics.decisions.labels("0").inc(len(decisions) - ones)


async def _predict(request: Request) -> Response:
    state = request.app.state
    settings: ServeSettings = state.settings
    metrics: ServeMetrics = state.metrics
    holder: ModelHolder = state.holder
    # Read once: this request uses this model to the end, whatever a reload does.
    served = holder.served
    if served is None:
        return _error(503, "no model loaded yet")
    model, scorer = served.model, served.fast_path.scorer
    log: PredictionLog | None = state.prediction_log
    # While the log fails, refuse before scoring: the answer could not be logged.
    if (reason := await _log_check(log)) is not None:
        return _log_failing(reason)
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    is_csv = media in _CSV_TYPES
    if not (is_csv or media in ("", "application/json") or media.endswith("+json")):
        return _error(415, f"unsupported content type {media!r}: send application/json or text/csv")
    try:
        async with asyncio.timeout(settings.timeout_seconds):
            body = await _read_body(request, settings.max_body_bytes)
            # abandon_on_cancel: on timeout, stop waiting for the thread (it cannot be
            # interrupted) instead of holding the response until it finishes.
            batch, scores, path = await anyio.to_thread.run_sync(
                functools.partial(score_body, model, scorer, body, is_csv, settings),
                abandon_on_cancel=True,
            )
    except TimeoutError:
        # The worker thread cannot be interrupted; it finishes in the background and
        # its result is dropped (and not logged: the client never saw it).
        metrics.timeouts.inc()
        return _error(504, f"prediction did not finish within {settings.timeout_seconds:g} s")
    except TooLarge as exc:
        return _error(413, str(exc))
    except BadRequest as exc:
        return _error(400, [{"record": None, "field": None, "error": exc.message}])
    except InvalidRecords as exc:
        for problem in exc.errors:
            metrics.invalid.labels(problem.field or "").inc()
        return _error(422, exc.detail())
    except Exception as exc:
        # Not the client's input (that is a 4xx above) but a bug or a broken model:
        # logged with its traceback, answered in JSON like every other error.
        logger.exception("scoring a request failed")
        name = type(exc).__name__
        return _error(500, f"internal error while scoring ({name}); the server log has details")
    threshold = model.signature.threshold
    decisions = [int(score >= threshold) for score in scores]
    if log is not None and batch.count:
        try:
            await run_in_threadpool(log.write, model, batch, scores, decisions)
        except PredictionLogError as exc:
            metrics.log_errors.inc()
            return _log_failing(str(exc))
    _count_batch(metrics, model, batch, scores, decisions, path)
    return JSONResponse(
        {
            "model": model.name,
            "version": model.version,
            "predictions": [
                {"probability": score, "decision": decision}
                for score, decision in zip(scores, decisions, strict=True)
            ],
            "threshold": threshold,
        }
    )


async def _health(request: Request) -> Response:
    holder: ModelHolder = request.app.state.holder
    model = holder.current
    if model is None:
        if holder.error is not None:
            return JSONResponse({"status": "failed", "error": holder.error}, status_code=503)
        return JSONResponse({"status": "loading"}, status_code=503)
    body: dict[str, Any] = {
        "status": "ready",
        "model": model.name,
        "version": model.version,
        "md5": model.md5,
        "stage": model.stage,
    }
    watcher: RegistryWatcher | None = request.app.state.watcher
    if watcher is not None:
        # Still ready (the old model answers) when a reload fails; this says so.
        body["reload"] = watcher.status()
    if (reason := await _log_check(request.app.state.prediction_log)) is not None:
        # Predictions are refused while they cannot be logged: not ready.
        body.update(status="unavailable", error=reason)
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


async def _metadata(request: Request) -> Response:
    holder: ModelHolder = request.app.state.holder
    model = holder.current
    if model is None:
        return _error(503, "no model loaded yet")
    return JSONResponse(model.describe())


async def _metrics(request: Request) -> Response:
    metrics: ServeMetrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE)


ROUTES = (
    Route("/predict", _predict, methods=["POST"]),
    Route("/health", _health, methods=["GET"]),
    Route("/metadata", _metadata, methods=["GET"]),
    Route("/metrics", _metrics, methods=["GET"]),
)
