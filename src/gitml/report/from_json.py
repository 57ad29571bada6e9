"""A report read back from ``gitml report --format json``, to be rendered by another job.

A fork's pull request is built by an untrusted run. The trusted job that comments on it
does not post what that run rendered: it reads the run's JSON report here and renders
the markdown itself, so every string the fork wrote reaches the comment only through
the normal renderer and its escaper. The file is read strictly, each failure one
:class:`~gitml.errors.ConfigError` line: a size limit before parsing; JSON only (no
``NaN``/``Infinity`` literals, no duplicate keys); the nesting and value budget of every
document; then the packaged schema (``gitml/schemas/report.schema.json``) and the few
invariants the renderer relies on that a schema cannot say.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.deploy.summary import DeployChange
    from gitml.monitor.baseline_diff import BaselineDiff, FeatureShift
    from gitml.report.model import (
        BaselineChange,
        Curve,
        DataDiff,
        DataSide,
        DossierLink,
        Estimate,
        EstimateDiff,
        FairnessDiff,
        ImportanceDiff,
        MetricDiff,
        ModelReport,
        ParamDiff,
        Plot,
        Report,
    )
    from gitml.report.values import Scalar

# Real reports are a few KB (tens with a baseline of many features); the renderer's
# escaping costs up to ~170 bytes of memory per input byte (a 1 MiB string peaked at
# 184 MB), so the limit keeps any accepted file well under 100 MB. The rendered comment
# is capped at 60,000 characters whatever the input.
MAX_BYTES = 524_288
# gitml resamples every curve onto 21 points (gitml.report.curves.GRID_POINTS); a chart
# is fixed-point text, so long series of huge numbers would cost memory out of all
# proportion to the file.
MAX_CURVE_POINTS = 200
# gitml draws a confusion table of at most 20 classes (gitml.report.plots.MAX_CLASSES),
# and a chart of a few series per side; a longer one is not a report gitml wrote.
MAX_CLASSES = 20
MAX_PLOT_LINES = 100
# How ``gitml.report.values.json_number`` spells the floats JSON cannot carry.
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
NOTICE = (
    "> ⚠️ Rendered from the JSON report of another run (such as a fork's untrusted "
    "build): its figures and its gate line are that run's claims."
)


def _fail(name: str, message: str) -> ConfigError:
    return ConfigError(f"{name}: {message}", [(name, "", message)])


def _reject_constant(name: str) -> Any:
    def reject(constant: str) -> Any:
        raise _fail(name, f"not a gitml report: {constant} is not JSON")

    return reject


def _unique_keys(name: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise _fail(name, f"not a gitml report: duplicate key {key[:40]!r}")
            out[key] = value
        return out

    return pairs


def load(path: Path, display: str | None = None) -> dict[str, Any]:
    """The JSON report at ``path``, parsed and checked against the report schema."""
    from gitml.documents import check_budget, packaged_schema, raise_for, schema_problems

    name = display or str(path)
    if not path.is_file():
        raise _fail(name, "not found (or not a regular file)")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _fail(name, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _fail(name, f"larger than {MAX_BYTES:,} bytes: not a gitml report")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(name, "not UTF-8 text: not a gitml report") from None
    try:
        data = json.loads(
            text, parse_constant=_reject_constant(name), object_pairs_hook=_unique_keys(name)
        )
    except RecursionError:
        raise _fail(name, "nested too deeply: not a gitml report") from None
    except ValueError as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise _fail(name, f"not valid JSON{where}: not a gitml report") from None
    check_budget(data, name)
    raise_for(schema_problems(data, packaged_schema("report.schema.json"), name))
    return data  # type: ignore[no-any-return]  # an object: the schema says so


def _number(value: Any) -> float | None:
    """A delta or relative change: a number, null, or one of json_number's spellings."""
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    if value in NON_FINITE:
        return NON_FINITE[value]
    raise ValueError(f"expected a number, got {str(value)[:40]!r}")


def _scalar(value: Any) -> Scalar:
    """A metric or parameter value; json_number's spellings become floats again."""
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    return value  # type: ignore[no-any-return]


def _metric(row: dict[str, Any]) -> MetricDiff:
    from gitml.report.model import Change, MetricDiff

    return MetricDiff(
        name=row["name"],
        base=_scalar(row["base"]),
        head=_scalar(row["head"]),
        change=Change(row["change"]),
        delta=_number(row["delta"]),
        relative=_number(row["relative"]),
        direction=row["direction"],
    )


def _series(values: list[Any] | None) -> tuple[float, ...] | None:
    if values is not None and len(values) > MAX_CURVE_POINTS:
        raise ValueError(f"a curve has more than {MAX_CURVE_POINTS} points")
    return None if values is None else tuple(float(v) for v in values)


