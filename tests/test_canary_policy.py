"""The canary policy in gitml.yaml: frozen values, or one line naming the key that is wrong."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from gitml.canary.policy import (
    CanaryPolicy,
    CanaryRules,
    KeySpec,
    WindowSpec,
    policy_from_dict,
)
from gitml.config import config_from_text
from gitml.documents import packaged_schema, schema_problems
from gitml.errors import ConfigError, UsageError
from tests.helpers import PROJECT_ROOT, gitml

if TYPE_CHECKING:
    from pathlib import Path

FULL: dict[str, Any] = {
    "percent": 10,
    "key": "header:X-Request-Key",
    "window": {"requests": 500},
    "windows": 3,
    "rules": {
        "error_rate": {"max_increase": 0.01},
        "p99_latency": {"max_ratio": 1.5},
        "score_psi": {"max": 0.25},
        "estimated_roc_auc": {"max_drop": 0.03},
        "realised_roc_auc": {"max_drop": 0.03, "min_labels": 200},
    },
}


def test_the_documented_policy_parses_into_frozen_values() -> None:
    policy = policy_from_dict("production", FULL)
    assert policy == CanaryPolicy(
        stage="production",
        rules=CanaryRules(
            error_rate=0.01,
            p99_latency=1.5,
            score_psi=0.25,
            estimated_roc_auc=0.03,
            realised_roc_auc=0.03,
            min_labels=200,
        ),
        percent=10.0,
        key=KeySpec("header", "X-Request-Key"),
        window=WindowSpec(requests=500),
        windows=3,
        confidence=0.999,
    )
    assert policy.rules.names == (
        "error_rate",
        "p99_latency",
        "score_psi",
        "estimated_roc_auc",
        "realised_roc_auc",
    )
    assert str(policy.key) == "header:X-Request-Key"


def test_defaults_and_a_window_in_seconds() -> None:
    policy = policy_from_dict(
        "staging",
        {
            "key": "field:applicant_id",
            "window": {"seconds": 300},
            "rules": {"score_psi": {"max": 0.2}},
        },
    )
    assert (policy.percent, policy.windows, policy.window) == (10.0, 3, WindowSpec(seconds=300.0))
    assert policy.key == KeySpec("field", "applicant_id")
    assert policy.rules.names == ("score_psi",)
    assert policy.window.describe() == "300 s"


def _with(path: str, value: object) -> dict[str, Any]:
    """FULL with one (dotted) key set, or removed when ``value`` is ``...``."""
    body = copy.deepcopy(FULL)
    *parents, leaf = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "window",
            {"minutes": 5},
            "canary.production.window: expected {requests: N} or {seconds: S}",
        ),
        ("window", {"requests": 10, "seconds": 5}, "canary.production.window: expected {requests"),
        ("window", {"requests": 0}, "canary.production.window.requests: expected an integer >= 1"),
        ("window", {"seconds": -1}, "canary.production.window.seconds: expected S > 0"),
        ("percent", 0, "canary.production.percent: expected a number above 0 and below 100, got 0"),
        ("percent", 100, "canary.production.percent: expected a number above 0 and below 100"),
        ("percent", True, "canary.production.percent: expected a number above 0"),
        ("windows", 0, "canary.production.windows: expected an integer >= 1, got 0"),
        ("windows", 2.5, "canary.production.windows: expected an integer >= 1, got 2.5"),
        ("confidence", 1, "canary.production.confidence: expected a number in [0.5, 1), got 1"),
        ("key", "cookie:x", "canary.production.key: expected header:NAME or field:NAME"),
        ("key", "header:", "canary.production.key: expected header:NAME or field:NAME"),
        ("rules", {}, "canary.production.rules: expected at least one of error_rate"),
        ("rules", ..., "canary.production: expected a canary policy with rules"),
        ("rules.psi", {"max": 1}, "canary.production.rules: expected at least one of"),
        (
            "rules.error_rate",
            {"max_increase": 2},
            "rules.error_rate.max_increase: expected a share",
        ),
        (
            "rules.p99_latency",
            {"max_ratio": 0.5},
            "rules.p99_latency.max_ratio: expected a ratio >= 1",
        ),
        ("rules.score_psi", {"min": 1}, "rules.score_psi: expected {max: N}"),
        ("rules.estimated_roc_auc", 0.03, "rules.estimated_roc_auc: expected {max_drop: N}"),
        (
            "rules.realised_roc_auc",
            {"min_labels": 50},
            "rules.realised_roc_auc: expected {max_drop",
        ),
        (
            "rules.realised_roc_auc",
            {"max_drop": 0.03, "min_labels": 5},
            "rules.realised_roc_auc.min_labels: expected an integer >= 20, got 5",
        ),
        (
            "shadow",
            True,
            "canary.production: expected a canary policy with rules (unknown key(s): shadow)",
        ),
    ],
)
def test_a_bad_policy_is_one_line_naming_the_key(path: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        policy_from_dict("production", _with(path, value))
    text = str(raised.value)
    assert text.startswith("gitml.yaml: canary.production")
    assert message in text
    assert "\n" not in text
    # The shipped schema refuses the same policy (gitml validate reports it with the path).
    problems = schema_problems({"canary": {"production": _with(path, value)}}, SCHEMA, "gitml.yaml")
    assert problems, path
    assert all(p.key.startswith("canary.production") for p in problems)


SCHEMA = packaged_schema("gitml.schema.json")


def test_the_schema_takes_the_documented_policy() -> None:
    assert schema_problems({"canary": {"production": FULL}}, SCHEMA, "gitml.yaml") == []


def test_an_override_of_the_percent_is_checked() -> None:
    policy = policy_from_dict("production", FULL)
    assert policy.with_percent(25).percent == 25.0
    with pytest.raises(UsageError, match=r"--percent: expected a number above 0 and below 100"):
        policy.with_percent(0)


def _config_text(canary: object) -> str:
    document = yaml.safe_load((PROJECT_ROOT / "gitml.yaml").read_text())
    if canary is not None:
        document["canary"] = canary
    return yaml.safe_dump(document)


def test_config_gives_each_stage_its_policy() -> None:
    config = config_from_text(_config_text({"production": FULL}))
    policy = config.canary("production")
    assert policy is not None
    assert policy.stage == "production"
    assert config.canary("staging") is None
    assert config_from_text(_config_text(None)).canary("production") is None


def test_config_refuses_a_policy_for_an_unknown_stage_even_unvalidated() -> None:
    with pytest.raises(ConfigError, match=r"^gitml.yaml: canary.prod: expected one of the stages"):
        config_from_text(_config_text({"prod": FULL}), validate=False)
    with pytest.raises(ConfigError, match=r"canary.production.window: expected"):
        config_from_text(_config_text({"production": _with("window", 5)}), validate=False)


def test_gitml_validate_catches_a_bad_policy(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        (repo / name).write_text((PROJECT_ROOT / name).read_text())
    (repo / "gitml.yaml").write_text(_config_text({"production": _with("windows", 0)}))
    result = gitml(repo, "validate", "--json", check=False)
    assert result.returncode == 1
    assert '"key": "canary.production.windows"' in result.stdout


def test_the_readme_policy_is_a_valid_policy() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Canary policy", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    document = yaml.safe_load(block)
    assert schema_problems(document, SCHEMA, "README.md") == []
    policy = policy_from_dict("production", document["canary"]["production"])
    assert policy == policy_from_dict("production", FULL)
