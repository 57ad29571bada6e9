"""A stage's canary policy (``gitml.yaml`` ``canary.<stage>``), parsed once into frozen values.

```yaml
canary:
  production:                 # the stage the candidate is heading for
    percent: 10               # share of traffic the candidate answers
    key: header:X-Request-Key # stickiness: header:NAME or field:NAME; absent: random
    window: {requests: 500}   # closes after 500 candidate-answered records, or {seconds: S}
    windows: 3                # healthy windows in a row to pass
    confidence: 0.999         # how sure a failing rule must be that it is no chance
    rules:
      error_rate: {max_increase: 0.01}
      p99_latency: {max_ratio: 1.5}
      score_psi: {max: 0.25}
      estimated_roc_auc: {max_drop: 0.03}
      realised_roc_auc: {max_drop: 0.03, min_labels: 200}
```

The JSON Schema (``gitml.schema.json``) says the same for ``gitml validate``; this module
checks it again so that a policy read without the schema (or built by a caller) is still
refused with one line naming the key and what was expected.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from gitml.errors import ConfigError, UsageError
from gitml.files import CONFIG_FILE

RULE_NAMES = ("error_rate", "p99_latency", "score_psi", "estimated_roc_auc", "realised_roc_auc")
KEY_SOURCES = ("header", "field")
_KEY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DEFAULT_PERCENT = 10.0
DEFAULT_WINDOWS = 3
DEFAULT_MIN_LABELS = 200
# One-sided: a window fails a rule only when a difference this unlikely under "no real
# difference" is seen. 0.999 keeps an identical candidate's false stops near 1 in 1,000
# per rule and window (tests/test_canary_simulation.py measures the whole policy).
DEFAULT_CONFIDENCE = 0.999


@dataclass(frozen=True)
class KeySpec:
    """Where a request's stickiness key is read: a header, or a field of the JSON record."""

    source: str  # header | field
    name: str

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"

    @classmethod
    def parse(cls, text: object) -> KeySpec:
        """``header:NAME`` or ``field:NAME``; ValueError saying what was expected."""
        source, _, name = text.partition(":") if isinstance(text, str) else ("", "", "")
        if source not in KEY_SOURCES or not _KEY_NAME.fullmatch(name):
            raise ValueError(f"expected header:NAME or field:NAME, got {text!r}")
        return cls(source, name)


@dataclass(frozen=True)
class WindowSpec:
    """A window closes after ``requests`` candidate-answered records, or after ``seconds``."""

    requests: int | None = None
    seconds: float | None = None

    def describe(self) -> str:
        """``500 candidate records`` or ``300 s``."""
        if self.requests is not None:
            return f"{self.requests} candidate records"
        return f"{self.seconds:g} s"


@dataclass(frozen=True)
class CanaryRules:
    """The tolerances a window is judged by; a rule left out is not judged.

    ``error_rate``: largest allowed candidate-minus-stable error rate; ``p99_latency``:
    largest candidate/stable ratio of the 99th latency percentile; ``score_psi``: largest
    PSI of the candidate's scores against its own baseline; ``estimated_roc_auc`` and
    ``realised_roc_auc``: largest allowed stable-minus-candidate ROC AUC (CBPE, and from
    labels once both versions have ``min_labels`` in a window).
    """

    error_rate: float | None = None
    p99_latency: float | None = None
    score_psi: float | None = None
    estimated_roc_auc: float | None = None
    realised_roc_auc: float | None = None
    min_labels: int = DEFAULT_MIN_LABELS

    @property
    def names(self) -> tuple[str, ...]:
        """The rules that are set, in the policy's order."""
        return tuple(name for name in RULE_NAMES if getattr(self, name) is not None)


@dataclass(frozen=True)
class CanaryPolicy:
    """How a candidate heading for ``stage`` is judged against the stable version."""

    stage: str
    rules: CanaryRules
    percent: float = DEFAULT_PERCENT
    key: KeySpec | None = None
    window: WindowSpec = field(default_factory=lambda: WindowSpec(requests=500))
    windows: int = DEFAULT_WINDOWS
    confidence: float = DEFAULT_CONFIDENCE

    def with_percent(self, percent: float, option: str = "--percent") -> CanaryPolicy:
        """This policy with another traffic share (a command-line override), checked."""
        if not _is_number(percent) or not 0 < percent < 100:
            raise UsageError(f"{option}: expected a number above 0 and below 100, got {percent!r}")
        return replace(self, percent=float(percent))


