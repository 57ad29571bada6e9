"""The model server: a Starlette ASGI app around one :class:`LoadedModel` at a time.

Endpoints: ``POST /predict``, ``GET /health``, ``GET /metadata``, ``GET /metrics``.

Why Starlette and not FastAPI: requests are validated against the model's own
signature (:mod:`gitml.serve.records`), not a pydantic model, so FastAPI's main layer
would be unused weight on every request; Starlette is the part of FastAPI we need.

The served model sits behind :class:`ModelHolder`, an atomic reference: a request reads
it once and uses that model to the end, so a hot swap (:class:`RegistryWatcher`) never
changes the model under a request in flight. Scoring runs in a worker thread, so the
event loop keeps answering health checks and metrics while a large batch is scored.

Small requests are scored by the model's fast scorer (:mod:`gitml.serve.fastpath`),
compiled when the model is swapped in and proven there to give bit-identical
probabilities; larger batches, and models it does not cover, take ``predict_proba``
on a DataFrame.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gitml.registry.fetch import resolve_artifact
from gitml.serve.fastpath import FastScorer, compile_scorer
from gitml.serve.loaded import load_resolved
from gitml.serve.metrics import CONTENT_TYPE, ServeMetrics
from gitml.serve.records import (
    BadRequest,
    FieldError,
    InvalidRecords,
    ValidBatch,
    build_frame,
    parse_csv,
    parse_json,
    validate_records,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence

    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from gitml.serve.loaded import LoadedModel

    # Called as listener(old, new) after each swap.
    SwapListener = Callable[[LoadedModel | None, LoadedModel], None]

__all__ = [
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT_SECONDS",
    "ModelHolder",
    "PredictionLog",
    "RegistryWatcher",
    "ServeSettings",
    "create_app",
]

logger = logging.getLogger("gitml.serve")

# 10 MiB holds a 10,000-record batch of the example model (about 400 bytes a record in
# JSON) with room to spare; bigger uploads are a mistake or an attack.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_BATCH = 10_000
DEFAULT_TIMEOUT_SECONDS = 30.0

ENDPOINTS = ("/predict", "/health", "/metadata", "/metrics")
_CSV_TYPES = ("text/csv", "application/csv")


@dataclass(frozen=True)
class ServeSettings:
    """Limits and options of one server.

    ``predict_threads`` caps the OpenMP threads one prediction may use (None leaves the
    runtime's default): concurrent requests already use every core, and a
    single-record prediction spends longer starting OpenMP threads than scoring.
    """

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch: int = DEFAULT_MAX_BATCH
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    log_path: Path | None = None
    predict_threads: int | None = 1

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch", "timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.predict_threads is not None and self.predict_threads < 1:
            raise ValueError(f"predict_threads must be at least 1, got {self.predict_threads}")


class ModelHolder:
    """The served model as one atomic reference, and a way to wait for it to change.

    Readers take :attr:`current` once per request. :meth:`swap` replaces it in one
    assignment (atomic in CPython), then wakes :meth:`wait_for` callers and calls the
    listeners, which is how tests and metrics observe a hot reload without sleeping.
    """

    def __init__(self, model: LoadedModel | None = None):
        fast = compile_scorer(model.model, model.signature) if model is not None else None
        self._serving: tuple[LoadedModel | None, FastScorer | None] = (model, fast)
        self._error: str | None = None
        self._changed = threading.Condition()
        self._listeners: list[SwapListener] = []
        self.swaps = 0

    @property
    def current(self) -> LoadedModel | None:
        """The model serving new requests (None until the first load finished)."""
        return self._serving[0]

    @property
    def serving(self) -> tuple[LoadedModel | None, FastScorer | None]:
        """The served model and its fast scorer, read together (one atomic read)."""
        return self._serving

    @property
    def error(self) -> str | None:
        """Why the initial load failed, while no model is loaded."""
        return self._error

    def subscribe(self, listener: SwapListener) -> None:
        """Call ``listener(old, new)`` after every swap (in the swapping thread)."""
        self._listeners.append(listener)

    def swap(self, model: LoadedModel) -> LoadedModel | None:
        """Serve ``model`` from now on; return the model it replaces.

        Its fast scorer is compiled (and checked) first, in the caller's thread, while
        the old model still serves.
        """
        fast = compile_scorer(model.model, model.signature)
        with self._changed:
            old = self._serving[0]
            self._serving = (model, fast)
            self._error = None
            self.swaps += 1
            self._changed.notify_all()
        for listener in list(self._listeners):
            try:
                listener(old, model)
            except Exception:  # a listener's bug must not undo or block a swap
                logger.exception("model swap listener failed")
        return old

    def fail(self, message: str) -> None:
        """Record that loading failed (shown by ``/health`` while nothing is loaded)."""
        with self._changed:
            self._error = message
            self._changed.notify_all()

    def wait_for(
        self, predicate: Callable[[LoadedModel | None], bool], timeout: float | None = None
    ) -> LoadedModel | None:
        """Block until ``predicate(current)`` holds; TimeoutError after ``timeout`` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._serving[0]), timeout):
                raise TimeoutError(f"the served model did not change as expected in {timeout} s")
            return self._serving[0]


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
        ts = _now()
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


