"""Gate policies as frozen values, parsed once from ``gitml.yaml``.

Named tuples, not dataclasses: every registry query that reads ``gitml.yaml`` builds
these, and ``import dataclasses`` (through ``inspect``) costs more than the query's work.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Mapping

NoBaseline = Literal["pass", "warn", "fail"]


class Tolerance(NamedTuple):
    """Allowed regression: ``atol + rtol * |baseline|`` in the metric's bad direction."""

    atol: float = 0.0
    rtol: float = 0.0

    def allowed(self, baseline: float) -> float:
        """How far the candidate may be worse than ``baseline``."""
        return self.atol + self.rtol * abs(baseline)


class MetricRule(NamedTuple):
    """Absolute bounds and an allowed regression for one metric."""

    min: float | None = None
    max: float | None = None
    max_regression: Tolerance | None = None


class Policy(NamedTuple):
    """The gate of one stage for one model."""

    required: bool = True
    no_baseline: NoBaseline = "pass"
    metrics: Mapping[str, MetricRule] = MappingProxyType({})
    operational: Mapping[str, MetricRule] = MappingProxyType({})
    required_metrics: tuple[str, ...] = ()
    model_card: bool = False
    data: bool = False


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
    )
