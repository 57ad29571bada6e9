"""The report as data: what changed between two revisions, per model, with verdicts.

The markdown and JSON renderers both read these values; nothing is computed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitml.deploy.summary import DeployChange
    from gitml.monitor.baseline_diff import BaselineDiff
    from gitml.report.values import Scalar


class Change(StrEnum):
    """How one metric moved, judged by its direction when it has one."""

    BETTER = "better"
    WORSE = "worse"
    UNCHANGED = "unchanged"
    CHANGED = "changed"  # moved, but no direction is known (or not numeric)
    ADDED = "added"
    REMOVED = "removed"  # missing on head: never an improvement, fails a gate requiring it
    BECAME_NAN = "became NaN"  # a number on base, NaN on head: as bad as missing


class ModelStatus(StrEnum):
    """The one-word verdict of a model in the summary line."""

    IMPROVED = "improved"
    REGRESSED = "regressed"
    MIXED = "mixed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    NEW = "new model"
    REMOVED = "removed"
    UNAVAILABLE = "unavailable"  # a side's metrics are DVC-tracked and their bytes cannot be had


@dataclass(frozen=True)
class MetricDiff:
    """One metric on both sides; ``delta``/``relative`` only when both are finite numbers."""

    name: str
    base: Scalar
    head: Scalar
    change: Change
    delta: float | None = None
    relative: float | None = None
    direction: str | None = None


@dataclass(frozen=True)
class ParamDiff:
    """One parameter that differs between the sides."""

    name: str
    base: Scalar
    head: Scalar
    change: Change  # ADDED, REMOVED or CHANGED


@dataclass(frozen=True)
class DataSide:
    """A DVC-tracked data path on one side: content hash, size, file count, rows if known."""

    md5: str | None
    size: int | None = None
    nfiles: int | None = None


@dataclass(frozen=True)
class DataDiff:
    """A DVC-tracked data path whose content differs between the sides."""

    path: str
    base: DataSide | None
    head: DataSide | None
    change: Change


@dataclass(frozen=True)
class Curve:
    """A plot's base and head series resampled onto one shared x grid."""

    name: str
    title: str
    x_label: str
    y_label: str
    x: tuple[float, ...]
    base: tuple[float, ...] | None
    head: tuple[float, ...] | None


@dataclass(frozen=True)
class PlotLine:
    """One series of a ``dvc.yaml`` x-y plot on one side, sampled on the plot's x grid."""

    side: str  # "base" | "head"
    file: str
    field: str  # the y field
    y: tuple[float, ...]


@dataclass(frozen=True)
class XYPlot:
    """A ``dvc.yaml`` x-y plot (templates linear, simple, scatter, smooth, custom ones):
    every series of both sides on one shared x grid, small enough for a Mermaid chart."""

    id: str
    title: str
    template: str
    x_label: str
    y_label: str
    x: tuple[float, ...]
    lines: tuple[PlotLine, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of (x value, y value) pairs in one data file: ``counts[row][column]`` with
    rows the x field's values (DVCLive's ``actual``) and columns the y field's values
    (``predicted``), both over ``labels``; None on a side without the file."""

    file: str
    x_field: str
    y_field: str
    labels: tuple[str, ...]
    base: tuple[tuple[int, ...], ...] | None
    head: tuple[tuple[int, ...], ...] | None


@dataclass(frozen=True)
class ConfusionPlot:
    """A ``dvc.yaml`` confusion plot (templates ``confusion``, ``confusion_normalized``)."""

    id: str
    title: str
    template: str
    x_label: str
    y_label: str
    matrices: tuple[ConfusionMatrix, ...]
    notes: tuple[str, ...] = ()

    @property
    def normalized(self) -> bool:
        """Shown as shares of each y value, as DVC's ``confusion_normalized`` draws it."""
        return self.template == "confusion_normalized"


Plot = XYPlot | ConfusionPlot


class BaselineStatus(StrEnum):
    """What a pull request does to a model's drift baseline."""

    UNCHANGED = "unchanged"  # the same document on both sides
    CHANGED = "changed"  # different, but no check reaches gitml drift's warn level
    MATERIAL = "material"  # a check reaches warn level, or features came or went
    ADDED = "added"  # no baseline on the base side (a new model, or newly configured)
    REMOVED = "removed"  # the base has one; the head's gitml.yaml names none
    MISSING = "missing"  # the head's gitml.yaml names a file the head does not have


@dataclass(frozen=True)
class BaselineChange:
    """A model's drift baseline on both sides (``diff`` when both sides have one)."""

    path: str
    status: BaselineStatus
    rows_base: int | None = None
    rows_head: int | None = None
    diff: BaselineDiff | None = None


class Availability(StrEnum):
    """Whether one side has a document the report compares (a segment report, a card's
    importance): a side without it is shown as such, never a failure of the report."""

    PRESENT = "present"
    MISSING = "missing"
    MALFORMED = "malformed"  # there, but not what it should be: a note says why
    UNAVAILABLE = "unavailable"  # DVC tracks it and its bytes cannot be had: a note says why


