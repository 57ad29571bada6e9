"""What gitml reads from dvc.yaml alone, and how gitml.yaml adds to it and overrides it."""

from __future__ import annotations

import pytest
import yaml

from gitml.dvcio.project import project_from_texts
from gitml.errors import ConfigError
from gitml.metric_directions import direction_of, guess_direction
from gitml.zero_config import effective_config, infer_document, merge_documents

# DVC's get-started layout: DVCLive writes eval/ (a cached directory output) and DVC 3's
# top-level metrics and plots name files inside it.
GET_STARTED = """\
stages:
  prepare:
    cmd: python src/prepare.py data/data.xml
    deps: [data/data.xml, src/prepare.py]
    params: [prepare.seed, prepare.split]
    outs: [data/prepared]
  featurize:
    cmd: python src/featurization.py data/prepared data/features
    deps: [data/prepared, src/featurization.py]
    outs: [data/features]
  train:
    cmd: python src/train.py data/features model.pkl
    deps: [data/features, src/train.py]
    outs: [model.pkl]
  evaluate:
    cmd: python src/evaluate.py model.pkl data/features
    deps: [data/features, model.pkl, src/evaluate.py]
    outs: [eval]
metrics:
  - eval/metrics.json
plots:
  - ROC:
      template: simple
      x: fpr
      y:
        eval/plots/sklearn/roc/train.json: tpr
        eval/plots/sklearn/roc/test.json: tpr
  - Confusion-Matrix:
      template: confusion
      x: actual
      y:
        eval/plots/sklearn/cm/train.json: predicted
        eval/plots/sklearn/cm/test.json: predicted
artifacts:
  text-classifier:
    path: model.pkl
    type: model
    desc: Detect whether the given stackoverflow question should have R language tag.
    labels: [nlp, classification]
"""

TWO_MODELS = """\
stages:
  train_churn:
    cmd: python churn.py
    outs: [out/churn.pkl, out/churn_eval]
  train_fraud:
    cmd: python fraud.py
    outs: [out/fraud.pkl]
    metrics: [out/fraud_metrics.json]
  report:
    cmd: python report.py
    outs: [summary.json]
metrics:
  - out/churn_eval/metrics.json
  - summary.json
artifacts:
  churn: {path: out/churn.pkl, type: model}
  fraud: {path: out/fraud.pkl, type: model}
  corpus: {path: data/corpus, type: dataset}
"""


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("roc_auc", "higher"),
        ("roc_auc.test", "higher"),
        ("avg_prec.train", "higher"),
        ("train/loss", "lower"),
        ("eval.accuracy", "higher"),
        ("balanced_acc", "higher"),
        ("f1", "higher"),
        ("macro-f1", "higher"),
        ("log_loss", "lower"),
        ("logloss", "lower"),
        ("brier_score", "lower"),
        ("rmse", "lower"),
        ("mean_absolute_error", "lower"),
        ("predict_ms_per_1k_rows", "lower"),
        ("valAccuracy", "higher"),
        ("step", None),
        ("rows", None),
        ("test", None),
    ],
)
def test_directions_from_well_known_names(name: str, direction: str | None) -> None:
    assert guess_direction(name) == direction


def test_declared_directions_win_and_cover_nested_names() -> None:
    declared = {"roc_auc": "lower", "rows": "higher"}
    assert direction_of("roc_auc.test", declared) == "lower"  # declared beats the name
    assert direction_of("rows", declared) == "higher"
    assert direction_of("avg_prec.test", declared) == "higher"  # not declared: the name
    assert direction_of("step", declared) is None


def test_get_started_metrics_and_plots_come_from_top_level_and_the_evaluating_stage() -> None:
    project = project_from_texts(GET_STARTED)
    document = infer_document(project)
    assert document["models"] == {
        "text-classifier": {
            "artifact": "model.pkl",
            "metrics": ["eval/metrics.json"],
            "description": (
                "Detect whether the given stackoverflow question should have R language tag."
            ),
        }
    }
    config = effective_config(None, project)
    assert config is not None
    assert not config.declared
    assert config.stages == ()
    model = config.models["text-classifier"]
    assert [spec.id for spec in model.plot_specs] == ["ROC", "Confusion-Matrix"]
    assert model.direction("roc_auc.test") == "higher"


