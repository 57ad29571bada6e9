"""Gate policies as frozen values, parsed once from ``gitml.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

NoBaseline = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Tolerance:
    """Allowed regression: ``atol + rtol * |baseline|`` in the metric's bad direction."""

    atol: float = 0.0
    rtol: float = 0.0

    def allowed(self, baseline: float) -> float:
        """How far the candidate may be worse than ``baseline``."""
        return self.atol + self.rtol * abs(baseline)


@dataclass(frozen=True)
class MetricRule:
    """Absolute bounds and an allowed regression for one metric."""

    min: float | None = None
    max: float | None = None
    max_regression: Tolerance | None = None


@dataclass(frozen=True)
class ApprovalRule:
    """``approvals:`` of a gate: at least ``min`` approving reviews of the pull request,
    counted only from ``reviewers`` (logins, or ``org/team`` slugs) when any are named."""

    min: int = 1
    reviewers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """The gate of one stage for one model."""

    required: bool = True
    no_baseline: NoBaseline = "pass"
    metrics: Mapping[str, MetricRule] = field(default_factory=lambda: MappingProxyType({}))
    operational: Mapping[str, MetricRule] = field(default_factory=lambda: MappingProxyType({}))
    required_metrics: tuple[str, ...] = ()
    model_card: bool = False
    data: bool = False
    approvals: ApprovalRule | None = None


def _rule(raw: dict[str, Any]) -> MetricRule:
    tolerance = raw.get("max_regression")
    return MetricRule(
        min=raw.get("min"),
        max=raw.get("max"),
        max_regression=Tolerance(tolerance.get("atol", 0.0), tolerance.get("rtol", 0.0))
        if tolerance
        else None,
    )


def policy_from_dict(raw: dict[str, Any]) -> Policy:
    """A Policy from its (schema-validated) ``gitml.yaml`` mapping."""
    return Policy(
        required=raw.get("required", True),
        no_baseline=raw.get("no_baseline", "pass"),
        metrics={name: _rule(rule) for name, rule in (raw.get("metrics") or {}).items()},
        operational={name: _rule(rule) for name, rule in (raw.get("operational") or {}).items()},
        required_metrics=tuple(raw.get("required_metrics") or ()),
        model_card=raw.get("model_card", False),
        data=raw.get("data", False),
        approvals=ApprovalRule(
            min=raw["approvals"].get("min", 1),
            reviewers=tuple(raw["approvals"].get("from") or ()),
        )
        if raw.get("approvals")
        else None,
    )
