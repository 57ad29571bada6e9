"""Promotion gates: the pure rules, the data check, and `gitml check` on real repositories."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from gitml.policy.data_check import check_csv
from gitml.policy.evaluate import evaluate_gate
from gitml.policy.model import MetricRule, Policy, Tolerance
from tests.helpers import dvc, git, gitml
from tests.registry_flow import set_param

if TYPE_CHECKING:
    from pathlib import Path

DIRECTIONS = {"auc": "higher", "loss": "lower", "size": "lower"}


def _gate(policy: Policy, candidate: dict, baseline: dict | None, ops: dict | None = None):  # type: ignore[no-untyped-def]
    return evaluate_gate(
        policy,
        model="m",
        stage="production",
        candidate=candidate,
        operational=ops or {},
        baseline=baseline,
        baseline_label="m@v1",
        directions=DIRECTIONS,
    )


@pytest.mark.parametrize(
    ("head", "base", "tolerance", "status"),
    [
        (0.80, 0.81, Tolerance(atol=0.01), "pass"),  # exactly the allowed drop
        (0.799, 0.81, Tolerance(atol=0.01), "fail"),
        (0.80, 0.81, Tolerance(rtol=0.02), "pass"),  # 2% of 0.81 = 0.0162
        (0.79, 0.81, Tolerance(rtol=0.02), "fail"),
        (0.90, 0.81, Tolerance(), "pass"),  # improvements always pass
    ],
)
def test_regression_respects_direction_higher(
    head: float, base: float, tolerance: Tolerance, status: str
) -> None:
    policy = Policy(metrics={"auc": MetricRule(max_regression=tolerance)})
    (rule,) = _gate(policy, {"auc": head}, {"auc": base}).rules
    assert rule.status == status


def test_regression_respects_direction_lower() -> None:
    policy = Policy(metrics={"loss": MetricRule(max_regression=Tolerance(rtol=0.05))})
    assert _gate(policy, {"loss": 0.21}, {"loss": 0.20}).status == "passed"
    assert _gate(policy, {"loss": 0.2101}, {"loss": 0.20}).status == "failed"
    assert _gate(policy, {"loss": 0.10}, {"loss": 0.20}).status == "passed"


@pytest.mark.parametrize(
    ("no_baseline", "status"), [("pass", "passed"), ("warn", "warned"), ("fail", "failed")]
)
def test_no_baseline_policy(no_baseline: str, status: str) -> None:
    policy = Policy(
        no_baseline=no_baseline,  # type: ignore[arg-type]
        metrics={"auc": MetricRule(max_regression=Tolerance(atol=0.01))},
    )
    result = _gate(policy, {"auc": 0.8}, None)
    assert result.status == status
    assert result.rules[0].observed == "no baseline"


def test_bounds_required_metrics_and_operational_limits() -> None:
    policy = Policy(
        metrics={"auc": MetricRule(min=0.8)},
        operational={"size": MetricRule(max=1000)},
        required_metrics=("auc", "loss"),
    )
    result = _gate(policy, {"auc": 0.79}, None, ops={"size": 2000})
    rows = {(r.rule, r.status) for r in result.rules}
    assert rows == {
        ("auc present", "pass"),
        ("loss present", "fail"),
        ("auc >= 0.8", "fail"),
        ("size <= 1,000", "fail"),
    }
    assert [r.observed for r in result.failures] == ["missing", "0.79", "2,000"]


def test_a_missing_metric_fails_its_bound_and_undirected_regression_is_refused() -> None:
    policy = Policy(
        metrics={"auc": MetricRule(min=0.5), "other": MetricRule(max_regression=Tolerance(atol=1))}
    )
    result = _gate(policy, {"other": 1.0}, {"other": 1.0})
    assert [(r.rule, r.observed, r.status) for r in result.rules] == [
        ("auc >= 0.5", "missing", "fail"),
        ("other regression vs baseline", "no direction declared", "fail"),
    ]


SCHEMA = {
    "min_rows": 2,
    "columns": {
        "age": {"type": "integer", "min": 18, "max": 100, "max_missing_rate": 0.0},
        "income": {"type": "number", "min": 0, "max_missing_rate": 0.5},
        "region": {"type": "category", "categories": ["north", "south"]},
        "default": {"type": "label"},
    },
}


def test_data_check_accepts_good_data() -> None:
    good = b"age,income,region,default\n30,1000.5,north,0\n45,,south,1\n"
    assert check_csv(good, SCHEMA, "train.csv") == []


def test_data_check_names_every_offending_column() -> None:
    bad = b"age,income,region,default,extra\n17,-5,east,2,x\n30.5,abc,,0,y\n"
    problems = check_csv(bad, SCHEMA, "train.csv")
    assert problems == [
        "column 'extra': not declared in the data schema",
        "column 'age': expected integers, found fractions",
        "column 'age': minimum 17 below the declared 18",
        "column 'income': 1 non-numeric value(s), e.g. 'abc'",
        "column 'income': minimum -5 below the declared 0",
        "column 'region': unknown categor(ies) 'east'",
        "column 'default': labels must be 0 or 1",
    ]
    assert check_csv(b"age\n30\n", SCHEMA, "t.csv")[:2] == [
        "t.csv: 1 rows, fewer than min_rows 2",
        "column 'income': missing from t.csv",
    ]


@pytest.mark.slow
def test_check_fails_a_regressing_candidate_with_exit_3(repo: Path) -> None:
    # A boosted stump: one tree with two leaves, far worse than the trained baseline.
    set_param(repo, "train", "hist_gradient_boosting.max_iter", 1)
    set_param(repo, "train", "hist_gradient_boosting.max_leaf_nodes", 2)
    dvc(repo, "repro", "-q")
    result = gitml(repo, "check", "--base", "main", "--json", check=False)
    assert result.returncode == 3, result.stdout + result.stderr
    (gate,) = json.loads(result.stdout)["gates"]
    assert gate["status"] == "failed"
    failing = [r["rule"] for r in gate["rules"] if r["status"] == "fail"]
    assert "roc_auc regression vs baseline" in failing
    report = gitml(repo, "report", "--base", "main").stdout
    assert "**Gate** (stage <code>main</code>): ❌ failed" in report
    assert "- ❌ credit: roc\\_auc regression vs baseline:" in report


@pytest.mark.slow
def test_a_broken_data_update_fails_the_gate_naming_the_column(repo: Path) -> None:
    data = repo / "data" / "batch-000.csv"
    lines = data.read_text().splitlines()
    header = lines[0].split(",")
    at = header.index("region")
    broken = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[at] = "atlantis"
        broken.append(",".join(cells))
    data.write_text("\n".join(broken) + "\n")
    dvc(repo, "add", "-q", "data")
    dvc(repo, "repro", "-q")
    result = gitml(repo, "check", "--base", "main", check=False)
    assert result.returncode == 3
    assert "column 'region': unknown categor(ies) 'atlantis'" in result.stdout
    git(repo, "status")


def test_unknown_stage_is_a_clear_error(tmp_path: Path) -> None:
    from tests.report_cases import build_case

    build_case(tmp_path / "r", "improved")
    result = gitml(tmp_path / "r", "check", "--stage", "prod", check=False)
    assert result.returncode == 1
    assert "--stage 'prod': not a stage of gitml.yaml (stages: main, staging, production)" in (
        result.stderr
    )
