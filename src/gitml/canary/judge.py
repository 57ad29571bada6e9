"""A closed window judged by the policy's rules: every figure, and each rule's outcome.

A rule *fails* when the candidate is worse than the stable version (or than its own
baseline, for score PSI) by more than the rule's tolerance and the difference is
significant at the policy's confidence (:mod:`gitml.canary.evidence`). A rule without
the data it needs in this window (too few labels, no latencies, no baseline bins) is
*not evaluated*: that never counts as a pass of the rule, but it does not keep the
window from being healthy on the others. A window is healthy when no rule failed and at
least one was evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.canary import evidence
from gitml.monitor.cbpe import estimate_performance, expected_roc_auc
from gitml.monitor.stats import bin_counts, psi

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.canary.policy import CanaryPolicy
    from gitml.canary.side import VersionSide
    from gitml.canary.window import VersionWindow, Window

PASSED, FAILED, NOT_EVALUATED = "passed", "failed", "not evaluated"
MIN_SCORED = 30  # scored records per version before its scores are judged
MIN_TIMED = 100  # timed records per version before a 99th percentile means anything
P99 = 0.99


@dataclass(frozen=True)
class RuleResult:
    """One rule in one window: the two sides' figures, the compared value, the limit."""

    name: str
    status: str  # passed | failed | not evaluated
    detail: str  # in words: what was compared, or why it was not
    candidate: float | None = None
    stable: float | None = None
    value: float | None = None  # increase, ratio, PSI or drop: what the limit bounds
    limit: float | None = None
    within_chance: bool = False  # passed although beyond the limit: not significant

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class WindowResult:
    """A judged window: its records per version, the rules' outcomes and every figure."""

    index: int
    started: float
    ended: float
    candidate_records: int
    stable_records: int
    rules: tuple[RuleResult, ...]
    figures: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    unknown_labels: int = 0

    @property
    def failed(self) -> tuple[str, ...]:
        """The rules this window failed."""
        return tuple(r.name for r in self.rules if r.status == FAILED)

    @property
    def not_evaluated(self) -> tuple[str, ...]:
        """The rules this window had no data for."""
        return tuple(r.name for r in self.rules if r.status == NOT_EVALUATED)

    @property
    def healthy(self) -> bool:
        """No rule failed and at least one was evaluated."""
        return not self.failed and len(self.not_evaluated) < len(self.rules)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``healthy``, ``failed`` and ``not_evaluated`` spelled out."""
        return {
            "index": self.index,
            "started": self.started,
            "ended": self.ended,
            "candidate_records": self.candidate_records,
            "stable_records": self.stable_records,
            "healthy": self.healthy,
            "failed": list(self.failed),
            "not_evaluated": list(self.not_evaluated),
            "unknown_labels": self.unknown_labels,
            "rules": [r.to_dict() for r in self.rules],
            "figures": dict(self.figures),
        }


def _r(value: float) -> float:
    return round(float(value), 6)


def _g(value: float) -> str:
    return f"{value:.4g}"


class _Judge:
    """Judges one window; collects the figures as it goes."""

    def __init__(
        self, policy: CanaryPolicy, stable: VersionSide, candidate: VersionSide, window: Window
    ) -> None:
        self.policy, self.stable, self.candidate, self.window = policy, stable, candidate, window
        self.z = evidence.z_for(policy.confidence)
        self.figures: dict[str, float] = {
            "candidate.rows": window.candidate.records,
            "stable.rows": window.stable.records,
        }

    def note(self, **values: float | None) -> None:
        for key, value in values.items():
            if value is not None and np.isfinite(value):
                self.figures[key.replace("__", ".")] = _r(value)

    def outcome(
        self, name: str, worse: bool, significant: bool, words: str, **kw: Any
    ) -> RuleResult:
        if worse and significant:
            return RuleResult(name, FAILED, words, **kw)
        chance = f" (within chance at {self.policy.confidence:g} confidence)" if worse else ""
        return RuleResult(name, PASSED, words + chance, within_chance=worse, **kw)

    def error_rate(self, limit: float) -> RuleResult:
        c, s = self.window.candidate, self.window.stable
        if not c.records or not s.records:
            return RuleResult("error_rate", NOT_EVALUATED, "no records of one version")
        rc, rs = c.errors / c.records, s.errors / s.records
        increase = rc - rs
        self.note(candidate__error_rate=rc, stable__error_rate=rs, error_rate__increase=increase)
        words = f"error rate {_g(rc)} vs the stable version's {_g(rs)} (max increase {_g(limit)})"
        significant = evidence.rate_increase_significant(
            c.errors, c.records, s.errors, s.records, self.z
        )
        return self.outcome(
            "error_rate", increase > limit, significant, words,
            candidate=rc, stable=rs, value=increase, limit=limit,
        )  # fmt: skip

    def p99_latency(self, limit: float) -> RuleResult:
        lc, ls = self.window.candidate.latencies, self.window.stable.latencies
        if min(lc.size, ls.size) < MIN_TIMED:
            why = "no request latencies" if not lc.size and not ls.size else "too few timed"
            return RuleResult("p99_latency", NOT_EVALUATED, f"{why} (needs {MIN_TIMED} each)")
        pc, ps = float(np.quantile(lc, P99)) * 1000, float(np.quantile(ls, P99)) * 1000
        ratio = pc / ps if ps > 0 else float("inf")
        self.note(candidate__p99_latency_ms=pc, stable__p99_latency_ms=ps, p99_latency__ratio=ratio)
        words = f"p99 latency {_g(pc)} ms is {_g(ratio)}x the stable version's {_g(ps)} ms"
        significant = evidence.latency_increase_significant(lc, ls, P99, self.z)
        return self.outcome(
            "p99_latency", ratio > limit, significant, f"{words} (max {_g(limit)}x)",
            candidate=pc, stable=ps, value=ratio, limit=limit,
        )  # fmt: skip

    def score_psi(self, limit: float) -> RuleResult:
        scores = self.window.candidate.scores
        edges = np.asarray(self.candidate.score_edges, dtype=float)
        fractions = np.asarray(self.candidate.score_fractions, dtype=float)
        if not edges.size or fractions.size != edges.size + 1 or fractions.sum() <= 0:
            return RuleResult("score_psi", NOT_EVALUATED, "the candidate has no baseline bins")
        if scores.size < MIN_SCORED:
            return RuleResult("score_psi", NOT_EVALUATED, f"fewer than {MIN_SCORED} scores")
        counts = bin_counts(scores, edges)
        value = psi(fractions, counts)
        self.note(candidate__score_psi=value)
        words = f"score PSI {_g(value)} against the candidate's baseline (max {_g(limit)})"
        significant = evidence.bins_differ_significantly(counts, fractions, self.z)
        return self.outcome(
            "score_psi", value > limit, significant, words, candidate=value, value=value,
            limit=limit,
        )  # fmt: skip

    def estimated_roc_auc(self, limit: float) -> RuleResult:
        sc, ss = self.window.candidate.scores, self.window.stable.scores
        if min(sc.size, ss.size) < MIN_SCORED:
            return RuleResult("estimated_roc_auc", NOT_EVALUATED, f"< {MIN_SCORED} scores")
        c = estimate_performance(sc, self.candidate.threshold, self.candidate.calibration)
        s = estimate_performance(ss, self.stable.threshold, self.stable.calibration)
        if c.roc_auc is None or s.roc_auc is None:
            return RuleResult("estimated_roc_auc", NOT_EVALUATED, "one class only expected")
        drop = s.roc_auc - c.roc_auc
        self.note(
            candidate__estimated_roc_auc=c.roc_auc,
            stable__estimated_roc_auc=s.roc_auc,
            estimated_roc_auc__drop=drop,
        )
        se_c, se_s = _cbpe_se(sc, self.candidate), _cbpe_se(ss, self.stable)
        words = (
            f"estimated ROC AUC {_g(c.roc_auc)} vs the stable version's {_g(s.roc_auc)} "
            f"(drop {_g(drop)}, max {_g(limit)})"
        )
        return self.outcome(
            "estimated_roc_auc", drop > limit,
            evidence.auc_drop_significant(drop, se_c, se_s, self.z), words,
            candidate=c.roc_auc, stable=s.roc_auc, value=drop, limit=limit,
        )  # fmt: skip

    def realised_roc_auc(self, limit: float) -> RuleResult:
        c, s = self.window.candidate, self.window.stable
        need = self.policy.rules.min_labels
        self.note(candidate__labels=len(c.labels), stable__labels=len(s.labels))
        if min(len(c.labels), len(s.labels)) < need:
            counts = f"candidate {len(c.labels)}, stable {len(s.labels)}"
            return RuleResult(
                "realised_roc_auc", NOT_EVALUATED, f"fewer than {need} labels ({counts})"
            )
        (ac, se_c), (as_, se_s) = _realised(c), _realised(s)
        if ac is None or as_ is None:
            return RuleResult("realised_roc_auc", NOT_EVALUATED, "labels of one class only")
        drop = as_ - ac
        self.note(
            candidate__realised_roc_auc=ac,
            stable__realised_roc_auc=as_,
            realised_roc_auc__drop=drop,
        )
        words = (
            f"realised ROC AUC {_g(ac)} vs the stable version's {_g(as_)} on "
            f"{len(c.labels)} and {len(s.labels)} labels (drop {_g(drop)}, max {_g(limit)})"
        )
        return self.outcome(
            "realised_roc_auc", drop > limit,
            evidence.auc_drop_significant(drop, se_c, se_s, self.z), words,
            candidate=ac, stable=as_, value=drop, limit=limit,
        )  # fmt: skip


def _cbpe_se(scores: np.ndarray, side: VersionSide) -> float:
    p = side.calibration.apply(scores) if side.calibration else np.clip(scores, 0, 1)
    return evidence.cbpe_auc_standard_error(scores, p)


def _realised(side: VersionWindow) -> tuple[float | None, float]:
    scores = np.asarray(side.labelled_scores, dtype=float)
    labels = np.asarray(side.labels, dtype=float)
    auc = expected_roc_auc(scores, labels)  # 0/1 probabilities: the plain ROC AUC
    if auc is None:
        return None, 0.0
    positives = float(labels.sum())
    return auc, evidence.auc_standard_error(auc, positives, labels.size - positives)


def judge_window(
    policy: CanaryPolicy,
    stable: VersionSide,
    candidate: VersionSide,
    window: Window,
    ended: float,
) -> WindowResult:
    """Judge ``window`` (closed at ``ended`` on the analysis clock) by ``policy``'s rules."""
    judge = _Judge(policy, stable, candidate, window)
    rules = tuple(getattr(judge, name)(getattr(policy.rules, name)) for name in policy.rules.names)
    if window.unknown_labels:
        judge.figures["labels.unknown"] = window.unknown_labels
    return WindowResult(
        index=window.index,
        started=window.started,
        ended=ended,
        candidate_records=window.candidate.records,
        stable_records=window.stable.records,
        rules=rules,
        figures=MappingProxyType(judge.figures),
        unknown_labels=window.unknown_labels,
    )