class _At:
    """Builds the one-line error of one key path of the policy."""

    def __init__(self, file: str, path: str) -> None:
        self.file, self.path = file, path

    def child(self, key: str) -> _At:
        return _At(self.file, f"{self.path}.{key}")

    def error(self, expected: str, value: Any = None, shown: bool = True) -> ConfigError:
        got = f", got {value!r}" if shown else ""
        return ConfigError(
            f"{self.file}: {self.path}: expected {expected}{got}",
            [(self.file, self.path, f"expected {expected}")],
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _mapping(raw: Any, at: _At, keys: tuple[str, ...], expected: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise at.error(expected, raw)
    unknown = sorted(str(k) for k in raw if k not in keys)
    if unknown:
        raise at.error(f"{expected} (unknown key(s): {', '.join(unknown)})", shown=False)
    return raw


def _bounded(raw: Any, at: _At, low: float, high: float | None, expected: str) -> float:
    if not _is_number(raw) or raw < low or (high is not None and raw > high):
        raise at.error(expected, raw)
    return float(raw)


def _rule(raw: Any, at: _At, key: str, low: float, high: float | None, expected: str) -> float:
    body = _mapping(raw, at, (key,), f"{{{key}: N}}")
    if key not in body:
        raise at.error(f"{{{key}: N}}", raw)
    return _bounded(body[key], at.child(key), low, high, expected)


def _rules(raw: Any, at: _At) -> CanaryRules:
    body = _mapping(raw, at, RULE_NAMES, f"at least one of {', '.join(RULE_NAMES)}")
    if not body:
        raise at.error(f"at least one of {', '.join(RULE_NAMES)}", raw)
    values: dict[str, Any] = {}
    if "error_rate" in body:
        values["error_rate"] = _rule(
            body["error_rate"], at.child("error_rate"), "max_increase", 0, 1, "a share in [0, 1]"
        )
    if "p99_latency" in body:
        # Below 1 would stop a candidate exactly as fast as the stable version.
        values["p99_latency"] = _rule(
            body["p99_latency"], at.child("p99_latency"), "max_ratio", 1, None, "a ratio >= 1"
        )
    if "score_psi" in body:
        values["score_psi"] = _rule(
            body["score_psi"], at.child("score_psi"), "max", 0, None, "a PSI >= 0"
        )
    if "estimated_roc_auc" in body:
        values["estimated_roc_auc"] = _rule(
            body["estimated_roc_auc"], at.child("estimated_roc_auc"), "max_drop", 0, 1,
            "an AUC drop in [0, 1]",
        )  # fmt: skip
    if "realised_roc_auc" in body:
        realised_at = at.child("realised_roc_auc")
        realised = _mapping(
            body["realised_roc_auc"], realised_at, ("max_drop", "min_labels"),
            "{max_drop: N, min_labels: N}",
        )  # fmt: skip
        if "max_drop" not in realised:
            raise realised_at.error("{max_drop: N, min_labels: N}", body["realised_roc_auc"])
        values["realised_roc_auc"] = _bounded(
            realised["max_drop"], realised_at.child("max_drop"), 0, 1, "an AUC drop in [0, 1]"
        )
        min_labels = realised.get("min_labels", DEFAULT_MIN_LABELS)
        # An AUC needs both classes; below ~20 labels per version it is mostly noise.
        if type(min_labels) is not int or min_labels < 20:
            raise realised_at.child("min_labels").error("an integer >= 20", min_labels)
        values["min_labels"] = min_labels
    return CanaryRules(**values)


def _key(raw: Any, at: _At) -> KeySpec | None:
    if raw is None:
        return None
    try:
        return KeySpec.parse(raw)
    except ValueError:
        raise at.error("header:NAME or field:NAME", raw) from None


def _window(raw: Any, at: _At) -> WindowSpec:
    expected = "{requests: N} or {seconds: S}"
    if not isinstance(raw, dict) or len(raw) != 1:
        raise at.error(expected, raw)
    (unit, value), = raw.items()  # fmt: skip
    if unit == "requests":
        if type(value) is not int or value < 1:
            raise at.child("requests").error("an integer >= 1", value)
        return WindowSpec(requests=value)
    if unit == "seconds":
        return WindowSpec(seconds=_bounded(value, at.child("seconds"), 1e-9, None, "S > 0"))
    raise at.error(expected, raw)


POLICY_KEYS = ("percent", "key", "window", "windows", "confidence", "rules")


def policy_from_dict(stage: str, raw: Any, file: str = CONFIG_FILE) -> CanaryPolicy:
    """The policy ``canary.<stage>`` holds; a ConfigError naming the key otherwise."""
    at = _At(file, f"canary.{stage}")
    body = _mapping(raw, at, POLICY_KEYS, "a canary policy with rules")
    if "rules" not in body:
        raise at.error("a canary policy with rules", shown=False)
    windows = body.get("windows", DEFAULT_WINDOWS)
    if type(windows) is not int or windows < 1:
        raise at.child("windows").error("an integer >= 1", windows)
    confidence = body.get("confidence", DEFAULT_CONFIDENCE)
    if not _is_number(confidence) or not 0.5 <= confidence < 1:
        raise at.child("confidence").error("a number in [0.5, 1)", confidence)
    percent = body.get("percent", DEFAULT_PERCENT)
    # 0 would never route a record to the candidate, so no window would ever close and
    # the canary could never decide; 100 would leave the stable version no traffic in
    # the same window to be compared with, so every comparing rule would go unjudged.
    if not _is_number(percent) or not 0 < percent < 100:
        raise at.child("percent").error("a number above 0 and below 100", percent)
    return CanaryPolicy(
        stage=stage,
        rules=_rules(body["rules"], at.child("rules")),
        percent=float(percent),
        key=_key(body.get("key"), at.child("key")),
        window=_window(body.get("window", {"requests": 500}), at.child("window")),
        windows=windows,
        confidence=float(confidence),
    )


def policies_from_document(
    raw: Any, stages: tuple[str, ...], file: str = CONFIG_FILE
) -> dict[str, CanaryPolicy]:
    """Every stage's policy of a ``canary:`` section (None or empty: none)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _At(file, "canary").error("a mapping of stage names to canary policies", raw)
    policies = {}
    for stage, body in raw.items():
        if stage not in stages:
            raise _At(file, f"canary.{stage}").error(
                f"one of the stages ({', '.join(stages)})", shown=False
            )
        policies[stage] = policy_from_dict(stage, body, file)
    return policies
