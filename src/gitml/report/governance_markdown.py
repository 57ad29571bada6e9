"""Fairness, explanations and the dossier link of a model, as markdown.

Each block puts what a reviewer must see on one line outside any fold (a gap that
widened beyond its interval, a feature new in the top three, where the dossier is) and
the tables behind a ``<details>`` fold, so the comment stays short. Group, segment,
metric and feature names come from the pull request's files: they reach the markdown
through :mod:`gitml.report.escape` like every other name.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gitml.report.escape import code, text
from gitml.report.importance import FLAG_TOP, TOP
from gitml.report.model import Availability
from gitml.report.tables import markdown_cells, markdown_cut
from gitml.report.values import format_delta, format_value

if TYPE_CHECKING:
    from gitml.report.model import (
        DossierLink,
        Estimate,
        EstimateDiff,
        FairnessDiff,
        FeatureRank,
        ImportanceDiff,
        ModelReport,
        SegmentDiff,
    )
    from gitml.report.tables import Align

ARROW = {"higher": " ↑", "lower": " ↓"}
# The artefact the register workflow uploads the dossier as (contract of the workflow).
DOSSIER_ARTIFACT = "gitml-dossier"
# Only a plain https URL of a CI run becomes a link: what a registration record may hold.
_LINKABLE = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~%+-]+)*/?")


def _number(value: float | None) -> str:
    return format_value(value)


def estimate(value: Estimate | None) -> str:
    """``0.2 [0.18, 0.22]``: a value with its interval; an em dash when there is none."""
    if value is None or value.value is None:
        return "—"
    if value.low is None or value.high is None:
        return _number(value.value)
    return f"{_number(value.value)} [{_number(value.low)}, {_number(value.high)}]"


def _interval_words(diff: FairnessDiff) -> str:
    if diff.confidence is None:
        return "interval"
    return f"{diff.confidence:.0%} interval"


# --- fairness ------------------------------------------------------------------------


def fairness_warning(model: ModelReport) -> str:
    """The words the model's verdict line carries when a gap widened; else empty."""
    if model.fairness is None or not model.fairness.widened:
        return ""
    return " · ⚠️ fairness gap widened"


def _state(diff: FairnessDiff, base_label: str, head_label: str) -> str:
    """What the sides hold, when they cannot both be compared."""
    base, head = diff.base, diff.head
    if head == Availability.MALFORMED:
        return f"⚠️ unreadable on the head {code(head_label)} (see the note)"
    if head == Availability.UNAVAILABLE:
        return f"⚠️ unavailable on the head {code(head_label)} (see the note)"
    if head == Availability.MISSING and base == Availability.MISSING:
        return "⚠️ missing on both sides (was <code>dvc repro</code> run?)"
    if head == Availability.MISSING:
        return (
            f"⚠️ missing on the head {code(head_label)}: its groups and gaps cannot be "
            "compared with the base's"
        )
    if base in (Availability.MALFORMED, Availability.UNAVAILABLE):
        return f"{base.value} on the base {code(base_label)}: the head's figures only"
    return f"new: the base {code(base_label)} has no segment report to compare with"


def _gap_row(gap: EstimateDiff) -> list[str]:
    return [
        text(gap.name) + ARROW.get(gap.direction or "", ""),
        estimate(gap.base),
        estimate(gap.head),
        format_delta(gap.delta),
        "⚠️ widened beyond the base's interval" if gap.widened else "",
    ]


GAP_HEADER = ["Gap", "Base", "Head", "Change", ""]
GAP_ALIGN: tuple[Align, ...] = ("left", "right", "right", "right", "left")
GROUP_HEADER = ["Group", "Rows", "Metric", "Base", "Head", "Change"]
GROUP_ALIGN: tuple[Align, ...] = ("left", "right", "left", "right", "right", "right")


def _group_rows(segment: SegmentDiff) -> list[list[str]]:
    rows = []
    for group in segment.groups:
        counts = f"{format_value(group.base_rows)} → {format_value(group.head_rows)}"
        for index, metric in enumerate(group.metrics or ()):
            first = index == 0
            rows.append(
                [
                    text(group.name) if first else "",
                    counts if first else "",
                    text(metric.name),
                    estimate(metric.base),
                    estimate(metric.head),
                    format_delta(metric.delta),
                ]
            )
        if not group.metrics:
            rows.append([text(group.name), counts, "", "", "", ""])
    return rows


def _segment_tables(segment: SegmentDiff, max_rows: int | None) -> list[str]:
    out = [f"**Segment** {code(segment.column)}"]  # no name inside emphasis: it may end in a space
    if segment.gaps:
        out.append(markdown_cut(GAP_HEADER, GAP_ALIGN, [_gap_row(g) for g in segment.gaps], None))
    if segment.groups:
        out.append(markdown_cut(GROUP_HEADER, GROUP_ALIGN, _group_rows(segment), max_rows))
    return out