def _curve(curve: dict[str, Any]) -> Curve:
    from gitml.report.model import Curve

    x = _series(curve["x"])
    assert x is not None  # the schema: x is an array
    return Curve(
        curve["name"],
        curve["title"],
        curve["x_label"],
        curve["y_label"],
        x,
        _series(curve["base"]),
        _series(curve["head"]),
    )


def _counts(rows: list[list[int]] | None, size: int) -> tuple[tuple[int, ...], ...] | None:
    if rows is None:
        return None
    if len(rows) != size or any(len(row) != size for row in rows):
        raise ValueError(f"a confusion matrix is not {size} x {size}, as its labels")
    return tuple(tuple(row) for row in rows)


def _plot(plot: dict[str, Any]) -> Plot:
    from gitml.report.model import ConfusionMatrix, ConfusionPlot, PlotLine, XYPlot

    common = (plot["id"], plot["title"], plot["template"], plot["x_label"], plot["y_label"])
    notes = tuple(plot["notes"])
    if plot["kind"] == "xy":
        x = _series(plot["x"])
        assert x is not None  # the schema: x is an array
        if len(plot["lines"]) > MAX_PLOT_LINES:
            raise ValueError(f"a plot has more than {MAX_PLOT_LINES} lines")
        lines = []
        for line in plot["lines"]:
            y = _series(line["y"])
            if y is None or len(y) != len(x):
                raise ValueError("a plot line does not have one value per x")
            lines.append(PlotLine(line["side"], line["file"], line["field"], y))
        return XYPlot(*common, x, tuple(lines), notes)
    matrices = []
    for matrix in plot["matrices"]:
        labels = tuple(matrix["labels"])
        if len(labels) > MAX_CLASSES:
            raise ValueError(f"a confusion matrix has more than {MAX_CLASSES} classes")
        matrices.append(
            ConfusionMatrix(
                matrix["file"],
                matrix["x_field"],
                matrix["y_field"],
                labels,
                _counts(matrix["base"], len(labels)),
                _counts(matrix["head"], len(labels)),
            )
        )
    return ConfusionPlot(*common, tuple(matrices), notes)


def _shift(shift: dict[str, Any]) -> FeatureShift:
    from gitml.monitor.baseline_diff import FeatureShift

    values = dict(shift)
    for key in ("reasons", "categories_added", "categories_removed"):
        values[key] = tuple(values[key])
    # to_dict writes a non-finite severity as null; the renderer never shows it.
    values["severity"] = math.nan if values["severity"] is None else float(values["severity"])
    return FeatureShift(**values)


def _comparison(data: dict[str, Any], rows: dict[str, Any], name: str) -> BaselineDiff:
    from gitml.monitor.baseline_diff import BaselineDiff
    from gitml.monitor.thresholds import DriftThresholds

    return BaselineDiff(
        level=data["level"],
        rows_base=rows["base"],
        rows_head=rows["head"],
        features=tuple(_shift(f) for f in data["features"]),
        score=_shift(data["score"]),
        features_added=tuple(data["features_added"]),
        features_removed=tuple(data["features_removed"]),
        thresholds=DriftThresholds.from_mapping(data["thresholds"], name, "thresholds"),
    )


def _baseline(data: dict[str, Any] | None, name: str) -> BaselineChange | None:
    from gitml.report.model import BaselineChange, BaselineStatus

    if data is None:
        return None
    status = BaselineStatus(data["status"])
    comparison = data["comparison"]
    if status in (BaselineStatus.CHANGED, BaselineStatus.MATERIAL) and comparison is None:
        raise ValueError(f"a {status.value} baseline needs its comparison")
    rows = data["rows"]
    return BaselineChange(
        path=data["path"],
        status=status,
        rows_base=rows["base"],
        rows_head=rows["head"],
        diff=_comparison(comparison, rows, name) if comparison is not None else None,
    )


def _estimate(value: dict[str, Any] | None) -> Estimate | None:
    from gitml.report.model import Estimate

    return None if value is None else Estimate(value["value"], value["low"], value["high"])


def _estimate_diff(row: dict[str, Any]) -> EstimateDiff:
    from gitml.report.model import EstimateDiff

    return EstimateDiff(
        row["name"],
        _estimate(row["base"]),
        _estimate(row["head"]),
        row.get("direction"),
        row.get("widened", False),
    )


def _fairness(data: dict[str, Any] | None) -> FairnessDiff | None:
    from gitml.report.model import Availability, FairnessDiff, GroupDiff, SegmentDiff

    if data is None:
        return None
    segments = tuple(
        SegmentDiff(
            segment["column"],
            tuple(_estimate_diff(gap) for gap in segment["gaps"]),
            tuple(
                GroupDiff(
                    group["name"],
                    group["rows"]["base"],
                    group["rows"]["head"],
                    tuple(_estimate_diff(metric) for metric in group["metrics"]),
                )
                for group in segment["groups"]
            ),
        )
        for segment in data["segments"]
    )
    return FairnessDiff(
        data["path"],
        Availability(data["base"]),
        Availability(data["head"]),
        data["confidence"],
        segments,
        tuple(data["notes"]),
    )


