"""The endpoints: ``POST /predict``, ``POST /feedback``, ``GET /health``,
``GET /metadata``, ``GET /metrics``.

Each handler finds the app's parts on ``request.app.state`` (see
:func:`gitml.serve.app.create_app`): ``settings``, ``metrics``, ``deployment`` (with
``holder``, its stable version), ``prediction_ids``, ``shadow``, ``watcher``,
``prediction_log`` and ``feedback_log``. ``/predict`` is :mod:`gitml.serve.predict`,
``/feedback`` :mod:`gitml.serve.feedback`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gitml.serve.feedback import feedback
from gitml.serve.metrics import CONTENT_TYPE
from gitml.serve.predict import predict
from gitml.serve.responses import error, log_check

if TYPE_CHECKING:
    from starlette.requests import Request

    from gitml.serve.deployment import Deployment
    from gitml.serve.holder import ModelHolder
    from gitml.serve.metrics import ServeMetrics
    from gitml.serve.watcher import RegistryWatcher

__all__ = ["ROUTES"]


def _versions(deployment: Deployment) -> list[dict[str, Any]]:
    """Each loaded version: its role, identity and what it does now."""
    return [
        {
            "role": str(role),
            "model": served.model.name,
            "version": served.model.version,
            "md5": served.model.md5,
            "stage": served.model.stage,
            "ref": served.model.ref,
            "state": deployment.version_state(role, served),
        }
        for role, served in deployment.served()
    ]


async def _health(request: Request) -> Response:
    holder: ModelHolder = request.app.state.holder
    model = holder.current
    if model is None:
        if holder.error is not None:
            return JSONResponse({"status": "failed", "error": holder.error}, status_code=503)
        return JSONResponse({"status": "loading"}, status_code=503)
    deployment: Deployment = request.app.state.deployment
    body: dict[str, Any] = {
        "status": "ready",
        "model": model.name,
        "version": model.version,
        "md5": model.md5,
        "stage": model.stage,
        "versions": _versions(deployment),
        "routing": deployment.health(),
    }
    watcher: RegistryWatcher | None = request.app.state.watcher
    if watcher is not None:
        # Still ready (the old model answers) when a reload fails; this says so.
        body["reload"] = watcher.status()
    if (reason := await log_check(request.app.state.prediction_log)) is not None:
        # Predictions are refused while they cannot be logged: not ready.
        body.update(status="unavailable", error=reason)
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


async def _metadata(request: Request) -> Response:
    deployment: Deployment = request.app.state.deployment
    model = deployment.stable.current
    if model is None:
        return error(503, "no model loaded yet")
    body = model.describe()
    # The candidate too, when there is one: its card and signature, side by side.
    for role, served in deployment.served():
        if served.model is not model:
            body["candidate"] = {"role": str(role), **served.model.describe()}
    return JSONResponse(body)


async def _metrics(request: Request) -> Response:
    metrics: ServeMetrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE)


ROUTES = (
    Route("/predict", predict, methods=["POST"]),
    Route("/feedback", feedback, methods=["POST"]),
    Route("/health", _health, methods=["GET"]),
    Route("/metadata", _metadata, methods=["GET"]),
    Route("/metrics", _metrics, methods=["GET"]),
)