def test_files_go_to_the_model_whose_stages_write_them() -> None:
    project = project_from_texts(TWO_MODELS)
    models = infer_document(project)["models"]
    assert set(models) == {"churn", "fraud"}  # a dataset artifact is not a model
    # summary.json is written by no model's stage: it belongs to both.
    assert models["churn"]["metrics"] == ["out/churn_eval/metrics.json", "summary.json"]
    assert models["fraud"]["metrics"] == ["out/fraud_metrics.json", "summary.json"]
    config = effective_config(None, project)
    assert config is not None
    assert config.stage_branch == "{stage}/{model}"


def test_gitml_yaml_adds_and_overrides_key_by_key() -> None:
    project = project_from_texts(GET_STARTED)
    declared = yaml.safe_dump(
        {
            "models": {"text-classifier": {"card": "card.yaml"}},
            "metrics": {"avg_prec": "higher"},
            "gates": {"main": {"required_metrics": ["roc_auc.test"]}},
        }
    )
    config = effective_config(declared, project)
    assert config is not None
    assert config.declared
    model = config.models["text-classifier"]
    assert (model.artifact, model.metrics, model.card) == (
        "model.pkl",
        ("eval/metrics.json",),
        "card.yaml",
    )
    assert config.stages == ("staging", "production")  # gitml's default when declared
    assert model.gate("main") is not None


def test_a_declared_model_under_another_name_is_not_added_twice() -> None:
    inferred = infer_document(project_from_texts(GET_STARTED))
    merged = merge_documents(
        inferred, {"models": {"classifier": {"artifact": "model.pkl", "metrics": ["m.json"]}}}
    )
    assert list(merged["models"]) == ["classifier"]
    assert "stage_branch" not in merged


def test_nothing_to_read_is_none_and_a_model_without_artifact_is_one_line() -> None:
    assert effective_config(None, project_from_texts(None)) is None
    with pytest.raises(ConfigError, match=r"models\.ghost\.artifact: not set"):
        effective_config("models: {ghost: {metrics: [m.json]}}\n", project_from_texts(None))


def test_gto_artifacts_yaml_declares_models_too() -> None:
    artifacts = (
        "churn: {type: model, path: models/churn.pkl, virtual: true}\nremote: {type: model}\n"
    )
    dvc_yaml = "artifacts:\n  churn: {path: models/churn-v2.pkl, type: model}\n"
    project = project_from_texts(dvc_yaml, artifacts)
    assert {n: a.path for n, a in project.artifacts.items()} == {"churn": "models/churn-v2.pkl"}
    assert project_from_texts(None, artifacts).artifacts["churn"].path == "models/churn.pkl"


def test_foreach_and_templated_stages_are_noted_not_guessed() -> None:
    text = (
        "stages:\n"
        "  train:\n    foreach: [a, b]\n    do: {cmd: x, outs: ['${item}.pkl']}\n"
        "  eval:\n    cmd: y\n    outs: ['${name}/eval']\n"
    )
    notes = project_from_texts(text).notes
    assert any("foreach" in n for n in notes)
    assert any("templated" in n for n in notes)


def test_plots_gitml_cannot_draw_are_noted_on_the_model() -> None:
    text = GET_STARTED.replace("artifacts:", "  - eval/plots/images/importance.png\nartifacts:", 1)
    config = effective_config(None, project_from_texts(text))
    assert config is not None
    (note,) = config.models["text-classifier"].plot_notes
    assert "importance.png" in note
    assert "an image" in note


def test_a_malformed_plots_block_is_a_note_not_a_failure() -> None:
    text = GET_STARTED.replace("      template: simple\n", "      template: [simple]\n", 1)
    config = effective_config(None, project_from_texts(text))
    assert config is not None
    model = config.models["text-classifier"]
    assert model.plot_specs == ()
    (note,) = model.plot_notes
    assert note.startswith("dvc.yaml: plots[0].ROC.template: expected a string")
    assert note.endswith(": no plots drawn")
