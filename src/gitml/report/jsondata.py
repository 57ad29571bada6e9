"""The report as JSON-ready data (schema: ``gitml/schemas/report.schema.json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml import __version__
from gitml.report.values import json_number

if TYPE_CHECKING:
    from gitml.report.model import (
        BaselineChange,
        Curve,
        DataSide,
        DossierLink,
        Estimate,
        EstimateDiff,
        FairnessDiff,
        ImportanceDiff,
        MetricDiff,
        ModelReport,
        Plot,
        Report,
    )

SCHEMA_VERSION = 1


def _metric(row: MetricDiff) -> dict[str, Any]:
    return {
        "name": row.name,
        "base": json_number(row.base),
        "head": json_number(row.head),
        "delta": json_number(row.delta),
        "relative": json_number(row.relative),
        "direction": row.direction,
        "change": row.change.value,
    }


def _curve(curve: Curve) -> dict[str, Any]:
    return {
        "name": curve.name,
        "title": curve.title,
        "x_label": curve.x_label,
        "y_label": curve.y_label,
        "x": list(curve.x),
        "base": list(curve.base) if curve.base is not None else None,
        "head": list(curve.head) if curve.head is not None else None,
    }


def _plot(plot: Plot) -> dict[str, Any]:
    from gitml.report.model import XYPlot

    common = {
        "id": plot.id,
        "title": plot.title,
        "template": plot.template,
        "x_label": plot.x_label,
        "y_label": plot.y_label,
    }
    if isinstance(plot, XYPlot):
        lines = [
            {"side": line.side, "file": line.file, "field": line.field, "y": list(line.y)}
            for line in plot.lines
        ]
        return {
            "kind": "xy",
            **common,
            "x": list(plot.x),
            "lines": lines,
            "notes": list(plot.notes),
        }
    matrices = [
        {
            "file": matrix.file,
            "x_field": matrix.x_field,
            "y_field": matrix.y_field,
            "labels": list(matrix.labels),
            "base": [list(row) for row in matrix.base] if matrix.base is not None else None,
            "head": [list(row) for row in matrix.head] if matrix.head is not None else None,
        }
        for matrix in plot.matrices
    ]
    return {"kind": "confusion", **common, "matrices": matrices, "notes": list(plot.notes)}


def _data_side(side: DataSide | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {"md5": side.md5, "size": side.size, "nfiles": side.nfiles}


def _baseline(change: BaselineChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    comparison = None
    if change.diff is not None:
        # The rows are already at the top, where every status has them.
        comparison = {k: v for k, v in change.diff.to_dict().items() if k != "rows"}
    return {
        "path": change.path,
        "status": change.status.value,
        "rows": {"base": change.rows_base, "head": change.rows_head},
        "comparison": comparison,
    }


def _estimate(value: Estimate | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"value": value.value, "low": value.low, "high": value.high}


def _estimate_diff(row: EstimateDiff, gap: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": row.name,
        "base": _estimate(row.base),
        "head": _estimate(row.head),
    }
    if gap:
        data.update(direction=row.direction, widened=row.widened)
    return data


def _fairness(diff: FairnessDiff) -> dict[str, Any]:
    return {
        "path": diff.path,
        "base": diff.base.value,
        "head": diff.head.value,
        "confidence": diff.confidence,
        "segments": [
            {
                "column": segment.column,
                "gaps": [_estimate_diff(gap, gap=True) for gap in segment.gaps],
                "groups": [
                    {
                        "name": group.name,
                        "rows": {"base": group.base_rows, "head": group.head_rows},
                        "metrics": [_estimate_diff(m, gap=False) for m in group.metrics],
                    }
                    for group in segment.groups
                ],
            }
            for segment in diff.segments
        ],
        "notes": list(diff.notes),
    }


def _importance(diff: ImportanceDiff) -> dict[str, Any]:
    return {
        "card": diff.card,
        "base": diff.base.value,
        "head": diff.head.value,
        "method": diff.method,
        "scoring": diff.scoring,
        "features": [
            {
                "name": feature.name,
                "rank": {"base": feature.base_rank, "head": feature.head_rank},
                "mean": {"base": feature.base_mean, "head": feature.head_mean},
                "entered_top": feature.entered_top,
            }
            for feature in diff.features
        ],
        "notes": list(diff.notes),
    }


def _dossier(link: DossierLink) -> dict[str, Any]:
    return {"version": link.version, "run_url": link.run_url, "sections": list(link.sections)}


def _governance(model: ModelReport) -> dict[str, Any]:
    """The optional keys: each only when the model has it (reports without stay as they were)."""
    data: dict[str, Any] = {}
    if model.fairness is not None:
        data["fairness"] = _fairness(model.fairness)
    if model.importance is not None:
        data["importance"] = _importance(model.importance)
    if model.dossier is not None:
        data["dossier"] = _dossier(model.dossier)
    if model.deployment is not None:
        data["deployment"] = model.deployment.to_dict()
    return data


def to_data(report: Report) -> dict[str, Any]:
    """Everything the markdown shows, as plain data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "gitml_version": __version__,
        "base": {"rev": report.base.rev, "commit": report.base.commit},
        "head": {"rev": report.head.rev, "commit": report.head.commit},
        "stage": report.stage,
        "gate": {
            "status": report.gate.status,
            "stage": report.gate.stage,
            "failures": list(report.gate.failures),
            "rules_changed": report.gate.rules_changed,
            # Only when a rule warns: reports without warnings keep their shape.
            **({"warnings": list(report.gate.warnings)} if report.gate.warnings else {}),
        },
        "models": [
            {
                "name": model.name,
                "status": model.status.value,
                "artifact": {
                    "base_md5": model.base_md5,
                    "head_md5": model.head_md5,
                    "changed": model.artifact_changed,
                },
                "evaluation_rows": {"base": model.base_rows, "head": model.head_rows},
                "headline": model.headline.name if model.headline else None,
                "metrics": [_metric(row) for row in model.metrics],
                "operational": [_metric(row) for row in model.operational],
                "curves": [_curve(curve) for curve in model.curves],
                "plots": [_plot(plot) for plot in model.plots],
                "notes": list(model.notes),
                "same_rows": {
                    "rows": model.same_rows_count,
                    "metrics": [_metric(row) for row in model.same_rows],
                },
                "baseline": _baseline(model.baseline),
                **_governance(model),
            }
            for model in report.models
        ],
        "params": [
            {
                "name": p.name,
                "base": json_number(p.base),
                "head": json_number(p.head),
                "change": p.change.value,
            }
            for p in report.params
        ],
        "data": [
            {
                "path": d.path,
                "base": _data_side(d.base),
                "head": _data_side(d.head),
                "change": d.change.value,
            }
            for d in report.data
        ],
        "pipeline": report.pipeline,
        "reproduce": report.reproduce,
    }
