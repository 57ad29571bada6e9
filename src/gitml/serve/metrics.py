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

    from gitml.serve.holder import ModelHolder

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

    def __init__(self, holder: ModelHolder) -> None:
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
        self.decisions = Counter(
            "gitml_serve_decisions_total",
            "Decisions returned (score >= threshold is 1).",
            ("decision",),
            registry=registry,
        )
        self.scores = Histogram(
            "gitml_serve_prediction_score",
            "Predicted probability of the positive class.",
            buckets=SCORE_BUCKETS,
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
        registry.register(ServedModelCollector(holder))
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
    """Gauges that describe the served model, read from the holder at each scrape.

    Read at scrape time rather than set at each swap, they always describe one model,
    the one serving: a scrape during a hot swap never sees two models, or none.
    """

    def __init__(self, holder: ModelHolder) -> None:
        self.holder = holder

    def collect(self) -> Iterator[Metric]:
        served = self.holder.served
        info = GaugeMetricFamily(
            "gitml_serve_model_info",
            "The model being served (value 1), identified by its labels.",
            labels=("model", "version", "md5", "commit", "stage"),
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
            labels=("model", "reason"),
        )
        if served is not None:
            model = served.model
            labels = (model.name, model.version or "", model.md5, model.commit, model.stage or "")
            info.add_metric(labels, 1)
            loaded_at.add_metric((), served.since)
            active = served.fast_path.scorer is not None
            reason = served.fast_path.fallback or ""
            fast_path.add_metric((model.name, reason), 1 if active else 0)
        yield info
        yield loaded_at
        yield fast_path
