"""The order of a search's result: ``--sort FIELD``, its direction, and the default (pure).

``FIELD`` and ``FIELD:asc`` sort ascending; ``FIELD:desc`` and ``-FIELD`` descending
(``--sort=-FIELD`` on the command line: argparse reads ``--sort -FIELD`` as an option).
Either way, versions without the field come last. Without ``--sort``: by model, newest
version first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gitml.errors import UsageError
from gitml.registry.names import version_precedence
from gitml.search.query import field_kind

if TYPE_CHECKING:
    from gitml.search.views import VersionView

ASCENDING, DESCENDING = ":asc", ":desc"
FORMS = "FIELD, FIELD:desc or -FIELD"


@dataclass(frozen=True)
class Order:
    """Sort by ``field`` (``name``: the metric or param name), descending or not."""

    field: str
    name: str
    descending: bool


def parse_sort(text: str | None) -> Order | None:
    """``--sort``'s value as an Order (None: the default order); a UsageError names the
    forms and fields it takes otherwise."""
    if not text:
        return None
    spec, descending = text, False
    if spec.endswith((ASCENDING, DESCENDING)):
        spec, _, direction = spec.rpartition(":")
        descending = direction == "desc"
    if spec.startswith("-"):
        if text != spec:
            raise UsageError(f"--sort {text!r}: give the order once ({FORMS})")
        spec, descending = spec[1:], True
    field, _, name = spec.partition(".")
    try:
        kind = field_kind(field)
    except KeyError:
        kind = ""
    if not kind or kind == "set" or bool(name) != (field in ("metric", "param")):
        raise UsageError(
            f"--sort {text!r}: expected {FORMS}, FIELD one of registered, version, model, "
            "author, description, pr, metric.NAME or param.NAME"
        )
    return Order(field, name, descending)


def descending(sort: str | None) -> str:
    """``--sort`` with ``--desc``: ``sort`` turned descending; a UsageError when there is
    no field to sort by or ``sort`` already says its direction."""
    if not sort:
        raise UsageError(
            "--desc reverses --sort FIELD: give the field (the default order is already by "
            "model, newest version first)"
        )
    if sort.startswith("-") or sort.endswith((ASCENDING, DESCENDING)):
        raise UsageError(f"--desc with --sort {sort!r}: give the order once ({FORMS})")
    return sort + DESCENDING


def ordered(found: list[VersionView], order: Order | None) -> list[VersionView]:
    """``found`` by ``order`` (versions without the value last), else by model, newest
    version first."""
    found.sort(key=lambda v: version_precedence(v.version), reverse=True)
    found.sort(key=lambda v: v.model)
    if order is None:
        return found
    field, name = order.field, order.name

    def key(view: VersionView) -> Any:
        value = view.value(field, name)
        if field == "version":
            return version_precedence(str(value))
        return value if isinstance(value, int | float | datetime) else str(value)

    present = [v for v in found if v.value(field, name) is not None]
    missing = [v for v in found if v.value(field, name) is None]
    try:
        present.sort(key=key, reverse=order.descending)
    except TypeError:  # a param that is a number in one version and text in another
        present.sort(key=lambda v: str(key(v)), reverse=order.descending)
    return present + missing
