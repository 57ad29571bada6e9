"""What the report says about each model, the params and the data, from two sides.

Each side is a :class:`~gitml.report.sides.SideFiles`; this module compares them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml.dvcio.lock import Output, pointer_outputs
from gitml.errors import ConfigError, GitmlError
from gitml.report import diff, rescore
from gitml.report.baselines import baseline_change
from gitml.report.curves import CURVES, build_curve, points
from gitml.report.fairness import compare_fairness
from gitml.report.importance import compare_importance
from gitml.report.model import (
    Availability,
    Change,
    DataDiff,
    DataSide,
    ModelReport,
    ModelStatus,
)
from gitml.report.plots import expand_directories, model_plots, without_curve_files
from gitml.report.values import Scalar, flatten

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.config import Config, ModelConfig
    from gitml.report.model import Curve, FairnessDiff, ImportanceDiff, MetricDiff, ParamDiff, Plot
    from gitml.report.sides import SideFiles


def _metrics(side: SideFiles, files: tuple[str, ...], required: bool) -> dict[str, Scalar] | None:
    """Flattened metrics of ``files``; prefixed by file when there are several.

    None when no file is on this side. ``required`` makes a file missing from a side
    that should have run the pipeline an error, unless DVC tracks it and its bytes cannot
    be had (then the caller notes why, from ``side.unavailable``).
    """
    merged: dict[str, Scalar] = {}
    found = False
    for file in files:
        document = side.document(file, required=required)
        if document is None:
            continue
        if not isinstance(document, dict):
            raise ConfigError(f"{file} at {side.label}: expected a mapping of metrics")
        found = True
        prefix = file if len(files) > 1 else ""
        merged.update(flatten(document, prefix))
    return merged if found else None


def _unavailable(side: SideFiles, model: ModelConfig) -> list[str]:
    """Why a model's files DVC tracks on ``side`` could not be read, one note per file."""
    files = (*model.metrics, *model.operational_metrics)
    return [
        f"metrics unavailable on {side.label}: {side.unavailable[file]}"
        for file in files
        if file in side.unavailable
    ]


def _curves(base: SideFiles | None, head: SideFiles, model: ModelConfig) -> tuple[Curve, ...]:
    if not model.plots:
        return ()
    curves = []
    for spec in CURVES:
        path = f"{model.plots}/{spec.file}"
        base_points = points(base.document(path), spec) if base else None
        head_points = points(head.document(path), spec)
        curve = build_curve(spec, base_points, head_points)
        if curve is not None:
            curves.append(curve)
    return tuple(curves)


def _plots(
    base: SideFiles | None, head: SideFiles, model: ModelConfig
) -> tuple[tuple[Plot, ...], tuple[str, ...]]:
    """The plots ``dvc.yaml`` declares for the model, as the head declares them (a pull
    request may add one; plots inform, they do not judge), less gitml's own curves; and
    notes on what was left out."""
    own = _own(head, model) or model

    def files_under(directory: str) -> list[str]:
        on_base = base.files_under(directory) if base else []
        return sorted({*head.files_under(directory), *on_base})

    specs, notes = expand_directories(own.plot_specs, files_under)
    specs = without_curve_files(specs, model.plots)
    return model_plots(specs, base.read if base else None, head.read), (*own.plot_notes, *notes)


def _rows(side: SideFiles | None, model: ModelConfig) -> int | None:
    """Evaluation rows recorded in the model card, where there is one."""
    if side is None or not model.card:
        return None
    card = side.document(model.card)
    if isinstance(card, dict) and isinstance(card.get("evaluation_data"), dict):
        rows = card["evaluation_data"].get("rows")
        return rows if isinstance(rows, int) else None
    return None


def _read(side: SideFiles | None, path: str) -> tuple[Any, str | None, str | None]:
    """The parsed document at ``path`` on ``side`` (None: absent), why it could not be
    parsed, and why its DVC-tracked bytes could not be had."""
    if side is None:
        return None, None, None
    try:
        document = side.document(path)
    except GitmlError as error:
        return None, str(error), None
    if document is None and path in side.unavailable:
        return None, None, side.unavailable[path]
    return document, None, None


