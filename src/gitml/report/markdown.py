"""The report as GitHub-flavoured markdown for a pull-request comment.

Rendered from :class:`~gitml.report.model.Report` only. Untrusted text goes through
:mod:`gitml.report.escape`. The comment stays under GitHub's 65,536-character limit:
detail is dropped in steps (charts, then unchanged rows, then long tables are cut), each
with a note, rather than failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml import __version__
from gitml.report import mermaid
from gitml.report.escape import code, text
from gitml.report.governance_markdown import (
    dossier_line,
    fairness_block,
    fairness_warning,
    importance_block,
)
from gitml.report.model import BaselineStatus, Change, ModelStatus
from gitml.report.plots_markdown import plots_block
from gitml.report.tables import markdown_cut
from gitml.report.values import format_delta, format_relative, format_value

if TYPE_CHECKING:
    from gitml.monitor.baseline_diff import BaselineDiff, FeatureShift
    from gitml.report.model import (
        BaselineChange,
        DataDiff,
        MetricDiff,
        ModelReport,
        ParamDiff,
        Report,
    )
    from gitml.report.tables import Align
    from gitml.report.values import Scalar

MARKER = "<!-- gitml:report -->"
GITHUB_COMMENT_LIMIT = 65_536
# Leave room for CML's watermark and GitHub's own accounting of the body.
DEFAULT_LIMIT = 60_000

STATUS_ICON = {
    ModelStatus.IMPROVED: "🟢",
    ModelStatus.REGRESSED: "🔴",
    ModelStatus.MIXED: "🟡",
    ModelStatus.CHANGED: "🔵",
    ModelStatus.UNCHANGED: "⚪",
    ModelStatus.NEW: "🆕",
    ModelStatus.REMOVED: "🗑️",
    ModelStatus.UNAVAILABLE: "⚠️",
}
CHANGE_MARK = {
    Change.BETTER: "✅ better",
    Change.WORSE: "❌ worse",
    Change.UNCHANGED: "",
    Change.CHANGED: "changed",
    Change.ADDED: "➕ added",
    Change.REMOVED: "➖ removed",
    Change.BECAME_NAN: "❌ became NaN",
}
ARROW = {"higher": " ↑", "lower": " ↓"}
GATE_LINE = {
    "not_configured": "⚪ no gates configured",
    "passed": "✅ passed",
    "failed": "❌ failed",
    "warned": "⚠️ passed with warnings",
}


@dataclass(frozen=True)
class Detail:
    """How much to show; lowered step by step until the comment fits."""

    charts: bool = True
    unchanged: bool = True
    max_rows: int | None = None


LEVELS = (
    Detail(),
    Detail(charts=False),
    Detail(charts=False, unchanged=False),
    Detail(charts=False, unchanged=False, max_rows=50),
    Detail(charts=False, unchanged=False, max_rows=10),
)


def short(md5: str | None) -> str:
    """A content hash shortened for display (``.dir`` kept), or an em dash."""
    if not md5:
        return "—"
    suffix = ".dir" if md5.endswith(".dir") else ""
    return code(md5.removesuffix(".dir")[:8] + suffix)


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:,} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value = value / 1000  # type: ignore[assignment]
    return str(value)


def _show(value: Scalar) -> str:
    return text(value) if isinstance(value, str) else format_value(value)


def _metric_mark(row: MetricDiff) -> str:
    """What a metric's move means: a metric gone from head is missing, not just removed,
    and a move without a known direction says so rather than look neutral."""
    if row.change == Change.REMOVED:
        return "➖ missing on head"
    if row.change == Change.CHANGED and row.direction is None:
        return "changed (no direction known)"
    return CHANGE_MARK[row.change]


def _metric_rows(rows: tuple[MetricDiff, ...]) -> list[list[str]]:
    return [
        [
            text(row.name) + ARROW.get(row.direction or "", ""),
            _show(row.base),
            _show(row.head),
            format_delta(row.delta) if row.change != Change.UNCHANGED else "",
            format_relative(row.relative) if row.change != Change.UNCHANGED else "",
            _metric_mark(row),
        ]
        for row in rows
    ]


METRIC_HEADER = ["Metric", "Base", "Head", "Change", "Relative", ""]
METRIC_ALIGN: tuple[Align, ...] = ("left", "right", "right", "right", "right", "left")


def _metrics_block(rows: tuple[MetricDiff, ...], detail: Detail, noun: str) -> list[str]:
    changed = tuple(r for r in rows if r.change != Change.UNCHANGED)
    unchanged = tuple(r for r in rows if r.change == Change.UNCHANGED)
    out = []
    if changed:
        rows_changed = _metric_rows(changed)
        out.append(markdown_cut(METRIC_HEADER, METRIC_ALIGN, rows_changed, detail.max_rows))
    elif rows:
        out.append(f"_No {noun} changed._")
    if unchanged and detail.unchanged:
        table = markdown_cut(METRIC_HEADER, METRIC_ALIGN, _metric_rows(unchanged), detail.max_rows)
        summary = f"<summary>{len(unchanged)} unchanged {noun}</summary>"
        out.append(f"<details>{summary}\n\n{table}\n\n</details>")
    elif unchanged:
        out.append(f"_{len(unchanged)} unchanged {noun} not shown._")
    return out


def headline(model: ModelReport) -> str:
    """``roc_auc 0.81 → 0.83 (+0.02, +2.5%)`` for the summary table."""
    row = model.headline
    if row is None:
        return "—"
    if model.status == ModelStatus.NEW or row.base is None:
        return f"{text(row.name)} {_show(row.head)}"
    if row.change == Change.UNCHANGED:
        return f"{text(row.name)} {_show(row.head)} (unchanged)"
    change = ", ".join(p for p in (format_delta(row.delta), format_relative(row.relative)) if p)
    suffix = f" ({change})" if change else ""
    return f"{text(row.name)} {format_value(row.base)} → {format_value(row.head)}{suffix}"


LEVEL_BADGE = {"drift": "🔴 drift", "warn": "🟡 warn", "ok": "🟢 ok"}
BASELINE_HEADER = ["Feature", "Level", "PSI", "KS / JS", "Mean", "Missing", "Categories"]
BASELINE_ALIGN: tuple[Align, ...] = ("left", "left", "right", "right", "right", "right", "left")
MAX_CATEGORIES_LISTED = 5


def _number(value: float | None) -> str:
    """A statistic to 3 significant digits (PSI 0.271, KS 0.0512), or an em dash."""
    return "—" if value is None else f"{value:.3g}"


def _rows_change(change: BaselineChange) -> str:
    return f"reference rows {format_value(change.rows_base)} → {format_value(change.rows_head)}"


def _names(values: tuple[str, ...], sign: str) -> str:
    shown = ", ".join(text(v) for v in values[:MAX_CATEGORIES_LISTED])
    more = len(values) - MAX_CATEGORIES_LISTED
    return f"{sign} {shown}" + (f" (+{more} more)" if more > 0 else "") if values else ""


def _shift_row(shift: FeatureShift) -> list[str]:
    distance = f"KS {_number(shift.ks)}" if shift.ks is not None else ""
    if shift.js is not None:
        distance = f"JS {_number(shift.js)}"
    mean = ""
    if shift.mean_base is not None and shift.mean_head is not None:
        mean = f"{format_value(shift.mean_base)} → {format_value(shift.mean_head)}"
    missing = ""
    base_missing, head_missing = shift.missing_rate_base, shift.missing_rate_head
    if base_missing is not None and head_missing is not None and base_missing != head_missing:
        missing = f"{base_missing:.1%} → {head_missing:.1%}"
    categories = "; ".join(
        part
        for part in (
            _names(shift.categories_added, "+"),
            _names(shift.categories_removed, "−"),
        )
        if part
    )
    if shift.kind == "kind-changed":
        categories = text("; ".join(shift.reasons))
    name = "predicted score" if shift.kind == "score" else text(shift.name)
    return [name, LEVEL_BADGE[shift.level], _number(shift.psi), distance, mean, missing, categories]


def _largest(diff: BaselineDiff) -> str:
    """The closest call among the features within thresholds, and the score's figures."""
    calm = [f for f in diff.features if f.level == "ok" and f.psi is not None]
    parts = []
    if calm:
        top = max(calm, key=lambda f: (f.psi or 0.0, f.name))
        if top.psi:
            parts.append(f"largest PSI {_number(top.psi)}: {text(top.name)}")
        else:
            parts.append("features unchanged")
    if diff.score.level == "ok" and diff.score.psi is not None:
        parts.append(f"score PSI {_number(diff.score.psi)}, KS {_number(diff.score.ks)}")
    return "; ".join(parts)


