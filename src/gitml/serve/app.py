"""The model server: a Starlette ASGI app around a stable :class:`LoadedModel`, and
optionally a candidate on canary or in shadow (:mod:`gitml.serve.deployment`).

Endpoints (:mod:`gitml.serve.routes`): ``POST /predict``, ``POST /feedback``,
``GET /health``, ``GET /metadata``, ``GET /metrics``.

Why Starlette and not FastAPI: requests are validated against the model's own
signature (:mod:`gitml.serve.records`), not a pydantic model, so FastAPI's main layer
would be unused weight on every request; Starlette is the part of FastAPI we need.

The served model sits behind a :class:`~gitml.serve.holder.ModelHolder`, an atomic
reference: a request reads it once and uses that model to the end, so a hot swap
(:class:`~gitml.serve.watcher.RegistryWatcher`) never changes the model under a
request in flight. Scoring runs in a worker thread (:mod:`gitml.serve.scoring`), so
the event loop keeps answering health checks and metrics while a large batch is scored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware

from gitml.errors import UsageError
from gitml.serve.deployment import Deployment, Mode, check_candidate
from gitml.serve.holder import ModelHolder
from gitml.serve.ids import PredictionIds
from gitml.serve.logbounds import TruncatingFilter
from gitml.serve.metrics import ServeMetrics
from gitml.serve.prediction_log import PredictionLog, feedback_path
from gitml.serve.routes import ROUTES
from gitml.serve.settings import ServeSettings
from gitml.serve.shadow import ShadowScorer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from gitml.serve.deployment import AnalysisStatus, LabelSink, Observer, Rollout
    from gitml.serve.loaded import LoadedModel
    from gitml.serve.routing import Splitter
    from gitml.serve.watcher import RegistryWatcher

__all__ = ["create_app"]

logger = logging.getLogger("gitml.serve")

ENDPOINTS = frozenset(route.path for route in ROUTES)


def _bound_server_log() -> None:
    """Cut long messages, arguments and tracebacks of the server's own logger wherever
    its records go (a host's handlers, pytest's): an error a model raises may quote
    a client's 10 MiB value."""
    if not any(isinstance(f, TruncatingFilter) for f in logger.filters):
        logger.addFilter(TruncatingFilter())


class _RequestMetrics:
    """ASGI middleware counting requests by endpoint and status, and timing them up to
    the last byte of the response (not the work a response does after it: the shadow's
    hand-over)."""

    def __init__(self, app: ASGIApp, metrics: ServeMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Unknown paths share one label, so scanners cannot blow up the series count.
        endpoint = scope["path"] if scope["path"] in ENDPOINTS else "other"
        status = 500  # what the client gets if the app raises before responding
        start = time.perf_counter()
        counted = False

        def count() -> None:
            nonlocal counted
            if not counted:
                counted = True
                self.metrics.requests.labels(endpoint, str(status)).inc()
                self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                count()

        try:
            with self.metrics.in_flight.track_inprogress():
                await self.app(scope, receive, send_status)
        finally:
            count()


def create_app(
    model: LoadedModel | None = None,
    *,
    settings: ServeSettings | None = None,
    loader: Callable[[], LoadedModel] | None = None,
    watcher: RegistryWatcher | None = None,
    candidate: LoadedModel | None = None,
    rollout: Rollout | None = None,
    observer: Observer | None = None,
    label_sink: LabelSink | None = None,
    split: Splitter | None = None,
    analysis_status: AnalysisStatus | None = None,
) -> Starlette:
    """The ASGI app serving ``model``, and ``candidate`` as ``rollout`` says (canary
    or shadow).

    Without ``model``, ``loader`` runs in a background thread at startup and
    ``/health`` answers 503 until it returns (or says why it failed); a candidate needs
    ``model`` itself. ``watcher`` polls the registry for a newly recorded stable version
    and swaps it in. A candidate that is ``model``'s own artefact, another model's, or
    one with another signature is refused
    (:class:`~gitml.serve.deployment.CanaryRefused`).

    ``observer`` and ``label_sink`` are the canary analysis' hooks, ``split`` its
    routing decision, ``analysis_status`` what it says in ``/health``
    (:class:`~gitml.serve.deployment.Deployment`).

    ``settings.log_path`` is opened here, and the feedback log beside it: a path that
    cannot be opened is a :class:`~gitml.serve.prediction_log.PredictionLogError`.

    ``app.state.holder`` (:class:`~gitml.serve.holder.ModelHolder`) is the stable model;
    wait on it to observe a reload. ``app.state.deployment`` routes between versions;
    ``app.state.metrics`` is the app's :class:`~gitml.serve.metrics.ServeMetrics`.
    """
    settings = settings or ServeSettings()
    _bound_server_log()
    if (candidate is None) != (rollout is None):
        raise UsageError("a candidate needs a rollout (canary or shadow), and vice versa")
    if candidate is not None:
        if model is None:
            raise UsageError("a candidate is served beside a stable model given up front")
        check_candidate(model, candidate)
    holder = ModelHolder(fast_path=settings.fast_path)
    if model is not None:
        holder.swap(model)
    candidate_holder = None
    if candidate is not None:
        candidate_holder = ModelHolder(fast_path=settings.fast_path)
        candidate_holder.swap(candidate)
    deployment = Deployment(
        holder,
        candidate_holder,
        rollout,
        observer=observer,
        label_sink=label_sink,
        split=split,
        status=analysis_status,
    )
    metrics = ServeMetrics(deployment)
    prediction_log = PredictionLog(settings.log_path) if settings.log_path else None
    feedback_log = PredictionLog(feedback_path(settings.log_path)) if settings.log_path else None
    shadow = (
        ShadowScorer(deployment, settings, metrics, prediction_log)
        if deployment.mode is Mode.SHADOW
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if loader is not None and holder.current is None:

            def load() -> None:
                try:
                    holder.swap(loader())
                except Exception as exc:  # reported by /health; the server stays up
                    logger.exception("loading the model failed")
                    holder.fail(f"{type(exc).__name__}: {exc}")

            threading.Thread(target=load, name="gitml-serve-load", daemon=True).start()
        stop = asyncio.Event()
        task = (
            asyncio.create_task(watcher.run(holder, metrics, stop)) if watcher is not None else None
        )
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # Requests have finished: what they handed on is done, then the logs close.
            if shadow is not None:
                await asyncio.to_thread(shadow.close)
            await asyncio.to_thread(deployment.close)
            for log in (prediction_log, feedback_log):
                if log is not None:
                    log.close()

    app = Starlette(
        routes=list(ROUTES),
        middleware=[Middleware(_RequestMetrics, metrics=metrics)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.holder = holder
    app.state.deployment = deployment
    app.state.prediction_ids = PredictionIds(settings.known_ids)
    app.state.shadow = shadow
    app.state.watcher = watcher
    app.state.prediction_log = prediction_log
    app.state.feedback_log = feedback_log
    return app