def _importance(data: dict[str, Any] | None) -> ImportanceDiff | None:
    from gitml.report.model import Availability, FeatureRank, ImportanceDiff

    if data is None:
        return None
    features = tuple(
        FeatureRank(
            feature["name"],
            feature["rank"]["base"],
            feature["rank"]["head"],
            feature["mean"]["base"],
            feature["mean"]["head"],
            feature["entered_top"],
        )
        for feature in data["features"]
    )
    return ImportanceDiff(
        data["card"],
        Availability(data["base"]),
        Availability(data["head"]),
        data["method"],
        data["scoring"],
        features,
        tuple(data["notes"]),
    )


def _dossier(data: dict[str, Any] | None) -> DossierLink | None:
    from gitml.report.model import DossierLink

    if data is None:
        return None
    # A link in a JSON report is that run's claim: shown as text, never as a link.
    return DossierLink(data["version"], data["run_url"], tuple(data["sections"]), verified=False)


def _deployment(data: dict[str, Any] | None) -> DeployChange | None:
    from gitml.deploy.summary import DeployChange

    if data is None:
        return None
    rows = tuple((str(w), str(b), str(a)) for w, b, a in data["rows"])
    return DeployChange(data["directory"], rows, tuple(data["files_changed"]))


def _model(model: dict[str, Any], name: str) -> ModelReport:
    from gitml.report.model import ModelReport, ModelStatus

    metrics = tuple(_metric(row) for row in model["metrics"])
    headline = next((row for row in metrics if row.name == model["headline"]), None)
    return ModelReport(
        name=model["name"],
        status=ModelStatus(model["status"]),
        metrics=metrics,
        operational=tuple(_metric(row) for row in model["operational"]),
        base_md5=model["artifact"]["base_md5"],
        head_md5=model["artifact"]["head_md5"],
        curves=tuple(_curve(curve) for curve in model["curves"]),
        plots=tuple(_plot(plot) for plot in model.get("plots", [])),
        base_rows=model["evaluation_rows"]["base"],
        head_rows=model["evaluation_rows"]["head"],
        headline=headline,
        notes=tuple(model["notes"]),
        same_rows=tuple(_metric(row) for row in model["same_rows"]["metrics"]),
        same_rows_count=model["same_rows"]["rows"],
        baseline=_baseline(model["baseline"], name),
        fairness=_fairness(model.get("fairness")),
        importance=_importance(model.get("importance")),
        dossier=_dossier(model.get("dossier")),
        deployment=_deployment(model.get("deployment")),
    )


def _data_side(side: dict[str, Any] | None) -> DataSide | None:
    from gitml.report.model import DataSide

    return None if side is None else DataSide(side["md5"], side["size"], side["nfiles"])


def _param(row: dict[str, Any]) -> ParamDiff:
    from gitml.report.model import Change, ParamDiff

    return ParamDiff(row["name"], _scalar(row["base"]), _scalar(row["head"]), Change(row["change"]))


def _data(row: dict[str, Any]) -> DataDiff:
    from gitml.report.model import Change, DataDiff

    return DataDiff(
        row["path"], _data_side(row["base"]), _data_side(row["head"]), Change(row["change"])
    )


def to_report(data: dict[str, Any], name: str = "report") -> Report:
    """The :class:`~gitml.report.model.Report` that ``data`` (schema-valid) describes."""
    from gitml.report.model import GateSummary, Report, Side

    try:
        return Report(
            base=Side(data["base"]["rev"], data["base"]["commit"], data["base"]["rev"]),
            head=Side(data["head"]["rev"], data["head"]["commit"], data["head"]["rev"]),
            stage=data["stage"],
            models=tuple(_model(model, name) for model in data["models"]),
            params=tuple(_param(row) for row in data["params"]),
            data=tuple(_data(row) for row in data["data"]),
            gate=GateSummary(
                data["gate"]["status"],
                data["gate"]["stage"],
                tuple(data["gate"]["failures"]),
                data["gate"].get("rules_changed", False),
                tuple(data["gate"].get("warnings", ())),
            ),
            pipeline=data["pipeline"],
            reproduce=data["reproduce"],
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise _fail(name, f"not a gitml report: {exc}".splitlines()[0][:240]) from None


def read_report(path: Path, display: str | None = None) -> Report:
    """The report in the JSON file at ``path`` (see :func:`load`)."""
    name = display or str(path)
    return to_report(load(path, name), name)


def render_markdown(report: Report) -> str:
    """The normal markdown comment, with a line saying who built what it shows."""
    from gitml.report.markdown import DEFAULT_LIMIT, render

    body = render(report, limit=DEFAULT_LIMIT - len(NOTICE) - 2)
    marker, title, rest = body.split("\n\n", 2)
    return "\n\n".join((marker, title, NOTICE, rest))