def _thresholds(diff: BaselineDiff) -> str:
    t = diff.thresholds
    return (
        f"<sub>Levels as <code>gitml drift</code> judges a batch (gitml.yaml "
        f"<code>drift</code>): PSI {t.psi_warn:g} / {t.psi_drift:g}, KS {t.ks_warn:g} / "
        f"{t.ks_drift:g}, JS {t.js_warn:g} / {t.js_drift:g}, missing rate ±{t.missing_warn:g} / "
        f"±{t.missing_drift:g}, new categories {t.unseen_warn:.0%} / {t.unseen_drift:.0%} "
        f"of values; a change must also pass its test (family-wise p &lt; {t.p_value:g}). "
        "PSI is over the base's bins.</sub>"
    )


def _baseline_block(change: BaselineChange | None, detail: Detail) -> list[str]:
    """What the pull request does to the model's drift baseline; nothing when unchanged."""
    if change is None or change.status == BaselineStatus.UNCHANGED:
        return []
    title = f"**Drift baseline** {code(change.path)}"
    if change.status == BaselineStatus.ADDED:
        rows = format_value(change.rows_head)
        return [f"{title}: new ({rows} reference rows); the base has none to compare with."]
    if change.status == BaselineStatus.REMOVED:
        return [
            f"{title}: ⚠️ removed: the head's gitml.yaml names no baseline for this model, "
            "so <code>gitml drift</code> cannot check versions built from it."
        ]
    if change.status == BaselineStatus.MISSING:
        return [
            f"{title}: ⚠️ missing on the head (run <code>dvc repro</code>?), so "
            "<code>gitml drift</code> would have no reference for this version."
        ]
    diff = change.diff
    assert diff is not None  # CHANGED and MATERIAL always carry the comparison
    largest = _largest(diff)
    if change.status == BaselineStatus.CHANGED:
        within = f" ({largest})" if largest else ""
        return [f"{title}: updated, no material change{within} · {_rows_change(change)}."]
    moved = [*diff.moved, *([diff.score] if diff.score.level != "ok" else [])]
    icon = LEVEL_BADGE[diff.level].split()[0] if diff.level != "ok" else "🔵"
    out = [
        f"{title}: {icon} moved: <code>gitml drift</code> will measure live data against a "
        f"different reference · {_rows_change(change)}"
    ]
    changed_features = [
        _names(diff.features_added, "features added:"),
        _names(diff.features_removed, "features removed:"),
    ]
    if any(changed_features):
        out.append(" · ".join(part for part in changed_features if part))
    if moved:
        table = [_shift_row(shift) for shift in moved]
        out.append(markdown_cut(BASELINE_HEADER, BASELINE_ALIGN, table, detail.max_rows))
    calm = [f for f in diff.features if f.level == "ok"]
    if calm and not any(f.psi or f.ks or f.js for f in calm) and diff.score.level != "ok":
        out.append(f"_The {len(calm)} other feature(s): unchanged._")
    elif calm or diff.score.level == "ok":
        others = f"{len(calm)} other feature(s)" if calm else "the score"
        out.append(f"_Within thresholds: {others} ({largest})._")
    out.append(_thresholds(diff))
    return out


