"""The site's drift sections: the latest recorded check of each stage's version, the
model's recent checks, and a version's own checks (pure: values in, HTML out).

A drift check is in the registry only when it was recorded (``gitml drift --record``,
as the monitor workflow does); the sections say so rather than show a model as calm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.site.layout import e, table

if TYPE_CHECKING:
    from gitml.registry.observations import ObservedEvent
    from gitml.registry.records import StageInfo

RECENT_CHECKS = 20  # a model page lists its latest checks; each version page lists its own
NOT_RECORDED = (
    "No drift check of this model is recorded in the registry. Checks count here once "
    "they are recorded: gitml drift MODEL@STAGE --record (the monitor workflow does)."
)


def _row(check: ObservedEvent) -> list[str]:
    o = check.observation
    return [
        e(check.created_at.isoformat(" ")[:16]),
        e(o.version),
        e(o.stage or ""),
        e(o.verdict),
        e(", ".join(o.names[:5]) + (" …" if len(o.names) > 5 else "")),
        e(str(o.rows)),
        f"<code>{e(check.tag)}</code>",
    ]


_HEADER = ("checked", "version", "as", "verdict", "drifted", "rows", "tag")


def model_drift(stages: tuple[StageInfo, ...], checks: tuple[ObservedEvent, ...]) -> str:
    """The current drift status per stage, then the model's latest checks."""
    if not checks:
        return f'<p class="note">{e(NOT_RECORDED)}</p>'
    latest = {}
    for check in checks:  # oldest first: the last one per version wins
        latest[check.observation.version] = check
    status = []
    for s in stages:
        if s.version is None:
            continue
        found = latest.get(s.version)
        if found is None:
            status.append([e(s.stage), e(s.version), "no check of this version recorded", "", ""])
        else:
            o = found.observation
            status.append(
                [
                    e(s.stage),
                    e(s.version),
                    e(o.verdict),
                    e(found.created_at.isoformat(" ")[:16]),
                    f"<code>{e(found.tag)}</code>",
                ]
            )
    recent = [_row(c) for c in reversed(checks[-RECENT_CHECKS:])]
    parts = []
    if status:
        parts.append(
            table(
                ("stage", "version", "latest verdict", "checked", "tag"),
                status,
                caption="Current drift status of each stage's version",
            )
        )
    parts.append(table(_HEADER, recent, caption="Latest recorded drift checks, newest first"))
    return "\n".join(parts)


def version_drift(checks: list[ObservedEvent]) -> str:
    """A version's recorded drift checks, newest first."""
    if not checks:
        return "<p>No drift check of this version is recorded.</p>"
    rows = [_row(c) for c in reversed(checks[-50:])]
    return table(_HEADER, rows, caption="Recorded drift checks of this version, newest first")
