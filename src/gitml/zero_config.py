"""The configuration a repository has: ``gitml.yaml`` over what ``dvc.yaml`` already says.

A DVC project declares its models (``artifacts:``), their metrics (top-level ``metrics:``,
as DVCLive writes them, and each stage's) and plots; a GTO registry declares artifacts in
``dvc.yaml`` or ``artifacts.yaml``. That is enough to read the registry and compare two
revisions, so gitml works with no ``gitml.yaml`` at all. A ``gitml.yaml`` only adds
(gates, directions, stages, model cards) and overrides (paths), key by key per model.

Which model a metrics or plot file belongs to is read from the pipeline: the stage that
writes the model's artefact and the stages that read it (``evaluate``) are the model's;
a file no model's stages write belongs to every model.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gitml.config import DEFAULT_STAGE_BRANCH, Config, config_from_document
from gitml.documents import packaged_schema, parse_text, raise_for, schema_problems
from gitml.dvcio.plot_specs import plot_specs
from gitml.dvcio.project import DvcProject, read_project
from gitml.errors import ConfigError
from gitml.files import CONFIG_FILE

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from gitml.dvcio.plot_specs import PlotSpec

MULTI_MODEL_STAGE_BRANCH = "{stage}/{model}"


def _within(path: str, output: str) -> bool:
    """Whether ``path`` is the output ``output`` or a file inside that directory output."""
    return path == output or path.startswith(output.rstrip("/") + "/")


def _model_stages(project: DvcProject, artifact: str) -> set[str]:
    """The stages that write the artefact or read it (its evaluation)."""
    return {
        stage.name
        for stage in project.stages.values()
        if any(_within(artifact, out) for out in stage.outs)
        or any(_within(artifact, dep) for dep in stage.deps)
    }


def _owners(files: Iterable[str], project: DvcProject, stages_of: dict[str, set[str]]) -> set[str]:
    """The models whose stages write any of ``files`` (empty: no model's stage does)."""
    writers = {
        stage.name
        for stage in project.stages.values()
        for file in files
        if any(_within(file, out) for out in stage.outs)
    }
    return {model for model, stages in stages_of.items() if stages & writers}


def _models_metrics(project: DvcProject, stages_of: dict[str, set[str]]) -> dict[str, list[str]]:
    metrics: dict[str, list[str]] = {model: [] for model in stages_of}
    for model, stages in stages_of.items():
        for name in sorted(stages):
            metrics[model].extend(project.stages[name].metrics)
    for file in project.metrics:
        owners = _owners([file], project, stages_of) or set(stages_of)
        for model in owners:
            metrics[model].append(file)
    return {model: list(dict.fromkeys(files)) for model, files in metrics.items()}


def _models_plots(
    project: DvcProject, stages_of: dict[str, set[str]]
) -> tuple[dict[str, tuple[PlotSpec, ...]], tuple[str, ...]]:
    plots: dict[str, list[PlotSpec]] = {model: [] for model in stages_of}
    try:
        specs, notes = plot_specs(project.document)
    except ConfigError as error:
        # Plots inform; a malformed `plots:` must not stop the metrics or the registry.
        return {model: () for model in stages_of}, (f"{error}: no plots drawn",)
    for spec in specs:
        if spec.stage is not None:
            owners = {m for m, stages in stages_of.items() if spec.stage in stages}
        else:
            owners = _owners(spec.files, project, stages_of)
        for model in owners or set(stages_of):
            plots[model].append(spec)
    return {model: tuple(found) for model, found in plots.items()}, notes


def infer_document(project: DvcProject) -> dict[str, Any]:
    """The ``gitml.yaml`` document ``dvc.yaml`` implies: each model with its artefact,
    description and metrics files (stages and gates are left to ``gitml.yaml``)."""
    artifacts = project.models()
    stages_of = {name: _model_stages(project, a.path) for name, a in artifacts.items()}
    metrics = _models_metrics(project, stages_of)
    models: dict[str, Any] = {}
    for name, artifact in artifacts.items():
        entry: dict[str, Any] = {"artifact": artifact.path, "metrics": metrics[name]}
        if artifact.description:
            entry["description"] = artifact.description
        models[name] = entry
    document: dict[str, Any] = {"version": 1, "models": models}
    if len(models) > 1:
        document["stage_branch"] = MULTI_MODEL_STAGE_BRANCH
    return document


def merge_documents(inferred: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """``declared`` (gitml.yaml) over ``inferred``: top-level keys replace, and each model's
    keys replace that model's inferred ones. An inferred model whose artefact a declared
    model already names under another name is that model: it is not added twice."""
    merged = {**inferred, **{k: v for k, v in declared.items() if k != "models"}}
    declared_models = declared.get("models") or {}
    claimed = {
        entry.get("artifact")
        for name, entry in declared_models.items()
        if isinstance(entry, dict) and name not in inferred.get("models", {})
    }
    models = {
        name: dict(entry)
        for name, entry in inferred.get("models", {}).items()
        if name in declared_models or entry.get("artifact") not in claimed
    }
    for name, entry in declared_models.items():
        models[name] = {**models.get(name, {}), **(entry or {})}
    merged["models"] = models
    if "stage_branch" not in declared:
        merged.pop("stage_branch", None)
        if len(models) > 1:
            merged["stage_branch"] = MULTI_MODEL_STAGE_BRANCH
    return merged


def effective_config(
    declared_text: str | None,
    project: DvcProject,
    file: str = CONFIG_FILE,
    *,
    validate: bool = True,
) -> Config | None:
    """The configuration of one revision: ``gitml.yaml`` text (None when absent) over
    what ``project`` declares. None when there is neither a ``gitml.yaml`` nor a model.

    ``validate`` checks the ``gitml.yaml`` document against its schema first (the commands
    that judge or write do; read-only queries skip the jsonschema import).
    """
    declared: dict[str, Any] | None = None
    if declared_text is not None:
        document = parse_text(declared_text, file)
        if document is None:
            document = {}
        if validate:
            raise_for(schema_problems(document, packaged_schema("gitml.schema.json"), file))
        if not isinstance(document, dict):
            raise _not_a_configuration(file, "expected a mapping at the top level")
        declared = document
    inferred = infer_document(project)
    if declared is None and not inferred["models"]:
        return None
    try:
        merged = merge_documents(inferred, declared or {})
    except (AttributeError, TypeError, ValueError) as error:  # unvalidated: any shape
        raise _not_a_configuration(file, str(error)) from None
    config = config_from_document(merged, file, validate=False)
    stages_of = {name: _model_stages(project, m.artifact) for name, m in config.models.items()}
    plots, notes = _models_plots(project, stages_of)
    models = {
        name: replace(model, plot_specs=plots.get(name, ()), plot_notes=notes)
        for name, model in config.models.items()
    }
    if declared is None:
        # No gitml.yaml: the stages are whatever the registry's tags say (GTO's names).
        stage_branch = MULTI_MODEL_STAGE_BRANCH if len(models) > 1 else DEFAULT_STAGE_BRANCH
        return replace(config, models=models, stages=(), stage_branch=stage_branch, declared=False)
    return replace(config, models=models)


def _not_a_configuration(file: str, detail: str) -> ConfigError:
    return ConfigError(
        f"{file}: not a gitml configuration ({detail}); `gitml validate` lists every problem"
    )


def load_config(root: Path | str = ".", *, validate: bool = True) -> Config:
    """The working tree's configuration (``gitml.yaml`` over ``dvc.yaml``), required.

    The commands that write to the registry need a ``gitml.yaml``: a missing one is a
    ConfigError pointing at ``gitml init``.
    """
    from pathlib import Path

    path = Path(root) / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{CONFIG_FILE}: not found in {Path(root).resolve()} "
            "(run `gitml init` to create one, or run gitml from the repository root)"
        ) from None
    config = effective_config(text, read_project(Path(root)), validate=validate)
    assert config is not None  # a gitml.yaml is present
    return config


def working_config(root: Path | str = ".", *, validate: bool = False) -> Config | None:
    """The working tree's configuration, with or without ``gitml.yaml`` (None: neither it
    nor a model in ``dvc.yaml``/``artifacts.yaml``)."""
    from pathlib import Path

    root = Path(root)
    try:
        text: str | None = (root / CONFIG_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{CONFIG_FILE}: not UTF-8 text ({error.reason})") from None
    return effective_config(text, read_project(root), validate=validate)