def _model_section(model: ModelReport, report: Report, detail: Detail) -> list[str]:
    icon = STATUS_ICON[model.status]
    out = [f"### {icon} {text(model.name)}: {model.status.value}{fairness_warning(model)}"]
    artifact = "changed" if model.artifact_changed else "unchanged"
    if model.base_md5 is None:
        artifact = "new"
    out.append(f"Model file: {short(model.base_md5)} → {short(model.head_md5)} ({artifact})")
    if model.base_rows is not None or model.head_rows is not None:
        out[-1] += (
            f" · evaluation rows: {format_value(model.base_rows)} → {format_value(model.head_rows)}"
        )
    out += dossier_line(model.name, model.dossier)
    if model.deployment is not None:
        from gitml.deploy.summary import markdown_lines

        out += ["", *markdown_lines(model.deployment), ""]
    out += [f"> {text(note)}" for note in model.notes]
    out += _metrics_block(model.metrics, detail, "metrics")
    if model.same_rows:
        out.append(
            "**Champion vs challenger on the same rows**: the data changed, so both models "
            f"were scored on the head's {format_value(model.same_rows_count)} evaluation rows "
            "(Base = base model, Head = head model)"
        )
        out.append(markdown_cut(METRIC_HEADER, METRIC_ALIGN, _metric_rows(model.same_rows), None))
    sides = (report.base.label, report.head.label)
    out += fairness_block(model.fairness, *sides, detail.max_rows)
    out += importance_block(model.importance, *sides)
    out += _baseline_block(model.baseline, detail)
    if model.operational:
        out.append("**Operational figures** (size and timings; not part of the verdict)")
        figures = _metric_rows(model.operational)
        out.append(markdown_cut(METRIC_HEADER, METRIC_ALIGN, figures, detail.max_rows))
    if detail.charts and model.curves:
        legend = f"first line: base {code(report.base.label)}"
        if model.status != ModelStatus.NEW:
            legend += f", second line: head {code(report.head.label)}"
        else:
            legend = f"head {code(report.head.label)} only (no baseline)"
        labels = (f"base {report.base.label}", f"head {report.head.label}")
        charts = "\n\n".join(mermaid.fenced(curve, *labels) for curve in model.curves)
        out.append(f"<details><summary>Curves ({legend})</summary>\n\n{charts}\n\n</details>")
    out += plots_block(
        model.plots,
        report.base.label,
        report.head.label,
        charts=detail.charts,
        tables=detail.max_rows is None,
    )
    return out


