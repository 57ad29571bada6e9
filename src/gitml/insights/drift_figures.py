"""The drift figures: alerts per production week, and which alert preceded a retraining.

Pure, like :mod:`gitml.insights.figures`: they read the drift checks the registry holds
as observation tags (``gitml drift --record``). Without any recorded check they say
"no data", never zero: a repository that does not record its checks has not been
alert-free.
"""

from __future__ import annotations

from collections import defaultdict
from types import MappingProxyType
from typing import TYPE_CHECKING

from gitml.insights.definitions import NO_DRIFT_RECORD
from gitml.insights.model import Evidence, Figure, Window, count, seconds

if TYPE_CHECKING:
    from datetime import datetime

    from gitml.insights.events import DriftCheck, History

WEEK_S = 7 * 86_400
KEY = "drift-alerts"


def drift_alerts(history: History, window: Window | None) -> Figure:
    """Drift alerts on production versions, per week a version held production."""
    if window is None:
        return _no_data("the registry has no events for this query")
    if not history.drift_checks:
        return Figure(KEY, NO_DRIFT_RECORD, no_data=NO_DRIFT_RECORD)
    # Each version's production spans, clipped to the window; only models whose checks
    # are recorded count their weeks (an unmonitored model has not been alert-free).
    monitored = {c.model for c in history.drift_checks}
    spans: dict[tuple[str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    held = 0.0
    for h in history.holds:
        if h.model not in monitored:
            continue
        start, end = max(h.start, window.since), min(h.end or window.until, window.until)
        if start <= end:
            spans[(h.model, h.version)].append((start, end))
            held += seconds(start, end)
    if held <= 0:
        return _no_data("no version held production in the window")
    checks = [
        c
        for c in history.drift_checks
        if any(start <= c.at <= end for start, end in spans.get((c.model, c.version), ()))
    ]
    if not checks:
        return _no_data("no drift check of a version while it held production in the window")
    alerts = [c for c in checks if c.alert]
    weeks = held / WEEK_S
    rate = len(alerts) / weeks
    return Figure(
        KEY,
        f"{rate:.2f} per production week ({count(len(alerts), 'alert')} in "
        f"{count(len(checks), 'check')}, {weeks:.2f} production weeks)",
        MappingProxyType(
            {"per_week": rate, "alerts": len(alerts), "checks": len(checks), "weeks": weeks}
        ),
        evidence=tuple(
            Evidence(c.at, c.model, c.version, f"drift check: {c.verdict}", c.tag, c.commit)
            for c in checks
        ),
    )


def alert_before(history: History, model: str, moment: datetime) -> DriftCheck | None:
    """The latest drift alert on ``model`` at or before ``moment`` (the one a retraining
    commit made then answers), if any was recorded."""
    found = [c for c in history.drift_checks if c.model == model and c.alert and c.at <= moment]
    return found[-1] if found else None


def _no_data(why: str) -> Figure:
    return Figure(KEY, f"no data: {why}", no_data=f"no data: {why}")