def _fairness(base: SideFiles | None, head: SideFiles, model: ModelConfig) -> FairnessDiff | None:
    """The model's segment report on both sides, when gitml.yaml declares one."""
    if model.fairness is None or not model.fairness.report:
        return None
    path = model.fairness.report
    base_document, base_error, base_unavailable = _read(base, path)
    head_document, head_error, head_unavailable = _read(head, path)
    return compare_fairness(
        path,
        base_document,
        head_document,
        base_label=base.label if base else "base",
        head_label=head.label,
        columns=model.fairness.segments,
        base_error=base_error,
        head_error=head_error,
        base_unavailable=base_unavailable,
        head_unavailable=head_unavailable,
    )


def _importance(
    base: SideFiles | None, head: SideFiles, model: ModelConfig
) -> ImportanceDiff | None:
    """The feature ranking in the model card on both sides, when either card has one."""
    if not model.card:
        return None
    base_card, base_error, base_unavailable = _read(base, model.card)
    head_card, head_error, head_unavailable = _read(head, model.card)
    return compare_importance(
        base_card,
        head_card,
        card=model.card,
        base_label=base.label if base else "base",
        head_label=head.label,
        base_error=base_error,
        head_error=head_error,
        base_unavailable=base_unavailable,
        head_unavailable=head_unavailable,
    )


def model_values(
    side: SideFiles, model: ModelConfig, required: bool
) -> tuple[dict[str, Scalar] | None, dict[str, Scalar]]:
    """A model's quality metrics (None when absent) and operational figures on one side.

    Metrics named in ``operational_keys`` move from the quality metrics to the figures.
    """
    metrics = _metrics(side, model.metrics, required=required)
    operational = _metrics(side, model.operational_metrics, required=False) or {}
    for key in model.operational_keys:
        if metrics is not None and key in metrics:
            operational[key] = metrics.pop(key)
    return metrics, operational


def model_report(
    base: SideFiles,
    head: SideFiles,
    model: ModelConfig,
    root: Path | None = None,
) -> ModelReport:
    """Compare one model between the sides, both read with ``model`` (the target's
    configuration of it: see :func:`gitml.report.sides.reading_config`); re-score on
    shared rows when ``root`` is given.

    The base counts as having the model when its metrics are there, whether or not it
    had a ``gitml.yaml`` yet (the pull request that adopts gitml compares with a base
    that predates it). When the sides were evaluated on different rows (the data
    changed) and ``root`` is given, the base model is also scored on the head's
    evaluation set (see :mod:`gitml.report.rescore`); a failure to do so becomes a note.
    """
    head_quality, head_ops = model_values(head, model, required=True)
    head_metrics = head_quality or {}
    base_metrics, base_ops = model_values(base, model, required=False)
    has_base = base_metrics is not None
    declared_order = tuple(model.directions)
    fairness = _fairness(base if has_base else None, head, model)
    every_metric = diff.metrics_diff(base_metrics, head_metrics, model.direction)
    metrics = _without_gaps(every_metric, fairness)
    operational = diff.metrics_diff(base_ops, head_ops, model.direction)
    base_out = base.outputs.get(model.artifact)
    head_out = head.outputs.get(model.artifact)
    base_unavailable, head_unavailable = _unavailable(base, model), _unavailable(head, model)
    notes = base_unavailable + head_unavailable
    status = diff.model_status(has_base, True, metrics)
    if (base_unavailable and not has_base) or (head_unavailable and head_quality is None):
        status = ModelStatus.UNAVAILABLE  # not "new", not "regressed": not known
    base_declares = base.config is not None and model.name in base.config.models
    if base_declares and not has_base and not notes:
        notes.append("no metrics on the base side: shown as a new model")
    plots, plot_notes = _plots(base if has_base else None, head, model)
    notes += plot_notes
    same_rows: tuple[MetricDiff, ...] = ()
    same_rows_count = None
    if root is not None and has_base and rescore.needs_rescore(base, head, model):
        try:
            same_rows_count, same_rows = rescore.rescore(root, base, head, model)
        except GitmlError as error:
            notes.append(f"the base model could not be re-scored on the head's rows: {error}")
    return ModelReport(
        name=model.name,
        status=status,
        metrics=metrics,
        operational=operational,
        base_md5=base_out.md5 if base_out else None,
        head_md5=head_out.md5 if head_out else None,
        curves=_curves(base if has_base else None, head, model),
        plots=plots,
        base_rows=_rows(base if has_base else None, model),
        head_rows=_rows(head, model),
        headline=diff.headline(metrics, declared_order),
        notes=tuple(notes),
        same_rows=same_rows,
        same_rows_count=same_rows_count,
        # The drift reference is each side's own: a pull request may add or move it.
        baseline=baseline_change(
            base, head, _own(head, model) or model, _own(base, model) if has_base else None
        ),
        fairness=fairness,
        importance=_importance(base if has_base else None, head, model),
    )