def _param_rows(params: tuple[ParamDiff, ...]) -> list[list[str]]:
    return [[code(p.name), _show(p.base), _show(p.head), CHANGE_MARK[p.change]] for p in params]


def _data_rows(data: tuple[DataDiff, ...]) -> list[list[str]]:
    rows = []
    for item in data:
        base, head = item.base, item.head
        size_change = ""
        if base and head and base.size is not None and head.size is not None:
            sign = "+" if head.size >= base.size else "-"
            size_change = f" ({sign}{_size(abs(head.size - base.size))})"
        rows.append(
            [
                code(item.path),
                short(base.md5 if base else None),
                short(head.md5 if head else None),
                f"{_size(base.size if base else None)} → {_size(head.size if head else None)}"
                + size_change,
                f"{format_value(base.nfiles if base else None)} → "
                f"{format_value(head.nfiles if head else None)}",
            ]
        )
    return rows


def _render(report: Report, detail: Detail) -> str:
    title = f"## gitml report: {code(report.head.label)} vs {code(report.base.label)}"
    gate = GATE_LINE.get(report.gate.status, text(report.gate.status))
    out = [MARKER, title, f"**Gate** (stage {code(report.stage)}): {gate}"]
    out += [f"- ❌ {text(failure)}" for failure in report.gate.failures]
    out += [f"- ⚠️ {text(warning)}" for warning in report.gate.warnings]
    if report.gate.rules_changed:
        out.append(
            "- ⚠️ This pull request changes the gate rules (`gates:` in gitml.yaml). It is "
            "judged by the target's rules; the new ones apply from the next pull request."
        )
    summary = [
        [
            text(m.name),
            f"{STATUS_ICON[m.status]} {m.status.value}{fairness_warning(m)}",
            headline(m),
        ]
        for m in report.models
    ]
    out.append(markdown_cut(["Model", "Verdict", "Headline"], ("left",) * 3, summary, None))
    for model in report.models:
        out += _model_section(model, report, detail)
    out.append("### Parameters")
    if report.params:
        header = ["Parameter", "Base", "Head", ""]
        align: tuple[Align, ...] = ("left", "right", "right", "left")
        out.append(markdown_cut(header, align, _param_rows(report.params), detail.max_rows))
    else:
        out.append("_No parameter changed._")
    out.append("### Data")
    if report.data:
        header = ["DVC-tracked path", "Base", "Head", "Size", "Files"]
        align = ("left", "left", "left", "right", "right")
        out.append(markdown_cut(header, align, _data_rows(report.data), detail.max_rows))
    else:
        out.append("_No DVC-tracked data changed._")
    base_commit = code(report.base.commit[:12]) if report.base.commit else "—"
    head_commit = code(report.head.commit[:12]) if report.head.commit else "uncommitted workspace"
    out.append("---")
    footer = [
        f"base {code(report.base.label)} at {base_commit}",
        f"head {code(report.head.label)} at {head_commit}",
        f"models: {', '.join(f'{text(m.name)} {short(m.head_md5)}' for m in report.models)}",
        f"pipeline: {text(report.pipeline)}",
        f"reproduce: {code(report.reproduce)}",
        f"gitml {__version__}",
    ]
    out.append(f"<sub>{' · '.join(footer)}</sub>")
    return "\n\n".join(out) + "\n"


def render(report: Report, limit: int = DEFAULT_LIMIT) -> str:
    """The markdown comment, at the richest detail level that fits in ``limit`` characters."""
    for detail in LEVELS:
        body = _render(report, detail)
        if len(body) <= limit:
            return body
    cut = body[: limit - 200].rsplit("\n", 1)[0]
    return cut + "\n\n_Report truncated: it exceeds GitHub's comment size limit._\n"
