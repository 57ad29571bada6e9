"""Drift thresholds: the warn and drift level of each check, read from ``gitml.yaml``.

Pure Python, so every path that needs to know what "material" means (``gitml drift``,
and ``gitml report`` comparing two revisions' baselines) reads the same thresholds
without loading numpy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class DriftThresholds:
    """Warn and drift levels per check, and the p-value a change must beat to count.

    Defaults, calibrated on the example generator (tests/test_drift.py):

    * PSI 0.1 / 0.25, the usual "moderate" and "significant" shift;
    * KS 0.05 / 0.08: with 2,000-row batches against a 15,000-row baseline, the largest
      KS over all features stayed at or below 0.06 in 100 unshifted batches and was at
      least 0.107 in each of 100 batches at half the downturn (``shift=0.5``);
    * JS distance 0.05 / 0.10, in line with KS: a two-way 50/50 split moving by about
      6 / 12 points (no categorical feature shifts in the generator to calibrate on);
    * missing rate changing by 0.05 / 0.10 (absolute);
    * unseen categories making up 1% / 5% of the present values;
    * ``p_value`` 0.01, the family-wise significance level shared by all of a report's
      tests (module docstring).
    """

    psi_warn: float = 0.1
    psi_drift: float = 0.25
    ks_warn: float = 0.05
    ks_drift: float = 0.08
    js_warn: float = 0.05
    js_drift: float = 0.10
    missing_warn: float = 0.05
    missing_drift: float = 0.10
    unseen_warn: float = 0.01
    unseen_drift: float = 0.05
    p_value: float = 0.01

    def __post_init__(self) -> None:
        problems = _threshold_problems(asdict(self))
        if problems:
            raise ValueError("; ".join(f"{key}: {message}" for key, message in problems))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], file: str, key: str = "") -> DriftThresholds:
        """Thresholds from a config mapping with the field names as keys (all optional).

        Unknown keys, non-numbers and a warn level above its drift level raise one
        ConfigError naming ``file`` and ``key.field`` for every problem.
        """
        prefix = f"{key}." if key else ""
        names = {f.name for f in fields(cls)}
        problems: list[tuple[str, str]] = []
        for name, value in mapping.items():
            if name not in names:
                problems.append((name, f"unknown key (allowed: {', '.join(sorted(names))})"))
            elif isinstance(value, bool) or not isinstance(value, int | float):
                problems.append((name, f"expected a number, got {value!r}"))
        if not problems:
            merged = {**asdict(cls()), **{k: float(v) for k, v in mapping.items()}}
            problems = _threshold_problems(merged)
        if problems:
            first_key, first_message = problems[0]
            more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
            raise ConfigError(
                f"{file}: {prefix}{first_key}: {first_message}{more}",
                [(file, f"{prefix}{k}", m) for k, m in problems],
            )
        return cls(**{k: float(v) for k, v in mapping.items()})

    def to_dict(self) -> dict[str, float]:
        """The thresholds by field name."""
        return asdict(self)


def _threshold_problems(values: dict[str, float]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for check in ("psi", "ks", "js", "missing", "unseen"):
        warn, drift = values[f"{check}_warn"], values[f"{check}_drift"]
        if not 0 <= warn <= drift:
            problems.append((f"{check}_warn", f"must be >= 0 and <= {check}_drift ({drift})"))
    if not 0 < values["p_value"] <= 1:
        problems.append(("p_value", "must be in (0, 1]"))
    return problems
