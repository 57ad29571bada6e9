"""The query AST and what each comparison means over a version (pure: no git, no I/O).

Every field has a kind that decides which operators and values it takes:

* text (model, author, description): ``=``/``!=`` exact, ``~`` case-insensitive substring;
* version: as text, and ``< <= > >=`` by version precedence (v0.10.0 > v0.9.0);
* number (``metric.NAME``, pr): ``= != < <= > >=``; ``85%`` is 0.85;
* param (``param.NAME``): a number compares as a number, anything else as text;
* set (stage, approver, label, data): ``=`` some member equals, ``~`` some member contains;
  ``stage = ever:production`` asks the stages ever held (up to ``--at``) instead;
* date (registered): a day, month, year, quarter (``2026-Q3``) or range (``A..B``) is a
  period; ``=`` within it, ``<`` before it begins, ``>`` after it ends, ``<=``/``>=`` the same
  with the period included.

``!=`` is always the negation of ``=``, so a version without the field matches ``!=``;
every other comparison on a missing field is false.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from gitml.registry.names import version_precedence

if TYPE_CHECKING:
    from gitml.search.views import VersionView

ORDERING = ("<", "<=", ">", ">=")
OPERATORS = ("=", "!=", "~", *ORDERING)
TEXT_FIELDS = ("model", "author", "description")
SET_FIELDS = ("stage", "approver", "label", "data")
FIELDS = (*TEXT_FIELDS, "version", *SET_FIELDS, "pr", "registered", "metric.NAME", "param.NAME")
# What each kind of field accepts, for "type mismatch" errors.
ALLOWED = {
    "text": ("=", "!=", "~"),
    "set": ("=", "!=", "~"),
    "version": OPERATORS,
    "number": ("=", "!=", *ORDERING),
    "param": OPERATORS,
    "date": ("=", "!=", *ORDERING),
}
EVER = "ever:"


@dataclass(frozen=True)
class Period:
    """A closed span of time, both ends aware (a point in time has start == end)."""

    start: datetime
    end: datetime
    label: str = field(default="", compare=False)  # as the query wrote it: 2026-Q3


@dataclass(frozen=True)
class Compare:
    """``field op value``; ``name`` is the metric or param name; ``ever``: a stage ever held."""

    field: str
    op: str
    value: str | float | Period
    name: str = ""
    ever: bool = False

    def text(self) -> str:
        """The comparison written back in the query language."""
        field = f"{self.field}.{self.name}" if self.name else self.field
        return f"{field} {self.op} {_value_text(self)}"


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]

    def text(self) -> str:
        return " AND ".join(_grouped(p, Or) for p in self.parts)


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]

    def text(self) -> str:
        return " OR ".join(p.text() for p in self.parts)


@dataclass(frozen=True)
class Not:
    part: Expr

    def text(self) -> str:
        return "NOT " + _grouped(self.part, (And, Or))


Expr = Compare | And | Or | Not


def _grouped(expr: Expr, kinds: type | tuple[type, ...]) -> str:
    return f"({expr.text()})" if isinstance(expr, kinds) else expr.text()


def _value_text(compare: Compare) -> str:
    value = compare.value
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    if isinstance(value, Period):
        return _period_text(value)
    text = (EVER if compare.ever else "") + value
    return text if re.fullmatch(r"[^\s()\"'=<>!~]+", text) else f'"{text}"'


def _period_text(period: Period) -> str:
    if period.label:
        return period.label
    start, end = period.start.date().isoformat(), period.end.date().isoformat()
    return start if start == end else f"{start}..{end}"


_KINDS = {
    **dict.fromkeys(TEXT_FIELDS, "text"),
    **dict.fromkeys(SET_FIELDS, "set"),
    "version": "version",
    "pr": "number",
    "metric": "number",
    "param": "param",
    "registered": "date",
}


def field_kind(field: str) -> str:
    """The kind of a known field (``metric``/``param`` by their prefix); KeyError otherwise."""
    return _KINDS[field]


# -- values -----------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"\d{4}")


def parse_number(text: str) -> float | None:
    """``text`` as a number (``85%`` is 0.85), or None when it is not one."""
    if not _NUMBER.fullmatch(text):
        return None
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


def parse_period(text: str) -> Period | None:
    """A day, month, year, quarter, ISO time (a point) or ``A..B`` range; None otherwise."""
    if ".." in text:
        first, _, last = text.partition("..")
        start, end = parse_period(first), parse_period(last)
        if start is None or end is None or end.end < start.start:
            return None
        return Period(start.start, end.end)
    if found := _QUARTER.fullmatch(text):
        year, quarter = int(found[1]), int(found[2])
        days = _days(date(year, 3 * quarter - 2, 1), _month_after(year, 3 * quarter))
        return Period(days.start, days.end, f"{year}-Q{quarter}")
    if found := _MONTH.fullmatch(text):
        year, month = int(found[1]), int(found[2])
        if not 1 <= month <= 12:
            return None
        return _days(date(year, month, 1), _month_after(year, month))
    if _YEAR.fullmatch(text):
        return _days(date(int(text), 1, 1), date(int(text) + 1, 1, 1))
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return _days(day, day + timedelta(days=1))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return Period(moment, moment)


def _month_after(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def _days(first: date, after: date) -> Period:
    """Whole UTC days from ``first`` up to (not including) ``after``; tags carry seconds."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(after.year, after.month, after.day, tzinfo=UTC) - timedelta(seconds=1)
    return Period(start, end)


