"""``POST /predict``: route the request to a version, score it, log it, answer it.

One JSON record, a batch (``{"records": [...]}`` or a JSON array) or CSV. The request is
routed when its body has been read (:meth:`~gitml.serve.deployment.Deployment.route`:
a canary's key may be a record field), then validated against the routed version's
signature and scored in a worker thread (:mod:`gitml.serve.scoring`), so the event loop
keeps answering health checks and metrics while a large batch is scored.

The answer::

    {"model": "credit", "version": "v0.2.0", "role": "candidate", "threshold": 0.25,
     "predictions": [{"id": "6650f2c1a3b4c5d6e7f8-41", "probability": 0.12, "decision": 0}]}

Every record gets an id (:mod:`gitml.serve.ids`), the key ``POST /feedback`` takes its
label by. In shadow mode the stable version answers, and the candidate scores the same
records once the answer is out (:mod:`gitml.serve.shadow`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from gitml.serve.deployment import Mode, Role
from gitml.serve.prediction_log import PredictionLogError
from gitml.serve.records import BadRequest, InvalidRecords
from gitml.serve.responses import error, log_check, log_failing, media_type, read_body
from gitml.serve.routing import field_key, header_key
from gitml.serve.scoring import TooLarge, parse_body, score_records

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.requests import Request

    from gitml.serve.deployment import Deployment, Routed
    from gitml.serve.ids import PredictionIds
    from gitml.serve.loaded import LoadedModel
    from gitml.serve.metrics import ServeMetrics
    from gitml.serve.prediction_log import PredictionLog
    from gitml.serve.records import ValidBatch
    from gitml.serve.settings import ServeSettings
    from gitml.serve.shadow import ShadowScorer

__all__ = ["predict"]

logger = logging.getLogger("gitml.serve")


class _NotLoaded(Exception):
    """No stable model when the request came to be routed."""


class _Ticket:
    """Where the worker thread leaves its routing decision: a request that times out or
    fails after routing is still the failure of the version it was routed to."""

    routed: Routed | None = None


def _route_and_score(
    deployment: Deployment,
    from_header: str | None,
    body: bytes,
    is_csv: bool,
    settings: ServeSettings,
    ticket: _Ticket,
) -> tuple[ValidBatch, list[float], str]:
    """Parse, route, validate and score (in a worker thread)."""
    records = parse_body(body, is_csv, settings)
    key, also_allowed = from_header, frozenset[str]()
    spec = deployment.key
    if spec is not None and spec.source == "field":
        key = field_key(spec, records)
        # The key names the caller (a customer id), not an input of the model: allowed in
        # the records, never validated, logged or scored.
        also_allowed = frozenset({spec.name})
    routed = deployment.route(key)
    if routed is None:
        raise _NotLoaded
    ticket.routed = routed
    served = routed.served
    return score_records(
        served.model,
        served.fast_path.scorer,
        records,
        is_csv,
        settings,
        also_allowed=also_allowed,
    )


def _count_batch(
    metrics: ServeMetrics,
    model: LoadedModel,
    role: str,
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
    histogram = metrics.scores.labels(role)
    for score in scores:
        histogram.observe(score)
    ones = sum(decisions)
    if ones:
        metrics.decisions.labels("1", role).inc(ones)
    if len(decisions) - ones:
        metrics.decisions.labels("0", role).inc(len(decisions) - ones)


def _version_failed(
    metrics: ServeMetrics,
    deployment: Deployment,
    ticket: _Ticket,
    start: float,
    outcome: str,
    detail: str,
) -> None:
    """Count and observe a request its version failed to answer (a 500 or a 504)."""
    routed = ticket.routed
    if routed is None:
        return  # it failed before routing: no version's doing
    model = routed.served.model
    latency = time.perf_counter() - start
    version = model.version or ""
    metrics.version_requests.labels(routed.role, version, outcome).inc()
    metrics.version_latency.labels(routed.role, version).observe(latency)
    deployment.observe(routed.role, model.version, [], latency, detail, [])


def _shadow_later(
    shadow: ShadowScorer, batch: ValidBatch, ids: Sequence[str]
) -> BackgroundTask | None:
    """Hand the answered batch to the shadow once the answer has been sent; counted as
    pending from now (None when the shadow is full and skips it)."""
    if not shadow.reserve():
        return None

    async def submit() -> None:
        shadow.submit(batch, ids, reserved=True)

    return BackgroundTask(submit)


async def predict(request: Request) -> Response:
    """``POST /predict`` (see the module docstring)."""
    state = request.app.state
    settings: ServeSettings = state.settings
    metrics: ServeMetrics = state.metrics
    deployment: Deployment = state.deployment
    if deployment.stable.served is None:
        return error(503, "no model loaded yet")
    log: PredictionLog | None = state.prediction_log
    # While the log fails, refuse before scoring: the answer could not be logged.
    if (reason := await log_check(log)) is not None:
        return log_failing(reason)
    media, is_csv, is_json = media_type(request)
    if not (is_csv or is_json):
        return error(415, f"unsupported content type {media!r}: send application/json or text/csv")
    start = time.perf_counter()
    from_header = header_key(deployment.key, request.headers)
    ticket = _Ticket()
    try:
        async with asyncio.timeout(settings.timeout_seconds):
            body = await read_body(request, settings.max_body_bytes)
            # abandon_on_cancel: on timeout, stop waiting for the thread (it cannot be
            # interrupted) instead of holding the response until it finishes.
            batch, scores, path = await anyio.to_thread.run_sync(
                functools.partial(
                    _route_and_score, deployment, from_header, body, is_csv, settings, ticket
                ),
                abandon_on_cancel=True,
            )
    except TimeoutError:
        # The worker thread cannot be interrupted; it finishes in the background and
        # its result is dropped (and not logged: the client never saw it).
        metrics.timeouts.inc()
        detail = f"prediction did not finish within {settings.timeout_seconds:g} s"
        _version_failed(metrics, deployment, ticket, start, "timeout", detail)
        return error(504, detail)
    except TooLarge as exc:
        return error(413, str(exc))
    except BadRequest as exc:
        return error(400, [{"record": None, "field": None, "error": exc.message}])
    except InvalidRecords as exc:
        for problem in exc.errors:
            metrics.invalid.labels(problem.field or "").inc()
        return error(422, exc.detail())
    except _NotLoaded:
        return error(503, "no model loaded yet")
    except Exception as exc:
        # Not the client's input (that is a 4xx above) but a bug or a broken model:
        # logged with its traceback, answered in JSON like every other error.
        logger.exception("scoring a request failed")
        name = type(exc).__name__
        _version_failed(metrics, deployment, ticket, start, "error", f"internal error ({name})")
        return error(500, f"internal error while scoring ({name}); the server log has details")
    routed = ticket.routed
    assert routed is not None  # set before scoring, which succeeded
    model, role = routed.served.model, routed.role
    threshold = model.signature.threshold
    decisions = [int(score >= threshold) for score in scores]
    ids: PredictionIds = state.prediction_ids
    prediction_ids = ids.issue(batch.count, model.version, role)
    if log is not None and batch.count:
        try:
            await run_in_threadpool(
                log.write, model, batch, scores, decisions, prediction_ids, role
            )
        except PredictionLogError as exc:
            metrics.log_errors.inc()
            return log_failing(str(exc))
    _count_batch(metrics, model, role, batch, scores, decisions, path)
    latency = time.perf_counter() - start
    metrics.version_requests.labels(role, model.version or "", "ok").inc()
    metrics.version_latency.labels(role, model.version or "").observe(latency)
    background = None
    if batch.count:
        deployment.observe(role, model.version, scores, latency, None, prediction_ids)
        shadow: ShadowScorer | None = state.shadow
        if shadow is not None and role is Role.STABLE and deployment.mode is Mode.SHADOW:
            background = _shadow_later(shadow, batch, prediction_ids)
    body_out: dict[str, Any] = {
        "model": model.name,
        "version": model.version,
        "role": str(role),
        "predictions": [
            {"id": prediction_id, "probability": score, "decision": decision}
            for prediction_id, score, decision in zip(
                prediction_ids, scores, decisions, strict=True
            )
        ],
        "threshold": threshold,
    }
    return JSONResponse(body_out, background=background)