@dataclass(frozen=True)
class Estimate:
    """A figure with its confidence interval; None where it could not be computed (the
    ROC AUC of a group with one class)."""

    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class EstimateDiff:
    """One figure on both sides (None: the side does not have it).

    ``direction`` and ``widened`` are set on gaps only.
    """

    name: str
    base: Estimate | None
    head: Estimate | None
    direction: str | None = None
    widened: bool = False

    @property
    def delta(self) -> float | None:
        """Head minus base, when both values are known."""
        if self.base is None or self.head is None:
            return None
        if self.base.value is None or self.head.value is None:
            return None
        return self.head.value - self.base.value


@dataclass(frozen=True)
class GroupDiff:
    """One group of a segment column (``north`` of ``region``): its rows and metrics."""

    name: str
    base_rows: int | None
    head_rows: int | None
    metrics: tuple[EstimateDiff, ...]


@dataclass(frozen=True)
class SegmentDiff:
    """One segment column: its gaps, then its groups, each on both sides."""

    column: str
    gaps: tuple[EstimateDiff, ...]
    groups: tuple[GroupDiff, ...]


@dataclass(frozen=True)
class FairnessDiff:
    """A model's segment report on both sides."""

    path: str
    base: Availability
    head: Availability
    confidence: float | None
    segments: tuple[SegmentDiff, ...]
    notes: tuple[str, ...] = ()

    @property
    def widened(self) -> tuple[tuple[str, EstimateDiff], ...]:
        """Every gap that widened beyond the base's interval, with its segment column."""
        return tuple(
            (segment.column, gap)
            for segment in self.segments
            for gap in segment.gaps
            if gap.widened
        )


@dataclass(frozen=True)
class FeatureRank:
    """One feature's rank (1 = most important) and mean importance on both sides;
    None where the side did not measure it."""

    name: str
    base_rank: int | None
    head_rank: int | None
    base_mean: float | None
    head_mean: float | None
    entered_top: bool = False  # in the head's top three, not in the base's

    @property
    def movement(self) -> int | None:
        """Places gained (positive) or lost (negative), when ranked on both sides."""
        if self.base_rank is None or self.head_rank is None:
            return None
        return self.base_rank - self.head_rank


@dataclass(frozen=True)
class ImportanceDiff:
    """A model's feature ranking on both sides (from the model card at ``card``): the
    head's top five (:data:`gitml.report.importance.TOP`), then the base's top features
    that are no longer in it."""

    card: str
    base: Availability
    head: Availability
    method: str | None
    scoring: str | None
    features: tuple[FeatureRank, ...]
    notes: tuple[str, ...] = ()

    @property
    def entered_top(self) -> tuple[str, ...]:
        """The features flagged as new in the top three, by head rank."""
        return tuple(f.name for f in self.features if f.entered_top)


@dataclass(frozen=True)
class DossierLink:
    """Where the dossier of the version a promotion proposes is: the CI run that
    registered it uploaded the artefact ``gitml-dossier`` (contract of the register
    workflow). ``verified`` when this run read ``run_url`` from the registration record
    itself; a link read back from a JSON report is a claim and is shown as text."""

    version: str
    run_url: str
    sections: tuple[str, ...]
    verified: bool = True


@dataclass(frozen=True)
class GateSummary:
    """The gate verdict shown at the top of the report (filled by the gates, when any)."""

    status: str = "not_configured"  # not_configured | passed | failed | warned
    stage: str | None = None
    failures: tuple[str, ...] = ()
    rules_changed: bool = False  # the candidate changes gates: (it is judged by the old)
    warnings: tuple[str, ...] = ()  # rules that warn: why a gate "passed with warnings"


@dataclass(frozen=True)
class ModelReport:
    """Everything the report says about one model."""

    name: str
    status: ModelStatus
    metrics: tuple[MetricDiff, ...]
    operational: tuple[MetricDiff, ...]
    base_md5: str | None
    head_md5: str | None
    curves: tuple[Curve, ...] = ()
    base_rows: int | None = None
    head_rows: int | None = None
    headline: MetricDiff | None = None
    notes: tuple[str, ...] = ()
    same_rows: tuple[MetricDiff, ...] = ()
    same_rows_count: int | None = None
    baseline: BaselineChange | None = None
    # The plots dvc.yaml declares (gitml's own curve files stay in ``curves``).
    plots: tuple[Plot, ...] = ()
    fairness: FairnessDiff | None = None
    importance: ImportanceDiff | None = None
    dossier: DossierLink | None = None
    # A promotion's change to its stage's deploy folder (gitml.yaml deploy:), if any.
    deployment: DeployChange | None = None

    @property
    def artifact_changed(self) -> bool:
        """Whether the model file's content hash differs between the sides."""
        return self.base_md5 != self.head_md5


@dataclass(frozen=True)
class Side:
    """One revision of the report: what the user asked for and what it resolved to."""

    rev: str
    commit: str | None  # None for an uncommitted workspace
    label: str


@dataclass(frozen=True)
class Report:
    """The whole pull-request report."""

    base: Side
    head: Side
    stage: str
    models: tuple[ModelReport, ...]
    params: tuple[ParamDiff, ...]
    data: tuple[DataDiff, ...]
    gate: GateSummary = field(default_factory=GateSummary)
    pipeline: str = "unknown"  # ran | restored | partly-restored | unknown
    reproduce: str = ""
