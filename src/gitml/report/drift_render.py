"""``gitml drift`` reports as GitHub markdown and as a terminal table.

Feature and category names come from the batch and the baseline, so every one passes
through :mod:`gitml.report.escape` (directly or as a table cell of
:mod:`gitml.report.tables`) before it reaches the markdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.report.escape import code, text
from gitml.report.tables import table

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gitml.monitor.drift_report import DriftReport, Estimate, FeatureDrift, Performance

_BADGE = {"drift": "🔴 drift", "warn": "🟡 warn", "ok": "🟢 ok"}
_HEADER = ["feature", "kind", "status", "PSI", "KS / JS", "missing ref → batch", "unseen", "why"]
# Unseen categories named in a table cell; the rest are counted.
_UNSEEN_SHOWN = 3


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _distance(feature: FeatureDrift) -> str:
    if feature.ks is not None:
        return f"KS {feature.ks:.3f}"
    if feature.js is not None:
        return f"JS {feature.js:.3f}"
    return "–"


def _unseen_cell(feature: FeatureDrift) -> str:
    if not feature.unseen_categories:
        return "–"
    shown = feature.unseen[:_UNSEEN_SHOWN]
    listed = ", ".join(f"{c} ({100 * s:.1f}%)" for c, s in shown)
    more = feature.unseen_categories - len(shown)
    return listed + (f" +{more} more" if more > 0 else "")


def _rows(features: Sequence[FeatureDrift], md: bool) -> list[list[str]]:
    return [
        [
            f.name,
            f.kind,
            _BADGE[f.status] if md else f.status,
            _fmt(f.psi),
            _distance(f),
            f"{_percent(f.missing_rate_reference)} → {_percent(f.missing_rate_batch)}",
            _unseen_cell(f),
            "; ".join(f.reasons) or "–",
        ]
        for f in features
    ]


def _headline(report: DriftReport) -> str:
    counts = report.summary
    parts = [f"{counts['drift']} drifted", f"{counts['warn']} warned", f"{counts['ok']} ok"]
    score = f"; score: {report.score.status}" if report.score else ""
    return (
        f"{', '.join(parts)} of {len(report.features)} features{score}. "
        f"{report.rows:,} rows against a baseline of {report.baseline_rows:,}."
    )


def _performance_lines(performance: Performance) -> list[str]:
    def with_reference(value: float | None, reference: float | None) -> str:
        shown = _fmt(value)
        return f"{shown} (baseline {_fmt(reference)})" if reference is not None else shown

    return [
        f"ROC AUC {with_reference(performance.roc_auc, performance.roc_auc_reference)}",
        f"mean score {_fmt(performance.mean_score)} vs observed rate "
        f"{_fmt(performance.positive_rate)} (gap {performance.calibration_gap:+.3f})",
        f"ECE {with_reference(performance.ece, performance.ece_reference)}"
        f" on {performance.rows:,} labelled rows",
    ]


def _estimate_line(estimate: Estimate) -> str:
    # Two decimals: a label-free estimate on a few thousand rows is good to about 0.01.
    auc = f"estimated ROC AUC {_fmt(estimate.roc_auc, 2)}"
    if estimate.roc_auc_reference is not None:
        auc += f" (baseline {_fmt(estimate.roc_auc_reference, 2)})"
    how = (
        "through the baseline's calibration"
        if estimate.calibration == "baseline"
        else "scores taken as probabilities (the baseline has no calibration)"
    )
    return (
        f"{auc}; accuracy {_fmt(estimate.accuracy, 2)} at threshold {estimate.threshold:g}; "
        f"log loss {_fmt(estimate.log_loss)}; {estimate.rows:,} scored rows, {how}"
    )


def _score_line(score: FeatureDrift) -> str:
    mean = f"mean {_fmt(score.mean_reference)} → {_fmt(score.mean_batch)}"
    return f"{score.status}: PSI {_fmt(score.psi)}, {_distance(score)}, {mean}"


def render_markdown(report: DriftReport) -> str:
    """The report as GitHub markdown: verdict, flagged features, folded ok ones, score,
    live and estimated quality."""
    lines = [
        f"### Drift: {text(report.model)}: {_BADGE[report.verdict]}",
        "",
        _headline(report),
        "",
    ]
    flagged = [f for f in report.features if f.status != "ok"]
    steady = [f for f in report.features if f.status == "ok"]
    if flagged:
        lines += [table("md", _HEADER, _rows(flagged, md=True)), ""]
    if steady:
        lines += [
            f"<details><summary>{len(steady)} feature(s) without drift</summary>",
            "",
            table("md", _HEADER, _rows(steady, md=True)),
            "",
            "</details>",
            "",
        ]
    if report.score:
        lines += [f"**Score** {text(_score_line(report.score))}", ""]
        if report.score.reasons:
            lines += [f"Score: {text('; '.join(report.score.reasons))}", ""]
    if report.performance:
        lines += [f"**Live quality** {text('; '.join(_performance_lines(report.performance)))}"]
        lines += [""]
    if report.estimate:
        lines += [f"**Estimated quality** {text(_estimate_line(report.estimate))}", ""]
    if report.ignored_columns:
        ignored = ", ".join(code(c) for c in report.ignored_columns)
        lines += [f"Ignored columns (not features of the model): {ignored}", ""]
    return "\n".join(lines).rstrip() + "\n"


def render_table(report: DriftReport) -> str:
    """The report as a compact terminal table with a verdict line and the score."""
    lines = [f"drift {report.model}: {report.verdict.upper()}. {_headline(report)}"]
    lines += [table("table", _HEADER, _rows(report.features, md=False))]
    if report.score:
        lines += [f"score  {_score_line(report.score)}"]
    if report.performance:
        lines += ["live   " + "; ".join(_performance_lines(report.performance))]
    if report.estimate:
        lines += ["est.   " + _estimate_line(report.estimate)]
    if report.ignored_columns:
        lines += ["ignored columns: " + ", ".join(report.ignored_columns)]
    return "\n".join(lines) + "\n"
