"""Judging a candidate against a policy: pure functions, no I/O.

Every rule yields a row *rule → observed → limit → pass/warn/fail*, so CI and the report
show exactly why a promotion may or may not happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isnan
from typing import TYPE_CHECKING, Literal

from gitml.policy.approvals import ApprovalResult, NotEvaluated, rule_text
from gitml.report.values import as_number, format_delta, format_value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.policy.model import ApprovalRule, MetricRule, NoBaseline, Policy
    from gitml.report.values import Scalar

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class RuleResult:
    """One checked rule."""

    rule: str
    observed: str
    limit: str
    status: Status

    def to_dict(self) -> dict[str, str]:
        """JSON shape of a rule row."""
        return {
            "rule": self.rule,
            "observed": self.observed,
            "limit": self.limit,
            "status": self.status,
        }


@dataclass(frozen=True)
class GateResult:
    """Every rule of one model's gate for one stage."""

    model: str
    stage: str
    configured: bool
    required: bool
    baseline: str | None
    rules: tuple[RuleResult, ...] = ()

    @property
    def status(self) -> str:
        """``not_configured``, ``failed``, ``warned`` or ``passed``."""
        if not self.configured:
            return "not_configured"
        statuses = {rule.status for rule in self.rules}
        if "fail" in statuses:
            return "failed"
        if "warn" in statuses:
            return "warned"
        return "passed"

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        """The failing rules."""
        return tuple(rule for rule in self.rules if rule.status == "fail")

    def to_dict(self) -> dict[str, object]:
        """JSON shape: model, stage, status, required, baseline and the rule rows."""
        return {
            "model": self.model,
            "stage": self.stage,
            "status": self.status,
            "required": self.required,
            "baseline": self.baseline,
            "rules": [rule.to_dict() for rule in self.rules],
        }


def _bounds(name: str, rule: MetricRule, value: Scalar) -> list[RuleResult]:
    results = []
    number = as_number(value)
    for bound, op in ((rule.min, ">="), (rule.max, "<=")):
        if bound is None:
            continue
        label = f"{name} {op} {format_value(bound)}"
        if number is None:
            results.append(
                RuleResult(
                    label,
                    "missing" if value is None else str(value),
                    f"{op} {format_value(bound)}",
                    "fail",
                )
            )
            continue
        ok = number >= bound if op == ">=" else number <= bound
        results.append(
            RuleResult(
                label, format_value(value), f"{op} {format_value(bound)}", "pass" if ok else "fail"
            )
        )
    return results


def _regression(
    name: str,
    rule: MetricRule,
    value: Scalar,
    baseline: Scalar,
    direction: str | None,
    no_baseline: NoBaseline,
) -> RuleResult | None:
    tolerance = rule.max_regression
    if tolerance is None:
        return None
    label = f"{name} regression vs baseline"
    if direction not in ("higher", "lower"):
        return RuleResult(
            label, "no direction declared", "declare it in gitml.yaml `metrics`", "fail"
        )
    head, base = as_number(value), as_number(baseline)
    if base is None:
        return RuleResult(label, "no baseline", f"no_baseline: {no_baseline}", no_baseline)
    if head is None:
        return RuleResult(label, "missing", "present", "fail")
    allowed = tolerance.allowed(base)
    worse_by = (base - head) if direction == "higher" else (head - base)
    limit = f"worse by at most {format_value(allowed)}"
    observed = f"{format_value(head)} vs {format_value(base)} ({format_delta(head - base)})"
    # A drop of exactly the allowed amount passes, whatever float subtraction rounds it to.
    return RuleResult(label, observed, limit, "pass" if worse_by <= allowed + 1e-12 else "fail")


def approval_row(
    rule: ApprovalRule,
    approvals: ApprovalResult | NotEvaluated | None,
    unevaluated: Status = "fail",
) -> RuleResult:
    """The row of a gate's approvals rule. Not judged (no pull request to read, or none
    given): ``unevaluated``, which fails a gate unless the caller only reports."""
    if isinstance(approvals, ApprovalResult):
        return RuleResult(
            f"approvals of #{approvals.pull_request}",
            approvals.observed,
            f"{approvals.limit}, none of them requesting changes",
            "pass" if approvals.passed else "fail",
        )
    reason = approvals.reason if approvals is not None else "needs --pull-request"
    return RuleResult(
        "approvals", f"not evaluated: {reason}", rule_text(rule.min, rule.reviewers), unevaluated
    )


def evaluate_gate(
    policy: Policy,
    *,
    model: str,
    stage: str,
    candidate: Mapping[str, Scalar],
    operational: Mapping[str, Scalar],
    baseline: Mapping[str, Scalar] | None,  # the baseline's metrics and operational figures
    baseline_label: str | None,
    directions: Mapping[str, str],
    card_problems: list[str] | None = None,
    data_problems: list[str] | None = None,
    approvals: ApprovalResult | NotEvaluated | None = None,
    approvals_unevaluated: Status = "fail",
) -> GateResult:
    """Every rule of ``policy`` applied to the candidate's numbers (and checks done outside).

    ``approvals``: the approvals rule judged on the pull request (or why it was not);
    None when no pull request was given. An approvals rule that is not judged gets
    ``approvals_unevaluated`` (fail: it never passes silently)."""
    rules: list[RuleResult] = []
    for name in policy.required_metrics:
        value = candidate.get(name, operational.get(name))
        number = as_number(value)
        # NaN is no measurement: a required metric that became NaN is as absent as a missing one.
        observed = (
            "missing"
            if value is None
            else "NaN"
            if number is not None and isnan(number)
            else "present"
        )
        rules.append(
            RuleResult(
                f"{name} present",
                observed,
                "required",
                "pass" if observed == "present" else "fail",
            )
        )
    for source, table in ((candidate, policy.metrics), (operational, policy.operational)):
        for name, rule in table.items():
            value = source.get(name)
            rules += _bounds(name, rule, value)
            base_value = (baseline or {}).get(name)
            regression = _regression(
                name, rule, value, base_value, directions.get(name), policy.no_baseline
            )
            if regression is not None:
                rules.append(regression)
    if policy.model_card:
        problems = card_problems or []
        rules.append(
            RuleResult(
                "model card valid",
                problems[0] if problems else "valid",
                "schema-valid card",
                "fail" if problems else "pass",
            )
        )
    if policy.data:
        problems = data_problems or []
        if problems:
            rules += [
                RuleResult("training data schema", p, "as declared", "fail") for p in problems
            ]
        else:
            rules.append(RuleResult("training data schema", "as declared", "as declared", "pass"))
    if policy.approvals is not None:
        rules.append(approval_row(policy.approvals, approvals, approvals_unevaluated))
    return GateResult(model, stage, True, policy.required, baseline_label, tuple(rules))
