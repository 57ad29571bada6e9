"""Two versions behind one server: the stable one, and a candidate on canary or in shadow.

* **canary**: a sticky share of requests (:mod:`gitml.serve.routing`, the canary
  analysis' router) is answered by the candidate, the rest by the stable version;
  every answer names its version and role.
* **shadow**: the stable version answers every request; the candidate scores the same
  records afterwards, off the request path (:mod:`gitml.serve.shadow`), and its scores
  are logged and observed, never returned.

:meth:`Deployment.stop` sends everything to the stable version at once (and ends shadow
scoring): a request routes itself when its body is read, taking each holder's model
once, so a request routed before the stop still finishes on the version it started
with, and none routed after it reaches the candidate.

The canary analysis plugs in through two hooks, both run in one thread of their own in
the order the server saw things (:mod:`gitml.serve.delivery`):

* ``observer(role, version, scores, latency_s, error, ids)`` after each answered (or
  shadow-scored) request, and after each request a version failed (``error`` says how,
  ``scores`` is empty). A truthy return stops the candidate; a string return is the reason.
* ``label_sink(id, label)`` for each accepted ``/feedback`` label.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from gitml.errors import UsageError
from gitml.serve.delivery import EventDelivery
from gitml.serve.routing import default_splitter
from gitml.serve.server import ServeError

if TYPE_CHECKING:
    from gitml.canary.policy import KeySpec
    from gitml.serve.holder import ModelHolder, ServedModel
    from gitml.serve.loaded import LoadedModel
    from gitml.serve.routing import Splitter

__all__ = [
    "DEFAULT_CANARY_PERCENT",
    "AnalysisStatus",
    "CanaryRefused",
    "Deployment",
    "LabelSink",
    "Mode",
    "Observer",
    "Role",
    "Rollout",
    "Routed",
    "check_candidate",
]

logger = logging.getLogger("gitml.serve")

DEFAULT_CANARY_PERCENT = 10.0

# role, version, scores, latency in seconds, error (None: answered), prediction ids.
Observer = Callable[["Role", str | None, Sequence[float], float, str | None, Sequence[str]], object]
LabelSink = Callable[[str, int], None]
# What the analysis says about itself in /health (windows judged, the decision so far).
AnalysisStatus = Callable[[], Mapping[str, Any]]


class Role(StrEnum):
    """Which part a version plays for one request."""

    STABLE = "stable"
    CANDIDATE = "candidate"  # answered a canary's share
    SHADOW = "shadow"  # scored in the background, never answered


class Mode(StrEnum):
    """How the server uses its versions."""

    SINGLE = "single"
    CANARY = "canary"
    SHADOW = "shadow"


class CanaryRefused(ServeError):
    """A candidate that cannot be compared with the stable version (refused at start-up)."""


@dataclass(frozen=True)
class Rollout:
    """How the candidate takes part: ``mode`` canary (``percent`` of requests, sticky by
    ``key`` when given, else a draw seeded by ``seed``) or shadow."""

    mode: Mode
    percent: float = DEFAULT_CANARY_PERCENT
    key: KeySpec | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode is Mode.SINGLE:
            raise UsageError("a rollout is a canary or a shadow, not a single version")
        if not (math.isfinite(self.percent) and 0 <= self.percent <= 100):
            raise UsageError(f"--canary-percent must be between 0 and 100, got {self.percent!r}")
        if self.mode is Mode.SHADOW and self.key is not None:
            raise UsageError("--canary-key routes a canary; a shadow answers nothing, so has none")


@dataclass(frozen=True)
class Routed:
    """The version that answers one request, and in which role."""

    role: Role
    served: ServedModel


def _signature_shape(model: LoadedModel) -> dict[str, tuple[str, bool]]:
    return {f.name: (f.type, f.nullable) for f in model.signature.features}


def check_candidate(stable: LoadedModel, candidate: LoadedModel) -> None:
    """Refuse a candidate that is the stable version itself, another model, or one that
    would accept or refuse other requests (features, types, nullability, target).

    Ranges, categories and threshold may differ: they are what retraining changes.
    """
    name = candidate.ref or f"{candidate.name}@{candidate.version}"
    against = stable.ref or f"{stable.name}@{stable.version}"
    if candidate.md5 == stable.md5:
        raise CanaryRefused(
            f"{name} is {against}'s own artefact (md5 {stable.md5}): a canary or shadow "
            "compares two different versions"
        )
    if candidate.name != stable.name:
        raise CanaryRefused(
            f"{name} is a version of {candidate.name!r}, not of {stable.name!r}: a candidate "
            "is compared with a version of the same model"
        )
    mine, theirs = _signature_shape(candidate), _signature_shape(stable)
    problem = None
    if candidate.signature.target != stable.signature.target:
        problem = f"its target is {candidate.signature.target!r}, not {stable.signature.target!r}"
    elif missing := [f for f in theirs if f not in mine]:
        problem = f"it lacks feature {missing[0]!r}"
    elif extra := [f for f in mine if f not in theirs]:
        problem = f"it has feature {extra[0]!r}, which {against} lacks"
    else:
        for feature, (kind, nullable) in mine.items():
            their_kind, their_nullable = theirs[feature]
            if kind != their_kind:
                problem = f"feature {feature!r} is {kind} there, {their_kind} in {against}"
                break
            if nullable != their_nullable:
                problem = (
                    f"feature {feature!r} is {'' if nullable else 'not '}nullable there, "
                    f"{'' if their_nullable else 'not '}nullable in {against}"
                )
                break
    if problem is not None:
        raise CanaryRefused(
            f"{name}'s signature differs from {against}'s: {problem}; both versions must "
            "accept the same requests"
        )


def _ignore_label(prediction_id: str, label: int) -> None:
    """The default label sink: labels are logged and counted, nothing else."""


class Deployment:
    """The stable holder, an optional candidate holder, and how requests reach them.

    Thread-safe. ``observer`` and ``label_sink`` are the analysis' hooks (see the module
    docstring); ``split`` decides canary routing (default: the canary analysis' router
    for the rollout's percent, key and seed; :meth:`stop` stops it too when it can);
    ``status`` is what the analysis reports in ``/health`` (``routing.analysis``).
    """

    def __init__(
        self,
        stable: ModelHolder,
        candidate: ModelHolder | None = None,
        rollout: Rollout | None = None,
        *,
        observer: Observer | None = None,
        label_sink: LabelSink | None = None,
        split: Splitter | None = None,
        status: AnalysisStatus | None = None,
    ):
        if (candidate is None) != (rollout is None):
            raise UsageError("a candidate needs a rollout (canary or shadow), and vice versa")
        self.stable = stable
        self.candidate = candidate
        self.rollout = rollout
        self.mode = rollout.mode if rollout is not None else Mode.SINGLE
        self.key = rollout.key if rollout is not None else None
        if split is None and rollout is not None and rollout.mode is Mode.CANARY:
            split = default_splitter(rollout.percent, rollout.key, rollout.seed)
        self._split = split
        self._observer = observer
        self._label_sink = label_sink or _ignore_label
        self.observing = observer is not None or label_sink is not None
        self._status = status
        self._events = EventDelivery()
        self._lock = threading.Lock()
        self._stopped = False
        self.stop_reason: str | None = None
        self.stopped_at: float | None = None  # time.monotonic() of the stop

    @property
    def stopped(self) -> bool:
        """Whether the candidate was stopped (everything goes to the stable version)."""
        return self._stopped

    @property
    def percent(self) -> float:
        """The share of requests (per cent) the candidate answers now."""
        if self.mode is not Mode.CANARY or self._stopped or self.rollout is None:
            return 0.0
        return self.rollout.percent

    def stop(self, reason: str = "stopped") -> bool:
        """Route everything to the stable version from now on; True if this call stopped it."""
        with self._lock:
            if self._stopped or self.candidate is None:
                return False
            self._stopped = True
            self.stop_reason = reason
            self.stopped_at = time.monotonic()
        stop_split = getattr(self._split, "stop", None)
        if callable(stop_split):
            stop_split()  # a router that remembers its own stop agrees with this one
        logger.warning("candidate stopped (%s): the stable version answers everything", reason)
        return True

    def _live_candidate(self, stable: ServedModel) -> ServedModel | None:
        """The candidate while it takes part: loaded, not stopped, not the stable's bytes
        (a hot swap may have made it the stable version itself)."""
        if self.candidate is None or self._stopped:
            return None
        candidate = self.candidate.served
        if candidate is None or candidate.model.md5 == stable.model.md5:
            return None
        return candidate

    def route(self, key: str | None) -> Routed | None:
        """The version that answers a request with this key (None: nothing loaded yet)."""
        stable = self.stable.served
        if stable is None:
            return None
        if self.mode is Mode.CANARY and self._split is not None:
            candidate = self._live_candidate(stable)
            if candidate is not None and self._split.route(key) == "candidate":
                return Routed(Role.CANDIDATE, candidate)
        return Routed(Role.STABLE, stable)

    def shadow_target(self) -> ServedModel | None:
        """The candidate that shadow-scores requests now (None: not shadowing)."""
        stable = self.stable.served
        if self.mode is not Mode.SHADOW or stable is None:
            return None
        return self._live_candidate(stable)

    def served(self) -> list[tuple[Role, ServedModel]]:
        """Every loaded version with its role (for ``/health`` and ``/metrics``)."""
        out: list[tuple[Role, ServedModel]] = []
        if (stable := self.stable.served) is not None:
            out.append((Role.STABLE, stable))
        if self.candidate is not None and (candidate := self.candidate.served) is not None:
            out.append((Role.SHADOW if self.mode is Mode.SHADOW else Role.CANDIDATE, candidate))
        return out

    def observe(
        self,
        role: Role,
        version: str | None,
        scores: Sequence[float],
        latency_s: float,
        error: str | None,
        ids: Sequence[str],
    ) -> None:
        """Queue one observation for the observer (nothing without one)."""
        observer = self._observer
        if observer is None:
            return

        def call() -> None:
            verdict = observer(role, version, scores, latency_s, error, ids)
            if verdict:
                self.stop(verdict if isinstance(verdict, str) else "stopped by the analysis")

        self._events.submit(call)

    def accept_label(self, prediction_id: str, label: int) -> None:
        """Queue one accepted label for the label sink, after the observations before it."""
        if not self.observing:
            return
        sink = self._label_sink
        self._events.submit(lambda: sink(prediction_id, label))

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until the analysis has seen every queued event; False after ``timeout``."""
        return self._events.drain(timeout)

    def close(self) -> None:
        """Let the analysis finish what is queued, then end its thread (at shutdown)."""
        self._events.close()

    def health(self) -> dict[str, Any]:
        """The routing part of ``/health``."""
        analysis: dict[str, Any] | None = None
        if self.observing or self._status is not None:
            analysis = {
                "dropped_events": self._events.dropped,
                "failed_events": self._events.failed,
            }
            if self._status is not None:
                try:
                    analysis.update(self._status())
                except Exception as exc:  # /health must answer whatever the analysis does
                    logger.exception("the canary analysis' status failed")
                    analysis["error"] = f"{type(exc).__name__}: {exc}"
        return {
            "mode": str(self.mode),
            "percent": self.percent,
            "key": str(self.key) if self.key is not None else None,
            "stopped": self._stopped,
            "reason": self.stop_reason,
            "analysis": analysis,
        }

    def version_state(self, role: Role, served: ServedModel) -> str:
        """What one version does now: serving, shadowing, stopped or same-as-stable."""
        if role is Role.STABLE:
            return "serving"
        stable = self.stable.served
        if stable is not None and stable.model.md5 == served.model.md5:
            return "same-as-stable"
        if self._stopped:
            return "stopped"
        return "shadowing" if role is Role.SHADOW else "serving"
