"""`gitml validate` and the config/params schemas: every bad input is a clear error."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from gitml.config import config_from_text
from gitml.errors import ConfigError
from tests.helpers import example, gitml

if TYPE_CHECKING:
    from pathlib import Path


def test_valid_repository_passes(repo: Path) -> None:
    result = gitml(repo, "validate", "--json")
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["checked"] == [
        "gitml.yaml",
        "src/credit_example/params.schema.json",
        "params.yaml",
        "dvc.yaml",
        "models/credit.card.yaml",
        "models/credit.signature.json",
        "data.schema.yaml",
    ]
    assert report["problems"] == []


@pytest.mark.parametrize(
    ("old", "new", "file", "key", "expected"),
    [
        (
            "model: hist_gradient_boosting",
            "model: random_forest",
            "params.yaml",
            "train.model",
            "'random_forest' is not one of",
        ),
        (
            "test_size: 0.25",
            "test_size: -0.5",
            "params.yaml",
            "prepare.test_size",
            "less than or equal to the minimum",
        ),
        ("seed: 42", "seed: forty-two", "params.yaml", "train.seed", "is not of type 'integer'"),
        (
            "stages: [staging, production]",
            "stages: [staging, latest]",
            "gitml.yaml",
            "stages[1]",
            "not `latest`",
        ),
        (
            "log_loss: lower",
            "log_loss: smaller",
            "gitml.yaml",
            "metrics.log_loss",
            "is not one of ['higher', 'lower']",
        ),
    ],
)
def test_bad_values_name_file_key_and_expectation(
    repo: Path, old: str, new: str, file: str, key: str, expected: str
) -> None:
    path = repo / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    result = gitml(repo, "validate", check=False)
    assert result.returncode == 1
    assert f"{file}: {key}: " in result.stdout
    assert expected in result.stdout


def test_model_missing_from_dvc_artifacts(repo: Path) -> None:
    dvc_yaml = repo / "dvc.yaml"
    dvc_yaml.write_text(
        dvc_yaml.read_text().replace("  credit:\n    path:", "  scorer:\n    path:")
    )
    result = gitml(repo, "validate", "--json", check=False)
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems == [
        {
            "file": "gitml.yaml",
            "key": "models.credit",
            "message": "model 'credit' is not declared under `artifacts:` in dvc.yaml "
            "or in artifacts.yaml (declared: scorer)",
        }
    ]


def test_artifact_path_must_match_dvc_yaml(repo: Path) -> None:
    config = repo / "gitml.yaml"
    config.write_text(
        config.read_text().replace("artifact: models/credit.skops", "artifact: m.skops")
    )
    result = gitml(repo, "validate", check=False)
    assert result.returncode == 1
    assert "gitml.yaml: models.credit.artifact: 'm.skops' differs from dvc.yaml" in result.stdout


def test_invalid_yaml_names_the_line(repo: Path) -> None:
    (repo / "gitml.yaml").write_text("models:\n  credit: [unclosed\n")
    result = gitml(repo, "validate", check=False)
    assert result.returncode == 1
    assert result.stdout.startswith("gitml.yaml: not valid YAML (line 3")


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = gitml(tmp_path, "validate", check=False)
    assert result.returncode == 1
    assert "gitml.yaml: file not found" in result.stdout


def test_broken_model_card_is_reported(repo: Path) -> None:
    card = repo / "models/credit.card.yaml"
    card.write_text(card.read_text().replace("intended_use:", "intended_purpose:"))
    report = json.loads(gitml(repo, "validate", "--json", check=False).stdout)
    messages = {(p["file"], p["key"]) for p in report["problems"]}
    assert ("models/credit.card.yaml", "") in messages
    assert any("intended_use" in p["message"] for p in report["problems"])


def test_bad_params_stop_a_stage_and_write_nothing(repo: Path) -> None:
    model = repo / "models/credit.skops"
    before = model.read_bytes(), model.stat().st_mtime_ns
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("max_iter: 250", "max_iter: -3"))
    result = example(repo, "train", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "credit-example train: error: params.yaml: train.hist_gradient_boosting.max_iter: "
        "-3 is less than the minimum of 1"
    )
    assert (model.read_bytes(), model.stat().st_mtime_ns) == before


def test_several_models_need_model_in_stage_branch() -> None:
    text = """
models:
  a: {artifact: a.skops, metrics: [a.json]}
  b: {artifact: b.skops, metrics: [b.json]}
"""
    with pytest.raises(ConfigError, match=r"stage_branch: '\{stage\}' must contain \{model\}"):
        config_from_text(text)
    config = config_from_text(text + "stage_branch: '{stage}/{model}'\n")
    assert config.branch_for("production", "b") == "production/b"


def test_config_directions_merge_global_and_model() -> None:
    config = config_from_text(
        """
models:
  m:
    artifact: m.skops
    metrics: [m.json]
    metrics_directions: {loss: higher}
metrics: {loss: lower, auc: higher}
"""
    )
    assert config.direction("m", "loss") == "higher"
    assert config.direction("m", "auc") == "higher"
    assert config.direction("m", "other") is None
    assert config.stages == ("staging", "production")


def test_unknown_model_lists_the_known_ones() -> None:
    config = config_from_text("models:\n  m: {artifact: m.skops, metrics: [m.json]}\n")
    with pytest.raises(ConfigError, match=r"unknown model 'x' \(known: m\)"):
        config.model("x")


def test_a_params_schema_with_a_key_given_twice_is_reported(repo: Path) -> None:
    """The params schema is read like every document: bounded, a duplicate key refused."""
    schema_file = repo / "src/credit_example/params.schema.json"
    text = schema_file.read_text()
    schema_file.write_text(text.replace("{", '{"title": "a", "title": "b", ', 1))
    result = gitml(repo, "validate", "--json", check=False)
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems[0]["file"] == "src/credit_example/params.schema.json"
    assert "'title' is given twice" in problems[0]["message"]
