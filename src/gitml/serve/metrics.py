"""Prometheus text exposition (format 0.0.4) of the server's counters and histograms.

Written here rather than taken from ``prometheus_client``: the server needs four
metric kinds with a handful of labels, one registry per app (tests start several apps
in one process, which the client library's global default registry makes awkward), and
no extra runtime dependency. The tests parse the output with ``prometheus_client``'s
own parser to keep the format honest.
"""

from __future__ import annotations

import bisect
import math
import threading
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["CONTENT_TYPE", "Counter", "Gauge", "Histogram", "MetricsRegistry", "ServeMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[str, ...]

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


def _escape(value: str) -> str:
    """A label value as the text format requires: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    """A sample value: integers without a decimal point, infinities as +Inf/-Inf."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _bound(value: float) -> str:
    """A bucket's ``le`` label as Prometheus' own clients write it: ``0.5``, ``1.0``, ``+Inf``."""
    return "+Inf" if math.isinf(value) else repr(float(value))


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


class _Metric:
    """Common part: name, help text, label names and a lock."""

    kind = ""

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()):
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _check(self, labels: Labels) -> Labels:
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {labels}")
        return tuple(str(v) for v in labels)

    def header(self) -> list[str]:
        """The HELP and TYPE lines."""
        help_text = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        return [f"# HELP {self.name} {help_text}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> list[str]:
        """The sample lines."""
        raise NotImplementedError


class Counter(_Metric):
    """A monotonically increasing count per label set."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()):
        super().__init__(name, help_text, labelnames)
        self._values: dict[Labels, float] = {}

    def inc(self, labels: Labels = (), amount: float = 1.0) -> None:
        """Add ``amount`` (never negative) to the count of ``labels``."""
        if amount < 0:
            raise ValueError(f"{self.name}: a counter cannot decrease")
        key = self._check(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, labels: Labels = ()) -> float:
        """The current count of ``labels`` (0 when never incremented)."""
        with self._lock:
            return self._values.get(self._check(labels), 0.0)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(self.labelnames, k)} {_number(v)}" for k, v in items]


class Gauge(_Metric):
    """A value that goes up and down, per label set."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()):
        super().__init__(name, help_text, labelnames)
        self._values: dict[Labels, float] = {}

    def set(self, value: float, labels: Labels = ()) -> None:
        """Set the value of ``labels``."""
        key = self._check(labels)
        with self._lock:
            self._values[key] = value

    def add(self, amount: float, labels: Labels = ()) -> None:
        """Add ``amount`` (may be negative) to the value of ``labels``."""
        key = self._check(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def replace(self, value: float, labels: Labels) -> None:
        """Drop every label set and keep only ``labels`` (an info gauge of one model)."""
        key = self._check(labels)
        with self._lock:
            self._values = {key: value}

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(self.labelnames, k)} {_number(v)}" for k, v in items]


class Histogram(_Metric):
    """Cumulative bucket counts, sum and count per label set."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        buckets: Sequence[float],
        labelnames: Sequence[str] = (),
    ):
        super().__init__(name, help_text, labelnames)
        if "le" in self.labelnames:
            raise ValueError("'le' is reserved for histogram buckets")
        self.buckets = tuple(sorted(float(b) for b in buckets))
        # Per label set: counts per bucket (non-cumulative, the last is +Inf), sum.
        self._series: dict[Labels, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, labels: Labels = ()) -> None:
        """Record one observation."""
        self.observe_many((value,), labels)

    def observe_many(self, values: Iterable[float], labels: Labels = ()) -> None:
        """Record many observations under one lock (a batch's scores)."""
        key = self._check(labels)
        # Bucket upper bounds are inclusive (le): bisect_left puts a value equal to a
        # bound into that bound's bucket.
        indexes = [(bisect.bisect_left(self.buckets, v), v) for v in values]
        with self._lock:
            counts, total = self._series.setdefault(key, ([0] * (len(self.buckets) + 1), [0.0]))
            for index, value in indexes:
                counts[index] += 1
                total[0] += value

    def count(self, labels: Labels = ()) -> int:
        """How many observations ``labels`` has."""
        with self._lock:
            series = self._series.get(self._check(labels))
            return sum(series[0]) if series else 0

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted((k, (list(c), s[0])) for k, (c, s) in self._series.items())
        lines = []
        names = (*self.labelnames, "le")
        for key, (counts, total) in items:
            running = 0
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                running += count
                bucket = _labels(names, (*key, _bound(bound)))
                lines.append(f"{self.name}_bucket{bucket} {running}")
            lines.append(f"{self.name}_sum{_labels(self.labelnames, key)} {_number(total)}")
            lines.append(f"{self.name}_count{_labels(self.labelnames, key)} {running}")
        return lines


_M = TypeVar("_M", bound=_Metric)


class MetricsRegistry:
    """An ordered set of metrics rendered together."""

    def __init__(self) -> None:
        self._metrics: list[_Metric] = []

    def add(self, metric: _M) -> _M:
        """Register ``metric`` and return it."""
        self._metrics.append(metric)
        return metric

    def render(self) -> str:
        """The whole exposition, one metric family after another."""
        lines: list[str] = []
        for metric in self._metrics:
            lines += metric.header()
            lines += metric.samples()
        return "\n".join(lines) + "\n"


class ServeMetrics:
    """Every metric the model server exports, in one registry."""

    def __init__(self) -> None:
        registry = self.registry = MetricsRegistry()
        self.requests = registry.add(
            Counter(
                "gitml_serve_requests_total",
                "HTTP requests handled, by endpoint and status code.",
                ("endpoint", "status"),
            )
        )
        self.latency = registry.add(
            Histogram(
                "gitml_serve_request_duration_seconds",
                "Time from request start to the last byte of the response.",
                LATENCY_BUCKETS,
                ("endpoint",),
            )
        )
        self.in_flight = registry.add(
            Gauge("gitml_serve_requests_in_flight", "Requests being handled right now.")
        )
        self.records = registry.add(
            Counter(
                "gitml_serve_records_predicted_total",
                "Records scored, by model version.",
                ("version",),
            )
        )
        self.decisions = registry.add(
            Counter(
                "gitml_serve_decisions_total",
                "Decisions returned (score >= threshold is 1).",
                ("decision",),
            )
        )
        self.scores = registry.add(
            Histogram(
                "gitml_serve_prediction_score",
                "Predicted probability of the positive class.",
                SCORE_BUCKETS,
            )
        )
        self.out_of_range = registry.add(
            Counter(
                "gitml_serve_out_of_range_values_total",
                "Accepted values outside the training range of their feature.",
                ("feature",),
            )
        )
        self.unseen = registry.add(
            Counter(
                "gitml_serve_unseen_categories_total",
                "Accepted categories never seen in training, by feature.",
                ("feature",),
            )
        )
        self.invalid = registry.add(
            Counter(
                "gitml_serve_invalid_fields_total",
                "Fields rejected by signature validation (HTTP 422), by field.",
                ("field",),
            )
        )
        self.scoring = registry.add(
            Counter(
                "gitml_serve_scoring_total",
                "Scored requests by path: fast (compiled, proven identical) or plain "
                "(predict_proba on a DataFrame).",
                ("path",),
            )
        )
        self.timeouts = registry.add(
            Counter("gitml_serve_timeouts_total", "Predictions cut off by the request timeout.")
        )
        self.model_info = registry.add(
            Gauge(
                "gitml_serve_model_info",
                "The model being served (value 1), identified by its labels.",
                ("model", "version", "md5", "commit", "stage"),
            )
        )
        self.model_loaded_at = registry.add(
            Gauge(
                "gitml_serve_model_loaded_timestamp_seconds",
                "Unix time at which the served model was swapped in.",
            )
        )
        self.reloads = registry.add(
            Counter(
                "gitml_serve_reloads_total",
                "Registry polls by outcome: unchanged, swapped or failed.",
                ("result",),
            )
        )

    def render(self) -> str:
        """The exposition text of every metric."""
        return self.registry.render()