# -- evaluation --------------------------------------------------------------------------


def matches(expr: Expr, view: VersionView) -> bool:
    """Whether ``view`` satisfies ``expr``."""
    if isinstance(expr, And):
        return all(matches(p, view) for p in expr.parts)
    if isinstance(expr, Or):
        return any(matches(p, view) for p in expr.parts)
    if isinstance(expr, Not):
        return not matches(expr.part, view)
    if expr.op == "!=":
        return not _compare(Compare(expr.field, "=", expr.value, expr.name, expr.ever), view)
    return _compare(expr, view)


def _compare(c: Compare, view: VersionView) -> bool:
    kind = _KINDS[c.field]
    if kind == "set":
        wanted = str(c.value)
        return any(_text_op(c.op, m, wanted) for m in view.members(c.field, ever=c.ever))
    actual = view.value(c.field, c.name)
    if actual is None:
        return False
    if kind == "date":
        assert isinstance(actual, datetime)
        assert isinstance(c.value, Period)
        return _date_op(c.op, actual, c.value)
    if kind == "version" and c.op in ORDERING:
        return _order(c.op, version_precedence(str(actual)), version_precedence(str(c.value)))
    if isinstance(c.value, float):
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        return _order(c.op, float(actual), c.value) if c.op != "=" else actual == c.value
    if c.op in ORDERING:
        return _order(c.op, str(actual), str(c.value))
    return _text_op(c.op, str(actual), str(c.value))


def _text_op(op: str, actual: str, wanted: str) -> bool:
    if op == "~":
        return wanted.casefold() in actual.casefold()
    return actual == wanted


def _order(op: str, left: object, right: object) -> bool:
    # Only values of one type reach here (numbers, texts or version precedences).
    if op == "<":
        return left < right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    if op == ">":
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]


def _date_op(op: str, moment: datetime, period: Period) -> bool:
    if op == "=":
        return period.start <= moment <= period.end
    if op == "<":
        return moment < period.start
    if op == "<=":
        return moment <= period.end
    if op == ">":
        return moment > period.end
    return moment >= period.start


def fields_used(expr: Expr) -> set[tuple[str, str]]:
    """Every ``(field, name)`` the query reads (to read only those files at each commit)."""
    if isinstance(expr, Compare):
        return {(expr.field, expr.name)}
    if isinstance(expr, Not):
        return fields_used(expr.part)
    return set().union(*(fields_used(p) for p in expr.parts))