class RegistryWatcher:
    """Polls the registry and hot-swaps the model when the reference moves.

    A poll re-resolves ``ref`` (a stage follows its latest assignment tag) and, when
    the version or md5 differs from the served model, loads the new one completely
    (bytes fetched, md5 checked, skops-loaded, signature parsed) before swapping it in.
    Any failure keeps the old model serving, is counted in ``/metrics``
    (``gitml_serve_reloads_total{result="failed"}``), logged, and shown by ``/health``
    (:meth:`status`) until a poll succeeds. With ``fetch``, tags are fetched from
    ``remote`` first when the repository has it, so a promotion recorded by CI
    elsewhere is seen.
    """

    def __init__(
        self,
        root: Path | str,
        ref: str,
        *,
        poll_seconds: float = 30.0,
        local: bool = False,
        fetch: bool = True,
        remote: str = "origin",
    ):
        if poll_seconds <= 0:
            raise ValueError(f"poll_seconds must be positive, got {poll_seconds!r}")
        self.root = Path(root)
        self.ref = ref
        self.poll_seconds = poll_seconds
        self.local = local
        self.fetch = fetch
        self.remote = remote
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.failed_polls = 0  # consecutive; 0 after a poll that succeeds

    def status(self) -> dict[str, Any]:
        """What ``/health`` says about reloading: the reference watched, and whether
        the latest polls failed (the served model is then older than the registry's)."""
        return {
            "ref": self.ref,
            "poll_seconds": self.poll_seconds,
            "failed_polls": self.failed_polls,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
        }

    def _fetch_tags(self) -> None:
        from gitml.errors import GitError
        from gitml.gitio.repo import GitRepo, TagWriter

        tags = TagWriter(GitRepo(self.root))
        if not tags.has_remote(self.remote):
            return
        try:
            tags.fetch_tags(self.remote)
        except GitError as exc:
            # An unreachable remote must not stop serving: the local tags still say
            # what was recorded, and the next poll tries again.
            logger.warning("cannot fetch tags from %s: %s", self.remote, exc)

    def poll(self, holder: ModelHolder) -> str:
        """One check (blocking): ``"swapped"`` or ``"unchanged"``; raises when it fails."""
        if self.fetch:
            self._fetch_tags()
        resolved = resolve_artifact(self.root, self.ref, local=self.local)
        current = holder.current
        if current is not None and current.key == (resolved.version, resolved.md5):
            return "unchanged"
        model = load_resolved(self.root, self.ref, resolved, local=self.local)
        old = holder.swap(model)
        logger.info(
            "now serving %s %s (md5 %s), was %s",
            model.name,
            model.version,
            model.md5,
            old.version if old else "nothing",
        )
        return "swapped"

    async def run(self, holder: ModelHolder, metrics: ServeMetrics, stop: asyncio.Event) -> None:
        """Poll every ``poll_seconds`` until ``stop`` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
                return
            try:
                result = await run_in_threadpool(self.poll, holder)
            except Exception as exc:  # any failure: keep serving the current model
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.last_error_at = _now()
                self.failed_polls += 1
                logger.warning(
                    "reload of %s failed (still serving %s): %s",
                    self.ref,
                    _served_version(holder),
                    self.last_error,
                )
                metrics.reloads.inc(("failed",))
                continue
            self.last_error = None
            self.last_error_at = None
            self.failed_polls = 0
            metrics.reloads.inc((result,))


def _now() -> str:
    """The current UTC time as the prediction log writes it (ISO 8601, ms, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _served_version(holder: ModelHolder) -> str:
    model = holder.current
    return "nothing" if model is None else (model.version or model.md5)


class _TooLarge(Exception):
    """The body or the batch exceeds its limit (HTTP 413)."""


class _Instrumented:
    """ASGI middleware counting requests by endpoint and status, and timing them."""

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

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.add(1)
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.in_flight.add(-1)
            self.metrics.requests.inc((endpoint, str(status)))
            self.metrics.latency.observe(time.perf_counter() - start, (endpoint,))


def _error(status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge(f"request body of {int(declared)} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    # Chunked uploads declare no length: count while reading, stop at the limit.
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


_thread_state = threading.local()


def _limit_openmp(threads: int | None) -> None:
    """Cap OpenMP threads for this worker thread, once per thread.

    OpenMP's thread count is per calling thread, so setting it once in the main
    thread would not reach the worker threads that score requests.
    """
    if threads is None or getattr(_thread_state, "openmp_threads", None) == threads:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="openmp")
    _thread_state.openmp_threads = threads


def _score(
    model: LoadedModel,
    fast: FastScorer | None,
    body: bytes,
    is_csv: bool,
    settings: ServeSettings,
) -> tuple[ValidBatch, list[float], str]:
    """Parse, validate and score a body (runs in a worker thread).

    Returns the batch, its scores and which path scored it (``fast`` or ``plain``).
    """
    records = parse_csv(body) if is_csv else parse_json(body)
    if len(records) > settings.max_batch:
        raise _TooLarge(
            f"batch of {len(records)} records exceeds the limit of {settings.max_batch}; "
            "split it into smaller requests"
        )
    batch = validate_records(model.signature, records, from_text=is_csv)
    if batch.count == 0:
        return batch, [], "none"
    try:
        if fast is not None and batch.count <= fast.max_records:
            return batch, fast.scores(batch), "fast"
        _limit_openmp(settings.predict_threads)
        frame = build_frame(model.signature, batch)
        # Column 1 is the positive class: the pipeline is trained on 0/1 labels.
        scores: list[float] = model.model.predict_proba(frame)[:, 1].tolist()
    except (ValueError, ArithmeticError) as exc:
        # Valid but unscorable values: a finite number so large that a scaler
        # overflows it to inf, which scikit-learn refuses (ValueError), or a model's
        # own arithmetic overflowing on them. The records cause it: a 422.
        error = FieldError(None, None, f"the model cannot score these records: {exc}")
        raise InvalidRecords([error], 1) from None
    return batch, scores, "plain"


def _record_batch(metrics: ServeMetrics, model: LoadedModel, batch: ValidBatch) -> None:
    for name, count in batch.out_of_range.items():
        metrics.out_of_range.inc((name,), count)
    for name, count in batch.unseen.items():
        metrics.unseen.inc((name,), count)
    metrics.records.inc((model.version or "",), batch.count)


def _model_info_listener(metrics: ServeMetrics) -> SwapListener:
    """Keep ``gitml_serve_model_info`` naming the served model after every swap."""

    def update(_old: LoadedModel | None, new: LoadedModel) -> None:
        labels = (new.name, new.version or "", new.md5, new.commit, new.stage or "")
        metrics.model_info.replace(1, labels)
        metrics.model_loaded_at.set(time.time())

    return update


async def _predict(request: Request) -> Response:
    state = request.app.state
    settings: ServeSettings = state.settings
    metrics: ServeMetrics = state.metrics
    # Read once: this request uses this model to the end, whatever a reload does.
    model, fast = state.holder.serving
    if model is None:
        return _error(503, "no model loaded yet")
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
                functools.partial(_score, model, fast, body, is_csv, settings),
                abandon_on_cancel=True,
            )
    except TimeoutError:
        # The worker thread cannot be interrupted; it finishes in the background and
        # its result is dropped (and not logged: the client never saw it).
        metrics.timeouts.inc()
        return _error(504, f"prediction did not finish within {settings.timeout_seconds:g} s")
    except _TooLarge as exc:
        return _error(413, str(exc))
    except BadRequest as exc:
        return _error(400, [{"record": None, "field": None, "error": exc.message}])
    except InvalidRecords as exc:
        for problem in exc.errors:
            metrics.invalid.inc((problem.field or "",))
        return _error(422, exc.detail())
    except Exception as exc:
        # Not the client's input (that is a 4xx above) but a bug or a broken model:
        # logged with its traceback, answered in JSON like every other error.
        logger.exception("scoring a request failed")
        name = type(exc).__name__
        return _error(500, f"internal error while scoring ({name}); the server log has details")
    threshold = model.signature.threshold
    decisions = [int(score >= threshold) for score in scores]
    log: PredictionLog | None = state.prediction_log
    if log is not None and batch.count:
        await run_in_threadpool(log.write, model, batch, scores, decisions)
    _record_batch(metrics, model, batch)
    if batch.count:
        metrics.scoring.inc((path,))
    metrics.scores.observe_many(scores)
    ones = sum(decisions)
    if ones:
        metrics.decisions.inc(("1",), ones)
    if len(decisions) - ones:
        metrics.decisions.inc(("0",), len(decisions) - ones)
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
    return JSONResponse(body)


async def _metadata(request: Request) -> Response:
    model = request.app.state.holder.current
    if model is None:
        return _error(503, "no model loaded yet")
    return JSONResponse(model.describe())


async def _metrics(request: Request) -> Response:
    metrics: ServeMetrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE)


