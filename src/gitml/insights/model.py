"""The values ``gitml insights`` returns: figures, the events behind them, the window.

Also the arithmetic every figure shares: medians and nearest-rank p90s, durations for
people. Pure; no git.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from gitml.insights.definitions import METRICS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Evidence:
    """One event behind a figure: when, which version, what happened, and its tag/commit."""

    time: datetime
    model: str
    version: str
    what: str
    tag: str | None = None
    commit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (times in ISO 8601)."""
        return {
            "time": self.time.isoformat(),
            "model": self.model,
            "version": self.version,
            "what": self.what,
            "tag": self.tag,
            "commit": self.commit,
        }


@dataclass(frozen=True, slots=True)
class Figure:
    """One metric: a one-line ``summary``, its numbers by name (``values``), or ``no_data``
    saying why there is none, and the events it was computed from."""

    key: str
    summary: str
    values: Mapping[str, float | None] = field(default_factory=lambda: MappingProxyType({}))
    no_data: str | None = None
    evidence: tuple[Evidence, ...] = ()

    @property
    def name(self) -> str:
        """The metric's name."""
        return METRICS[self.key][0]

    @property
    def definition(self) -> str:
        """The metric's one-line definition."""
        return METRICS[self.key][1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields: ``values`` null and ``no_data`` set when there is no figure."""
        return {
            "metric": self.key,
            "name": self.name,
            "definition": self.definition,
            "summary": self.summary,
            "no_data": self.no_data,
            "values": dict(self.values) if self.no_data is None else None,
            "evidence": [item.to_dict() for item in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class Insights:
    """Every figure over one window (``since`` None: the history is empty)."""

    since: datetime | None
    until: datetime
    model: str | None
    stage: str
    failure_window_days: float
    figures: tuple[Figure, ...]

    def figure(self, key: str) -> Figure:
        """The figure of metric ``key``."""
        return next(f for f in self.figures if f.key == key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields: the window, the query and every figure."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat(),
            "model": self.model,
            "stage": self.stage,
            "failure_window_days": self.failure_window_days,
            "figures": [figure.to_dict() for figure in self.figures],
        }


@dataclass(frozen=True, slots=True)
class Window:
    """The inclusive span ``[since, until]`` a query covers."""

    since: datetime
    until: datetime

    def __contains__(self, moment: object) -> bool:
        return moment is not None and self.since <= moment <= self.until  # type: ignore[operator]

    @property
    def seconds(self) -> float:
        """How long the window is."""
        return (self.until - self.since).total_seconds()


def seconds(start: datetime, end: datetime) -> float:
    """Seconds from ``start`` to ``end``."""
    return (end - start).total_seconds()


def stats(name: str, samples: Sequence[float]) -> dict[str, float | None]:
    """``NAME_median`` and ``NAME_p90`` (nearest rank) of ``samples`` (None when empty)."""
    if not samples:
        return {f"{name}_median": None, f"{name}_p90": None}
    ordered = sorted(samples)
    rank = math.ceil(0.9 * len(ordered)) - 1
    return {f"{name}_median": statistics.median(ordered), f"{name}_p90": ordered[rank]}


def count(number: int, noun: str) -> str:
    """``1 version``, ``3 versions``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def span(duration: float | None) -> str:
    """A duration for people: ``2d 3h``, ``4h 5m``, ``30s``."""
    if duration is None:
        return "-"
    whole = round(duration)
    days, rest = divmod(abs(whole), DAY_S)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if whole < 0 else ""
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m {secs}s"
    return f"{sign}{secs}s"


def parse_bound(text: str, option: str, *, end: bool) -> datetime:
    """``--since``/``--until`` as an aware datetime: a date alone is the start of that day
    (``end``: its last second), UTC; a time without an offset is UTC.

    >>> parse_bound("2026-03-01", "--since", end=False).isoformat()
    '2026-03-01T00:00:00+00:00'
    >>> parse_bound("2026-03-01", "--until", end=True).isoformat()
    '2026-03-01T23:59:59+00:00'
    """
    from datetime import UTC, date, datetime, time

    from gitml.errors import UsageError

    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        moment = time(23, 59, 59) if end else time(0, 0, 0)
        return datetime.combine(day, moment, tzinfo=UTC)
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: not an ISO 8601 date or time; expected a date like "
            "2026-03-01 or a time like 2026-03-01T12:00:00+02:00"
        ) from None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)
