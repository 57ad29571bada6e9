"""``--explain METRIC``: the events behind one figure, as rows a person can check.

Each row names an instant, a version, what happened, and the tag or commit that records
it, so ``git show TAG`` or ``git show COMMIT`` confirms every number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.errors import UsageError
from gitml.insights.definitions import METRICS

if TYPE_CHECKING:
    from gitml.insights.model import Evidence, Figure

EXPLAIN_HEADER = ["when", "model", "version", "what", "tag", "commit"]


def metric_key(text: str) -> str:
    """The metric ``text`` names (its key, any case); a UsageError listing them otherwise."""
    key = text.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in METRICS:
        raise UsageError(
            f"--explain {text!r}: unknown metric; expected one of {', '.join(METRICS)}"
        )
    return key


def evidence_row(item: Evidence) -> list[str]:
    """One event behind a figure, as table cells."""
    return [
        item.time.isoformat(" ")[:19],
        item.model,
        item.version,
        item.what,
        item.tag or "-",
        item.commit[:12] if item.commit else "-",
    ]


def explanation(figure: Figure) -> tuple[str, list[list[str]]]:
    """A heading (the metric, its definition and value) and one row per event behind it."""
    heading = f"{figure.name}: {figure.summary}\n  ({figure.definition})"
    return heading, [evidence_row(item) for item in figure.evidence]