def create_app(
    model: LoadedModel | None = None,
    *,
    settings: ServeSettings | None = None,
    loader: Callable[[], LoadedModel] | None = None,
    watcher: RegistryWatcher | None = None,
) -> Starlette:
    """The ASGI app serving ``model``.

    Without ``model``, ``loader`` runs in a background thread at startup and
    ``/health`` answers 503 until it returns (or says why it failed). ``watcher``
    polls the registry for a newly recorded version and swaps it in.

    ``app.state.holder`` (:class:`ModelHolder`) is the served model; wait on it to
    observe a reload. ``app.state.metrics`` is the :class:`ServeMetrics` registry.
    """
    settings = settings or ServeSettings()
    metrics = ServeMetrics()
    holder = ModelHolder()
    holder.subscribe(_model_info_listener(metrics))
    if model is not None:
        holder.swap(model)

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
            if app.state.prediction_log is not None:
                app.state.prediction_log.close()

    app = Starlette(
        routes=[
            Route("/predict", _predict, methods=["POST"]),
            Route("/health", _health, methods=["GET"]),
            Route("/metadata", _metadata, methods=["GET"]),
            Route("/metrics", _metrics, methods=["GET"]),
        ],
        middleware=[Middleware(_Instrumented, metrics=metrics)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.holder = holder
    app.state.watcher = watcher
    app.state.prediction_log = PredictionLog(settings.log_path) if settings.log_path else None
    return app