def fairness_block(
    diff: FairnessDiff | None, base_label: str, head_label: str, max_rows: int | None
) -> list[str]:
    """The fairness lines of a model: the verdict on its gaps, notes, the folded tables."""
    if diff is None:
        return []
    title = f"**Fairness** {code(diff.path)}"
    widened = diff.widened
    both = diff.base == Availability.PRESENT and diff.head == Availability.PRESENT
    interval = _interval_words(diff)
    if widened:
        out = [
            f"{title}: ⚠️ {len(widened)} gap(s) widened beyond the base's {interval} "
            "(a warning; gates on gaps are metric rules)"
        ]
        out += [
            f"- ⚠️ {text(column)}: {text(gap.name)}{ARROW.get(gap.direction or '', '')} "
            f"{estimate(gap.base)} → {estimate(gap.head)}"
            for column, gap in widened
        ]
    elif both:
        gaps = sum(len(segment.gaps) for segment in diff.segments)
        out = [
            f"{title}: no gap widened beyond the base's {interval} ({gaps} gap(s) over "
            f"{len(diff.segments)} segment column(s))"
        ]
    else:
        out = [f"{title}: {_state(diff, base_label, head_label)}"]
    out += [f"> {text(note)}" for note in diff.notes]
    if diff.segments:
        columns = ", ".join(code(segment.column) for segment in diff.segments)
        summary = f"<summary>Fairness by segment: {columns} (base vs head, {interval}s)</summary>"
        body = "\n\n".join(
            part for segment in diff.segments for part in _segment_tables(segment, max_rows)
        )
        out.append(f"<details>{summary}\n\n{body}\n\n</details>")
    return out


# --- explanations --------------------------------------------------------------------


def _movement(feature: FeatureRank, ranked_base: bool) -> str:
    """``↑2``, ``↓1``, ``=``, ``new`` (not ranked on the base), ``out`` (not on the head)."""
    if not ranked_base:
        return ""
    if feature.head_rank is None:
        return "out"
    moved = feature.movement
    if moved is None:
        return "new"
    return "=" if moved == 0 else f"↑{moved}" if moved > 0 else f"↓{-moved}"


def _rank(rank: int | None) -> str:
    # A plain number: "#2" would be an issue reference on GitHub.
    return "—" if rank is None else str(rank)


def _was(feature: FeatureRank) -> str:
    if feature.base_rank is None:
        return "new"
    return f"rank {feature.base_rank} on the base"


def _feature_row(feature: FeatureRank, ranked_base: bool) -> list[str]:
    flag = " 🚩" if feature.entered_top else ""
    return [
        text(feature.name),
        _rank(feature.base_rank),
        _rank(feature.head_rank),
        _movement(feature, ranked_base) + flag,
        f"{_number(feature.base_mean)} → {_number(feature.head_mean)}",
    ]


FEATURE_HEADER = ["Feature", "Base rank", "Head rank", "Change", "Mean importance"]
FEATURE_ALIGN: tuple[Align, ...] = ("left", "right", "right", "left", "right")


def importance_block(diff: ImportanceDiff | None, base_label: str, head_label: str) -> list[str]:
    """The explanation lines of a model: new top features flagged, the folded ranking."""
    if diff is None:
        return []
    how = ", ".join(text(part) for part in (diff.method, diff.scoring) if part)
    title = f"**Explanations** {code(diff.card)}" + (f" ({how})" if how else "")
    ranked_base = diff.base == Availability.PRESENT
    entered = [f for f in diff.features if f.entered_top]
    if entered:
        names = ", ".join(f"{code(f.name)} ({_was(f)})" for f in entered)
        line = f"{title}: 🚩 new in the top {FLAG_TOP}: {names}"
    elif diff.head != Availability.PRESENT:
        line = f"{title}: ⚠️ no feature ranking on the head {code(head_label)}"
    elif not ranked_base:
        line = f"{title}: the base {code(base_label)} ranks no features: the head's ranking only"
    else:
        line = f"{title}: no new feature in the top {FLAG_TOP}"
    out = [line]
    out += [f"> {text(note)}" for note in diff.notes]
    if diff.features:
        rows = [_feature_row(feature, ranked_base) for feature in diff.features]
        summary = f"<summary>Top {TOP} features by permutation importance, base vs head</summary>"
        table = markdown_cells(FEATURE_HEADER, rows, FEATURE_ALIGN)
        out.append(f"<details>{summary}\n\n{table}\n\n</details>")
    return out


# --- the dossier ---------------------------------------------------------------------


def dossier_line(model: str, link: DossierLink | None) -> list[str]:
    """One line: where the dossier of the version a promotion proposes is, and which of
    its sections the reviewer of a promotion reads. A URL becomes a link only when this
    run read it from the registration record and it is a plain https URL."""
    if link is None:
        return []
    ref = f"{model}@{link.version}"
    linkable = link.verified and _LINKABLE.fullmatch(link.run_url) is not None
    where = f"<{link.run_url}>" if linkable else code(link.run_url)
    sections = " and ".join(f"“{text(section)}”" for section in link.sections)
    read = f"; see its sections {sections}" if sections else ""
    return [
        f"📄 **Dossier** of {code(ref)}: {where} (artifact {code(DOSSIER_ARTIFACT)}, "
        f"file {code(ref + '.dossier.html')}{read})"
    ]
