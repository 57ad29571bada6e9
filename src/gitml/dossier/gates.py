"""A stage's gate in words, and what git records about a version passing it (pure).

git records a gate's verdict only through what it allowed: a promotion tag is written
only after the stage's required gate passed (rollbacks skip the metric rules), and a
version exists only because its pull request was merged into main. The main gate's own
verdict is a commit status on GitHub, not in git. Absolute bounds (``min``/``max``) are
also checked here against the metrics at the registered commit; regressions are judged
against the baseline of their day, which the dossier does not re-derive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.dossier.model import Gate
from gitml.report.values import as_number, format_value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.dossier.model import Decision
    from gitml.policy.model import MetricRule, Policy
    from gitml.report.values import Scalar


def rule_text(name: str, rule: MetricRule) -> str:
    """``roc_auc: min 0.8, max_regression atol 0.005``."""
    parts = []
    if rule.min is not None:
        parts.append(f"min {format_value(rule.min)}")
    if rule.max is not None:
        parts.append(f"max {format_value(rule.max)}")
    if rule.max_regression is not None:
        tolerance = rule.max_regression
        allowed = [f"atol {format_value(tolerance.atol)}"] if tolerance.atol else []
        allowed += [f"rtol {format_value(tolerance.rtol)}"] if tolerance.rtol else []
        parts.append(f"max_regression {' '.join(allowed) or '0'}")
    return f"{name}: {', '.join(parts) or 'reported'}"


def policy_rules(policy: Policy) -> tuple[str, ...]:
    """Every rule of a gate, one line each, in the order ``gitml.yaml`` gives them."""
    rules = [rule_text(name, rule) for name, rule in policy.metrics.items()]
    rules += [f"operational {rule_text(n, r)}" for n, r in policy.operational.items()]
    if policy.required_metrics:
        rules.append(f"required metrics: {', '.join(policy.required_metrics)}")
    if policy.model_card:
        rules.append("model card: required and valid")
    if policy.data:
        rules.append("data: the training data must match the declared schema")
    if policy.approvals is not None:
        who = f" from {', '.join(policy.approvals.reviewers)}" if policy.approvals.reviewers else ""
        rules.append(f"approvals: at least {policy.approvals.min}{who}")
    if policy.no_baseline != "pass":
        rules.append(f"no baseline: {policy.no_baseline}")
    return tuple(rules)


def bounds(policy: Policy, metrics: Mapping[str, Scalar]) -> tuple[str, ...]:
    """Each ``min``/``max`` rule checked against the recorded metric values."""
    found = []
    for name, rule in {**policy.metrics, **policy.operational}.items():
        value = as_number(metrics.get(name))
        for limit, word, ok in (
            (rule.min, "min", lambda v, x: v >= x),
            (rule.max, "max", lambda v, x: v <= x),
        ):
            if limit is None:
                continue
            if value is None:
                found.append(f"{name}: no recorded value to compare with {word} {limit}")
                continue
            verdict = "within" if ok(value, limit) else "OUTSIDE"
            found.append(f"{name} {format_value(value)}: {verdict} {word} {format_value(limit)}")
    return tuple(found)


def gate_facts(
    stage: str,
    policy: Policy,
    metrics: Mapping[str, Scalar],
    decisions: tuple[Decision, ...],
    pull_request: str | None,
) -> Gate:
    """The gate of ``stage`` and what the registry records about this version and it."""
    if stage == "main":
        via = f"pull request {pull_request}" if pull_request else "its pull request"
        outcome = (
            f"merged into main through {via}; the gate's verdict was a commit status on "
            "GitHub, which git does not record"
        )
        proof = None
    else:
        assigned = [
            d for d in decisions if d.stage == stage and d.event in ("promotion", "rollback")
        ]
        if not assigned:
            outcome, proof = f"never promoted to {stage}", None
        elif assigned[0].event == "rollback":
            outcome, proof = "assigned by rollback (metric rules skipped)", assigned[0].tag
        else:
            outcome = "passed: the promotion tag is written only after the required gate passed"
            proof = assigned[0].tag
    return Gate(
        stage, policy.required, policy_rules(policy), outcome, proof, bounds(policy, metrics)
    )
