"""The canary analysis on hand-made traffic: windows, rules, labels, decisions, threads."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from gitml.canary import evidence
from gitml.canary.analysis import CanaryAnalysis, CanaryDecision, VersionSide
from gitml.canary.policy import policy_from_dict
from gitml.canary.window import FeedbackError, label_value
from gitml.monitor.cbpe import Calibration

if TYPE_CHECKING:
    from gitml.canary.policy import CanaryPolicy

RNG = np.random.default_rng(20)
REFERENCE = np.sort(RNG.beta(2, 5, 20_000))
EDGES = tuple(float(e) for e in np.quantile(REFERENCE, np.arange(1, 10) / 10))
BASELINE: dict[str, Any] = {
    "score": {"edges": list(EDGES), "fractions": [0.1] * 10},
    "calibration": {"scores": [0.0, 1.0], "probabilities": [0.0, 1.0]},
}
STABLE = VersionSide.from_baseline("v0.1.0", BASELINE, 0.25)
CANDIDATE = VersionSide.from_baseline("v0.2.0", BASELINE, 0.25)


def _policy(rules: dict[str, Any], **more: Any) -> CanaryPolicy:
    return policy_from_dict("production", {"window": {"requests": 100}, **more, "rules": rules})


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _scores(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).beta(2, 5, n)


def test_the_baseline_gives_a_side_its_bins_and_calibration() -> None:
    assert STABLE.score_edges == EDGES
    assert STABLE.score_fractions == (0.1,) * 10
    assert STABLE.calibration == Calibration((0.0, 1.0), (0.0, 1.0))
    assert VersionSide.from_baseline("v1", None) == VersionSide("v1")


def test_count_windows_split_a_request_at_the_boundary() -> None:
    analysis = CanaryAnalysis(
        _policy({"error_rate": {"max_increase": 0.01}}, windows=5), STABLE, CANDIDATE
    )
    analysis.observe("v0.1.0", _scores(900), 0.01)
    analysis.observe("v0.2.0", _scores(250, 1), 0.01)  # closes windows 1 and 2, starts 3
    results = analysis.results
    assert [(w.index, w.candidate_records, w.stable_records) for w in results] == [
        (1, 100, 900),
        (2, 100, 0),
    ]
    assert [w.healthy for w in results] == [True, False]  # window 2 had no stable records
    assert results[1].not_evaluated == ("error_rate",)
    assert analysis.state == "running"


def test_the_first_failing_window_stops_the_candidate_at_once() -> None:
    decisions: list[CanaryDecision] = []
    policy = _policy({"error_rate": {"max_increase": 0.01}, "score_psi": {"max": 0.25}})
    analysis = CanaryAnalysis(policy, STABLE, CANDIDATE, on_decision=decisions.append)
    analysis.observe("v0.1.0", _scores(1000), 0.01)
    analysis.observe("v0.2.0", _scores(80, 1), 0.01)
    analysis.observe("v0.2.0", [], 0.01, error=True, records=20)  # 20% errors
    assert analysis.state == "stopped"
    assert len(decisions) == 1
    decision = decisions[0]
    assert decision == analysis.decision
    assert (decision.verdict, decision.windows, decision.failed) == ("stopped", 1, ("error_rate",))
    assert decision.rule.startswith("window 1: error rate 0.2 vs the stable version's 0 ")
    assert decision.figures["candidate.error_rate"] == 0.2
    assert decision.figures["error_rate.increase"] == 0.2
    assert (decision.candidate, decision.stable, decision.stage, decision.rows) == (
        "v0.2.0",
        "v0.1.0",
        "production",
        100,
    )
    analysis.observe("v0.2.0", _scores(500), 0.01)  # ignored after the decision
    assert len(analysis.results) == 1
    assert len(decisions) == 1


def test_healthy_windows_in_a_row_pass_and_unjudged_rules_are_counted() -> None:
    policy = _policy(
        {
            "error_rate": {"max_increase": 0.01},
            "realised_roc_auc": {"max_drop": 0.03, "min_labels": 50},
        },
        windows=2,
    )
    analysis = CanaryAnalysis(policy, STABLE, CANDIDATE)
    for seed in range(2):
        analysis.observe("v0.1.0", _scores(500, seed), 0.01)
        analysis.observe("v0.2.0", _scores(100, seed + 10), 0.01)
    decision = analysis.decision
    assert decision is not None
    assert (decision.verdict, decision.windows, decision.rows) == ("passed", 2, 200)
    assert decision.figures["not_evaluated.realised_roc_auc"] == 2
    assert decision.figures["windows.healthy"] == 2
    assert decision.rule == (
        "2 healthy windows in a row; within tolerance: error_rate; not evaluated: "
        "realised_roc_auc (fewer than 50 labels (candidate 0, stable 0))"
    )


def test_a_rule_without_data_never_passes_a_window_by_itself() -> None:
    policy = _policy({"realised_roc_auc": {"max_drop": 0.03, "min_labels": 50}}, windows=1)
    analysis = CanaryAnalysis(policy, STABLE, CANDIDATE)
    for seed in range(5):
        analysis.observe("v0.1.0", _scores(300, seed), 0.01)
        analysis.observe("v0.2.0", _scores(100, seed), 0.01)
    assert analysis.state == "running"
    assert [w.healthy for w in analysis.results] == [False] * 5
    assert all(w.not_evaluated == ("realised_roc_auc",) for w in analysis.results)


def test_time_windows_close_on_the_clock_and_skip_empty_stretches() -> None:
    clock = Clock()
    policy = _policy({"error_rate": {"max_increase": 0.01}}, window={"seconds": 60}, windows=3)
    analysis = CanaryAnalysis(policy, STABLE, CANDIDATE, clock=clock)
    analysis.observe("v0.1.0", _scores(200), 0.01)
    analysis.observe("v0.2.0", _scores(20), 0.01)
    clock.now = 59.9
    analysis.poll()
    assert analysis.results == ()
    clock.now = 60.0
    analysis.poll()  # no new record, the window is due: judged
    assert [(w.index, w.started, w.ended) for w in analysis.results] == [(1, 0.0, 60.0)]
    clock.now = 61
    analysis.observe("v0.1.0", _scores(200), 0.01)
    analysis.observe("v0.2.0", _scores(20), 0.01)
    clock.now = 250  # three windows' time later: the next window starts at 240
    analysis.observe("v0.1.0", _scores(200), 0.01)
    analysis.observe("v0.2.0", _scores(20), 0.01)
    assert [(w.index, w.started, w.ended) for w in analysis.results] == [
        (1, 0.0, 60.0),
        (2, 60.0, 120.0),
    ]
    clock.now = 300
    analysis.poll()
    assert analysis.state == "passed"
    assert analysis.results[-1].started == 240.0


def _labelled_traffic(analysis: CanaryAnalysis, flip: bool, seed: int = 0) -> None:
    """Records whose labels follow the scores (oppose the candidate's when ``flip``),
    labelled right away; then one more candidate record closes the window."""
    rng = np.random.default_rng(seed)
    for side, version, n in (("s", "v0.1.0", 900), ("c", "v0.2.0", 99)):
        scores = rng.beta(2, 5, n)
        labels = (rng.random(n) < scores).astype(int)
        if flip and side == "c":
            labels = 1 - labels
        ids = [f"{side}{seed}-{i}" for i in range(n)]
        analysis.observe(version, scores, 0.01, ids=ids)
        analysis.label_many(list(zip(ids, labels.tolist(), strict=True)))
    analysis.observe("v0.2.0", [0.5], 0.01)


def test_realised_roc_auc_judges_the_labels_each_version_received() -> None:
    rules = {"realised_roc_auc": {"max_drop": 0.03, "min_labels": 50}}
    stopped = CanaryAnalysis(_policy(rules), STABLE, CANDIDATE)
    _labelled_traffic(stopped, flip=True)
    assert stopped.state == "stopped"
    assert stopped.decision is not None
    assert stopped.decision.failed == ("realised_roc_auc",)
    assert stopped.decision.figures["candidate.labels"] == 99
    assert stopped.decision.figures["realised_roc_auc.drop"] > 0.3
    healthy = CanaryAnalysis(_policy(rules, windows=1), STABLE, CANDIDATE)
    _labelled_traffic(healthy, flip=False)
    assert healthy.state == "passed"


def test_unknown_and_repeated_ids_are_counted_not_refused() -> None:
    analysis = CanaryAnalysis(_policy({"error_rate": {"max_increase": 0.01}}), STABLE, CANDIDATE)
    analysis.observe("v0.2.0", [0.2, 0.3], 0.01, ids=["a", "b"])
    assert analysis.label("a", 1) is True
    assert analysis.label("a", 0) is False  # labelled already
    assert analysis.label("never-seen", 1) is False
    assert analysis.label_many([("b", True), ("nope", 0.0)]) == 1
    assert analysis.unknown_labels == 3
    analysis.observe("v0.1.0", _scores(100), 0.01)
    analysis.observe("v0.2.0", _scores(98), 0.01)
    (window,) = analysis.results
    assert window.unknown_labels == 3
    assert window.figures["labels.unknown"] == 3


@pytest.mark.parametrize("value", ["1", "yes", 2, 0.5, None, float("nan"), [1]])
def test_a_label_of_the_wrong_type_is_refused_naming_it(value: object) -> None:
    analysis = CanaryAnalysis(_policy({"error_rate": {"max_increase": 0.01}}), STABLE, CANDIDATE)
    analysis.observe("v0.2.0", [0.2, 0.3], 0.01, ids=["a", "b"])
    with pytest.raises(FeedbackError, match=r"^feedback for b: label .*: expected 0 or 1$"):
        analysis.label_many([("a", 1), ("b", value)])
    assert analysis.label("a", 1) is True  # the refused batch took nothing


def test_label_values_and_ids() -> None:
    assert [label_value("x", v) for v in (0, 1, True, False, 1.0, np.int64(1), np.bool_(0))] == [
        0,
        1,
        1,
        0,
        1,
        1,
        0,
    ]
    with pytest.raises(FeedbackError, match="feedback id 7: expected a non-empty string"):
        label_value(7, 1)


def test_latency_and_score_psi_rules() -> None:
    policy = _policy({"p99_latency": {"max_ratio": 1.5}, "score_psi": {"max": 0.25}})
    rng = np.random.default_rng(5)
    slow = CanaryAnalysis(policy, STABLE, CANDIDATE)
    slow.observe("v0.1.0", _scores(900), rng.lognormal(np.log(0.004), 0.2, 900))
    slow.observe("v0.2.0", _scores(100), rng.lognormal(np.log(0.012), 0.2, 100))
    assert slow.decision is not None
    assert slow.decision.failed == ("p99_latency",)
    assert slow.decision.figures["p99_latency.ratio"] > 2
    shifted = CanaryAnalysis(policy, STABLE, CANDIDATE)
    shifted.observe("v0.1.0", _scores(900), 0.004)
    shifted.observe("v0.2.0", np.clip(_scores(100) + 0.3, 0, 1), 0.004)
    assert shifted.decision is not None
    assert shifted.decision.failed == ("score_psi",)
    untimed = CanaryAnalysis(policy, STABLE, VersionSide("v0.2.0"))
    untimed.observe("v0.1.0", _scores(900))
    untimed.observe("v0.2.0", _scores(100))
    (window,) = untimed.results
    assert window.not_evaluated == ("p99_latency", "score_psi")
    assert not window.healthy


def test_bad_calls_are_refused() -> None:
    policy = _policy({"error_rate": {"max_increase": 0.01}})
    with pytest.raises(ValueError, match=r"the candidate is the stable version v0\.1\.0"):
        CanaryAnalysis(policy, STABLE, VersionSide("v0.1.0"))
    analysis = CanaryAnalysis(policy, STABLE, CANDIDATE)
    with pytest.raises(ValueError, match=r"'v9' is neither the candidate v0\.2\.0 nor the stable"):
        analysis.observe("v9", [0.1])
    with pytest.raises(ValueError, match="1 ids for 2 records"):
        analysis.observe("v0.2.0", [0.1, 0.2], ids=["a"])


def test_threads_observing_at_once_lose_no_record() -> None:
    policy = _policy({"error_rate": {"max_increase": 0.01}}, windows=1000)
    analysis = CanaryAnalysis(policy, STABLE, CANDIDATE)
    barrier = threading.Barrier(4)

    def serve(worker: int) -> None:
        barrier.wait()
        for i in range(250):
            version = "v0.2.0" if i % 4 == 0 else "v0.1.0"
            ids = [f"{worker}-{i}-{j}" for j in range(4)]
            analysis.observe(version, _scores(4, i), 0.002, ids=ids)
            analysis.label(ids[0], i % 2)

    threads = [threading.Thread(target=serve, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = analysis.results
    # 4 workers x 63 candidate requests x 4 records = 1008: ten full windows of 100.
    assert [w.candidate_records for w in results] == [100] * 10
    assert sum(w.stable_records for w in results) <= 4 * 187 * 4
    assert analysis.unknown_labels == 0


def test_evidence_helpers() -> None:
    z = evidence.z_for(0.999)
    assert round(z, 2) == 3.09
    assert not evidence.rate_increase_significant(1, 500, 2, 4500, z)
    assert evidence.rate_increase_significant(15, 500, 0, 4500, z)
    values = np.arange(1.0, 1001.0)
    low, high = evidence.quantile_bounds(values, 0.99, z)
    assert 975 <= low < 990 < high <= 1000
    assert evidence.auc_standard_error(0.8, 100, 400) == pytest.approx(0.0279, abs=0.0005)
    even = np.array([100] * 10)
    assert not evidence.bins_differ_significantly(even, np.full(10, 0.1), z)
    assert evidence.bins_differ_significantly(np.array([500] + [0] * 9), np.full(10, 0.1), z)