def _without_gaps(
    metrics: tuple[MetricDiff, ...], fairness: FairnessDiff | None
) -> tuple[MetricDiff, ...]:
    """The metrics that make the verdict, without the fairness gaps (``fairness.<column>.*``)
    when the head's segment report shows them with their intervals.

    A gap moves by sampling noise from one model to the next; the fairness block judges it
    against the base's interval (and flags it when it widened beyond), and gates hold it
    like any metric. In the verdict every noisy wobble would turn "improved" into "mixed".
    """
    if fairness is None or fairness.head is not Availability.PRESENT:
        return metrics
    columns = {segment.column for segment in fairness.segments}
    return tuple(metric for metric in metrics if not _is_gap(metric, columns))


def _is_gap(metric: MetricDiff, columns: set[str]) -> bool:
    parts = metric.name.split(".")
    return len(parts) == 3 and parts[0] == "fairness" and parts[1] in columns


def _own(side: SideFiles, model: ModelConfig) -> ModelConfig | None:
    """The side's own configuration of ``model``, if it has one."""
    return side.config.models.get(model.name) if side.config else None


def removed_model(base: SideFiles, model: ModelConfig) -> ModelReport:
    """A model configured on base only."""
    base_metrics = _metrics(base, model.metrics, False) or {}
    metrics = diff.metrics_diff(base_metrics, {}, model.direction)
    out = base.outputs.get(model.artifact)
    return ModelReport(
        name=model.name,
        status=ModelStatus.REMOVED,
        metrics=metrics,
        operational=(),
        base_md5=out.md5 if out else None,
        head_md5=None,
    )


def params_of(side: SideFiles, config: Config) -> dict[str, Scalar]:
    """The flattened params file (``params.yaml`` unless gitml.yaml names another)."""
    document = side.document(config.params_file or "params.yaml")
    return flatten(document) if isinstance(document, dict) else {}


def params_report(base: SideFiles, head: SideFiles, config: Config) -> tuple[ParamDiff, ...]:
    """Changed, added and removed parameters."""
    return diff.params_diff(params_of(base, config), params_of(head, config))


def _data_outputs(side: SideFiles) -> dict[str, Output]:
    outputs: dict[str, Output] = {}
    for file in side.tree.dvc_files():
        data = side.tree.read(file)
        if data is None:
            continue
        for out in pointer_outputs(data.decode("utf-8"), f"{file} at {side.tree.label}"):
            directory = file.rpartition("/")[0]
            path = f"{directory}/{out.path}" if directory else out.path
            outputs[path] = out
    return outputs


def data_report(base: SideFiles, head: SideFiles) -> tuple[DataDiff, ...]:
    """DVC-tracked data (``.dvc`` pointers) whose content hash differs."""
    base_data, head_data = _data_outputs(base), _data_outputs(head)
    rows = []
    for path in sorted(set(base_data) | set(head_data)):
        old, new = base_data.get(path), head_data.get(path)
        if old is not None and new is not None and old.md5 == new.md5:
            continue
        change = Change.ADDED if old is None else Change.REMOVED if new is None else Change.CHANGED
        rows.append(
            DataDiff(
                path,
                DataSide(old.md5, old.size, old.nfiles) if old else None,
                DataSide(new.md5, new.size, new.nfiles) if new else None,
                change,
            )
        )
    return tuple(rows)
