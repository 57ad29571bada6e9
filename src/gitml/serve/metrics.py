"""The model server's Prometheus metrics (``GET /metrics``), kept by ``prometheus_client``.

Each app has its own ``CollectorRegistry``, never the library's global default one: a
process may hold several apps (the tests start many), and each must count only its own
requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gitml.serve.fastpath import Fallback

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.metrics_core import Metric

    from gitml.serve.deployment import Deployment

__all__ = ["CONTENT_TYPE", "ServeMetrics"]

# What generate_latest writes: the Prometheus text format, version 0.0.4.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Request latencies of a model server: sub-millisecond health checks to multi-second
# batches.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
# Scores are probabilities: twenty equal bins show the shape of the distribution.
SCORE_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))


class ServeMetrics:
    """Every metric the model server exports, in one registry of its own."""

    def __init__(self, deployment: Deployment) -> None:
        registry = self.registry = CollectorRegistry()
        self.requests = Counter(
            "gitml_serve_requests_total",
            "HTTP requests handled, by endpoint and status code.",
            ("endpoint", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "gitml_serve_request_duration_seconds",
            "Time from request start to the last byte of the response.",
            ("endpoint",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "gitml_serve_requests_in_flight",
            "Requests being handled right now.",
            registry=registry,
        )
        self.records = Counter(
            "gitml_serve_records_predicted_total",
            "Records scored, by model version.",
            ("version",),
            registry=registry,
        )
        # ``role`` (stable, candidate, shadow) keeps a canary's two score distributions
        # apart; without a canary every sample has role="stable".
        self.decisions = Counter(
            "gitml_serve_decisions_total",
            "Decisions returned (score >= threshold is 1).",
            ("decision", "role"),
            registry=registry,
        )
        self.scores = Histogram(
            "gitml_serve_prediction_score",
            "Predicted probability of the positive class.",
            ("role",),
            buckets=SCORE_BUCKETS,
            registry=registry,
        )
        self.version_requests = Counter(
            "gitml_serve_version_requests_total",
            "Prediction requests each version answered (or scored in shadow), by role, "
            "version and outcome: ok, error (a 500) or timeout (a 504).",
            ("role", "version", "outcome"),
            registry=registry,
        )
        self.version_latency = Histogram(
            "gitml_serve_version_duration_seconds",
            "Time to answer a prediction request (to score it, in shadow), by role and version.",
            ("role", "version"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.feedback = Counter(
            "gitml_serve_feedback_labels_total",
            "Labels received on /feedback: accepted, unknown (an id the server does not "
            "remember) or duplicate (an id labelled before).",
            ("result",),
            registry=registry,
        )
        self.shadow_skipped = Counter(
            "gitml_serve_shadow_skipped_total",
            "Requests the shadow candidate did not score because it was too far behind.",
            registry=registry,
        )
        self.out_of_range = Counter(
            "gitml_serve_out_of_range_values_total",
            "Accepted values outside the training range of their feature.",
            ("feature",),
            registry=registry,
        )
        self.unseen = Counter(
            "gitml_serve_unseen_categories_total",
            "Accepted categories never seen in training, by feature.",
            ("feature",),
            registry=registry,
        )
        self.invalid = Counter(
            "gitml_serve_invalid_fields_total",
            "Fields rejected by signature validation (HTTP 422), by field.",
            ("field",),
            registry=registry,
        )
        self.scoring = Counter(
            "gitml_serve_scoring_total",
            "Scored requests by path: fast (compiled, proven identical) or plain "
            "(predict_proba on a DataFrame).",
            ("path",),
            registry=registry,
        )
        self.timeouts = Counter(
            "gitml_serve_timeouts_total",
            "Predictions cut off by the request timeout.",
            registry=registry,
        )
        self.log_errors = Counter(
            "gitml_serve_prediction_log_errors_total",
            "Prediction log writes that failed; their requests were answered 503.",
            registry=registry,
        )
        registry.register(ServedModelCollector(deployment))
        self.reloads = Counter(
            "gitml_serve_reloads_total",
            "Registry polls by outcome: unchanged, swapped or failed.",
            ("result",),
            registry=registry,
        )

    def render(self) -> bytes:
        """The exposition of every metric, in the text format of :data:`CONTENT_TYPE`."""
        return generate_latest(self.registry)


class ServedModelCollector(Collector):
    """Gauges that describe the served versions and the routing, read at each scrape.

    Read at scrape time rather than set at each swap, they always describe the models
    serving: a scrape during a hot swap never sees two stable models, or none.
    """

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "gitml_serve_model_info",
            "The model being served (value 1), identified by its labels.",
            labels=("model", "version", "md5", "commit", "stage", "role"),
        )
        loaded_at = GaugeMetricFamily(
            "gitml_serve_model_loaded_timestamp_seconds",
            "Unix time at which the served model was swapped in.",
        )
        fast_path = GaugeMetricFamily(
            "gitml_serve_fast_path_active",
            "1 when small requests are scored by the compiled scorer proven identical to "
            "predict_proba, 0 when every request takes predict_proba; reason says why "
            f"({', '.join(Fallback)}), empty when active.",
            labels=("model", "reason", "role"),
        )
        share = GaugeMetricFamily(
            "gitml_serve_canary_percent",
            "Share of prediction requests the candidate answers now (per cent; 0 once "
            "stopped, and in shadow mode).",
        )
        stopped = GaugeMetricFamily(
            "gitml_serve_candidate_stopped",
            "1 once the candidate was stopped (everything goes to the stable version).",
        )
        deployment = self.deployment
        for role, served in deployment.served():
            model = served.model
            labels = (model.name, model.version or "", model.md5, model.commit, model.stage or "")
            info.add_metric((*labels, str(role)), 1)
            if role == "stable":
                loaded_at.add_metric((), served.since)
            active = served.fast_path.scorer is not None
            reason = served.fast_path.fallback or ""
            fast_path.add_metric((model.name, reason, str(role)), 1 if active else 0)
        if deployment.candidate is not None:
            share.add_metric((), deployment.percent)
            stopped.add_metric((), 1 if deployment.stopped else 0)
        yield info
        yield loaded_at
        yield fast_path
        yield share
        yield stopped
