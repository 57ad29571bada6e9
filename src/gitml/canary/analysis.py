"""The canary analysis: records and labels in, windows judged in turn, one decision out.

Windows follow the policy: by count, a window closes on the record that brings the
candidate's answered records to ``window.requests`` (a request's records beyond it open
the next window); by time, a window closes on the first record (or :meth:`poll`) at or
after its end on the injected clock, and windows with no record at all are skipped.
The first window that fails a rule stops the candidate at once (``stopped``);
``windows`` healthy windows in a row pass it (``passed``). A window in which no rule
could be evaluated is inconclusive: it neither counts towards passing nor breaks the
run. After the decision, records and labels are ignored.

Safe to share between the threads of a server: one lock guards the current window, and
``on_decision`` (e.g. the router's ``stop``) is called once, outside the lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.canary.judge import FAILED, NOT_EVALUATED, WindowResult, judge_window
from gitml.canary.side import VersionSide as VersionSide
from gitml.canary.window import PredictionMemory, Window, label_value

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from gitml.canary.policy import CanaryPolicy

__all__ = ["PASSED", "RUNNING", "STOPPED", "CanaryAnalysis", "CanaryDecision", "VersionSide"]

RUNNING, PASSED, STOPPED = "running", "passed", "stopped"


@dataclass(frozen=True)
class CanaryDecision:
    """How a canary ended: the verdict, after how many windows, the deciding rule in
    words, the deciding window's figures (and how often each rule went unjudged), the
    rules that failed, and how many records the candidate answered."""

    verdict: str  # passed | stopped
    stage: str
    candidate: str
    stable: str
    windows: int
    rule: str
    figures: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    failed: tuple[str, ...] = ()
    rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**self.__dict__, "figures": dict(self.figures), "failed": list(self.failed)}


class CanaryAnalysis:
    """Judges ``candidate`` against ``stable`` window by window under ``policy``."""

    def __init__(
        self,
        policy: CanaryPolicy,
        stable: VersionSide,
        candidate: VersionSide,
        clock: Callable[[], float] = time.monotonic,
        on_decision: Callable[[CanaryDecision], None] | None = None,
        memory: PredictionMemory | None = None,
    ) -> None:
        if stable.version == candidate.version:
            raise ValueError(f"the candidate is the stable version {stable.version}")
        self.policy, self.stable, self.candidate = policy, stable, candidate
        self._clock = clock
        self._on_decision = on_decision
        self._memory = memory or PredictionMemory()
        self._lock = threading.Lock()
        self._window = Window(1, clock())
        self._results: list[WindowResult] = []
        self._streak = 0
        self._decision: CanaryDecision | None = None
        self.unknown_labels = 0  # over the whole run

    @property
    def state(self) -> str:
        """``running``, ``passed`` or ``stopped``."""
        decision = self._decision
        return decision.verdict if decision else RUNNING

    @property
    def decision(self) -> CanaryDecision | None:
        """The decision, once there is one."""
        return self._decision

    @property
    def results(self) -> tuple[WindowResult, ...]:
        """Every judged window, in order."""
        with self._lock:
            return tuple(self._results)

    def side_of(self, version: str) -> str:
        """``"candidate"`` or ``"stable"`` for a version name; ValueError for another."""
        if version == self.candidate.version:
            return "candidate"
        if version == self.stable.version:
            return "stable"
        raise ValueError(
            f"version {version!r} is neither the candidate {self.candidate.version} nor the "
            f"stable version {self.stable.version}"
        )

    def observe(
        self,
        version: str,
        scores: Sequence[float] | np.ndarray,
        latency_s: float | Sequence[float] | np.ndarray | None = None,
        error: bool | Sequence[bool] | np.ndarray = False,
        ids: Sequence[str] | None = None,
        records: int | None = None,
    ) -> None:
        """Take the records ``version`` answered: their scores (empty for a failed request
        of ``records`` records), the request latency (one for all, or one per record;
        None: not timed), whether they failed, and their prediction ids."""
        side = self.side_of(version)
        s = np.asarray(scores, dtype=float).ravel()
        n = s.size or (records if records is not None else 1)
        if s.size == 0:
            s = np.full(n, np.nan)
        latency = np.broadcast_to(
            np.asarray(np.nan if latency_s is None else latency_s, dtype=float), (n,)
        )
        failed = np.broadcast_to(np.asarray(error, dtype=bool), (n,))
        names = list(ids) if ids is not None else []
        if names and len(names) != n:
            raise ValueError(f"{len(names)} ids for {n} records")
        decided: CanaryDecision | None = None
        with self._lock:
            if self._decision is not None:
                return
            decided = self._roll(self._clock())
            start = 0
            while decided is None and start < n:
                end = n
                if side == "candidate" and self.policy.window.requests is not None:
                    room = self.policy.window.requests - self._window.candidate.records
                    end = min(n, start + room)
                self._window.side(side).add(s[start:end], latency[start:end], failed[start:end])
                if names:
                    self._memory.remember(names[start:end], side, s[start:end])
                start = end
                if self._window_full():
                    decided = self._close(self._clock())
        self._announce(decided)

    def label(self, prediction_id: str, value: object) -> bool:
        """A label for an earlier prediction; False when the id is unknown (counted).
        FeedbackError when the label is not 0/1 or the id not a string."""
        return self.label_many([(prediction_id, value)]) == 0

    def label_many(self, pairs: Sequence[tuple[str, object]]) -> int:
        """Labels ``(id, value)`` for earlier predictions, all checked before any is
        taken (a FeedbackError takes none); returns how many ids were unknown."""
        labels = [(prediction_id, label_value(prediction_id, v)) for prediction_id, v in pairs]
        unknown = 0
        with self._lock:
            if self._decision is not None:
                return 0
            decided = self._roll(self._clock())
            window = self._window
            for prediction_id, label in labels:
                held = self._memory.take(prediction_id)
                if held is None:
                    unknown += 1
                else:
                    window.side(held[0]).add_label(held[1], label)
            window.unknown_labels += unknown
            self.unknown_labels += unknown
        self._announce(decided)
        return unknown

    def poll(self) -> None:
        """Close a time window that is due although no record arrived since."""
        with self._lock:
            decided = None if self._decision is not None else self._roll(self._clock())
        self._announce(decided)

    def _window_full(self) -> bool:
        need = self.policy.window.requests
        return need is not None and self._window.candidate.records >= need

    def _roll(self, now: float) -> CanaryDecision | None:
        """Close the current time window when ``now`` is past its end (lock held)."""
        seconds = self.policy.window.seconds
        if seconds is None or now < self._window.started + seconds:
            return None
        return self._close(now)

    def _close(self, now: float) -> CanaryDecision | None:
        """Judge the current window, open the next one; the decision if this made one."""
        window = self._window
        ended, start = now, now
        seconds = self.policy.window.seconds
        if seconds is not None:
            # A time window ends on time however late it is noticed; the next one starts
            # on the grid the first one set, skipping stretches without a record.
            ended = window.started + seconds
            start = window.started + ((now - window.started) // seconds) * seconds
        result = judge_window(self.policy, self.stable, self.candidate, window, ended)
        self._results.append(result)
        self._window = Window(window.index + 1, start)
        if result.failed:
            self._decision = self._decide(STOPPED, result)
        elif result.healthy:
            self._streak += 1
            if self._streak >= self.policy.windows:
                self._decision = self._decide(PASSED, result)
        return self._decision

    def _decide(self, verdict: str, last: WindowResult) -> CanaryDecision:
        figures = dict(last.figures)
        for name in self.policy.rules.names:
            unjudged = sum(1 for r in self._results if name in r.not_evaluated)
            if unjudged:
                figures[f"not_evaluated.{name}"] = unjudged
        figures["windows.healthy"] = sum(1 for r in self._results if r.healthy)
        if self.unknown_labels:
            figures["labels.unknown"] = self.unknown_labels
        return CanaryDecision(
            verdict=verdict,
            stage=self.policy.stage,
            candidate=self.candidate.version,
            stable=self.stable.version,
            windows=len(self._results),
            rule=self._words(verdict, last),
            figures=MappingProxyType(figures),
            failed=last.failed,
            rows=sum(r.candidate_records for r in self._results),
        )

    def _words(self, verdict: str, last: WindowResult) -> str:
        if verdict == STOPPED:
            first, *others = (r for r in last.rules if r.status == FAILED)
            also = f"; also {', '.join(r.name for r in others)}" if others else ""
            return f"window {last.index}: {first.detail}{also}"
        judged = [n for n in self.policy.rules.names if n not in last.not_evaluated]
        words = f"{self.policy.windows} healthy windows in a row; within tolerance: "
        words += ", ".join(judged)
        unjudged = [r for r in last.rules if r.status == NOT_EVALUATED]
        if unjudged:
            words += "; not evaluated: " + "; ".join(f"{r.name} ({r.detail})" for r in unjudged)
        return words

    def _announce(self, decided: CanaryDecision | None) -> None:
        if decided is not None and self._on_decision is not None:
            self._on_decision(decided)
