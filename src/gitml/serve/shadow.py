"""Shadow scoring: the candidate scores what the stable version answered, off the request
path, bounded, and never at the client's expense.

The stable version's answer goes out first; the validated records are then handed to a
small pool of threads (:data:`SHADOW_WORKERS`) that score them with the candidate, write
its lines to the prediction log (``"role": "shadow"``, the same ids as the answered
lines) and pass the scores to the analysis. When :data:`MAX_PENDING` requests already
wait for the shadow, a request is not shadowed at all (counted in
``gitml_serve_shadow_skipped_total``): a slow candidate can never make the server queue
work without limit. A shadow failure is logged and observed as the candidate's error,
never the client's.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from gitml.serve.deployment import Role
from gitml.serve.prediction_log import PredictionLogError
from gitml.serve.records import InvalidRecords
from gitml.serve.scoring import score_batch

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gitml.serve.deployment import Deployment
    from gitml.serve.metrics import ServeMetrics
    from gitml.serve.prediction_log import PredictionLog
    from gitml.serve.records import ValidBatch
    from gitml.serve.settings import ServeSettings

__all__ = ["MAX_PENDING", "SHADOW_WORKERS", "ShadowScorer"]

logger = logging.getLogger("gitml.serve")

# Two threads: the shadow keeps up with a stable version of the same cost while leaving
# the other cores to the requests themselves.
SHADOW_WORKERS = 2
# Requests waiting for (or in) shadow scoring; beyond this a request is not shadowed.
MAX_PENDING = 64


class ShadowScorer:
    """Scores answered batches with the deployment's shadow candidate, in the background."""

    def __init__(
        self,
        deployment: Deployment,
        settings: ServeSettings,
        metrics: ServeMetrics,
        log: PredictionLog | None,
        *,
        workers: int = SHADOW_WORKERS,
        max_pending: int = MAX_PENDING,
    ):
        self.deployment = deployment
        self.settings = settings
        self.metrics = metrics
        self.log = log
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gitml-shadow")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._closed = False

    def reserve(self) -> bool:
        """Count a batch as pending before its answer goes out (so :meth:`drain` waits for
        it even if the hand-over after the answer has not run yet); False when skipped."""
        with self._lock:
            if self._closed:
                return False
            if self._pending >= self.max_pending:
                self.metrics.shadow_skipped.inc()
                return False
            self._pending += 1
        return True

    def submit(self, batch: ValidBatch, ids: Sequence[str], *, reserved: bool = False) -> bool:
        """Shadow-score ``batch`` (answered with ``ids``) later; False when skipped.
        ``reserved``: :meth:`reserve` already counted it."""
        if not reserved and not self.reserve():
            return False
        with self._lock:
            if self._closed:  # closed since the reservation: close() let it go already
                return False
        try:
            self._pool.submit(self._score, batch, ids)
        except RuntimeError:  # the pool shut down meanwhile
            self._done()
            return False
        return True

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def _score(self, batch: ValidBatch, ids: Sequence[str]) -> None:
        try:
            self._score_now(batch, ids)
        finally:
            self._done()

    def _score_now(self, batch: ValidBatch, ids: Sequence[str]) -> None:
        # Read once, now: a stop since the answer means this request is not shadowed.
        served = self.deployment.shadow_target()
        if served is None:
            return
        model = served.model
        version = model.version or ""
        role = str(Role.SHADOW)
        start = time.perf_counter()
        try:
            scores, _path = score_batch(model, served.fast_path.scorer, batch, self.settings)
        except InvalidRecords as exc:
            # Records the stable version scored and the candidate cannot: its fault.
            self._failed(model.version, start, ids, f"cannot score: {exc.errors[0].error}")
            return
        except Exception as exc:
            logger.exception("the shadow candidate failed to score a request")
            self._failed(model.version, start, ids, f"internal error ({type(exc).__name__})")
            return
        latency = time.perf_counter() - start
        threshold = model.signature.threshold
        decisions = [int(score >= threshold) for score in scores]
        if self.log is not None:
            try:
                self.log.write(model, batch, scores, decisions, ids, role)
            except PredictionLogError:
                # The log is failing now: /predict answers 503 until it can be written.
                self.metrics.log_errors.inc()
        self.metrics.records.labels(version).inc(batch.count)
        for score in scores:
            self.metrics.scores.labels(role).observe(score)
        self.metrics.version_requests.labels(role, version, "ok").inc()
        self.metrics.version_latency.labels(role, version).observe(latency)
        self.deployment.observe(Role.SHADOW, model.version, scores, latency, None, ids)

    def _failed(self, version: str | None, start: float, ids: Sequence[str], error: str) -> None:
        latency = time.perf_counter() - start
        role = str(Role.SHADOW)
        self.metrics.version_requests.labels(role, version or "", "error").inc()
        self.metrics.version_latency.labels(role, version or "").observe(latency)
        self.deployment.observe(Role.SHADOW, version, [], latency, error, ids)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every submitted batch was scored; False after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Drop what waits, let what runs finish (at shutdown)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._idle:
            self._pending = 0  # cancelled batches never ran
            self._idle.notify_all()
