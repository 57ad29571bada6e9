"""Kubernetes resource quantities (``500m``, ``1``, ``512Mi``, ``1e3``), parsed as the API
server parses them, so a value it would refuse is refused here first, naming the key.

The grammar is the one of ``k8s.io/apimachinery/pkg/api/resource.Quantity``: a decimal
number, then one suffix — binary SI (``Ki`` … ``Ei``), decimal SI (``n u m k M G T P E``)
or a decimal exponent (``e3``, ``E-2``). Resource requests and limits must also not be
negative, and a request may not exceed its limit.
"""

from __future__ import annotations

import re
from decimal import Decimal

_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(text: str) -> Decimal | None:
    """The value ``text`` stands for, or None when Kubernetes would not parse it."""
    match = _QUANTITY.fullmatch(text)
    if match is None:
        return None
    number = Decimal(match["number"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * (Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    if suffix:
        return number.scaleb(int(suffix[1:]))
    return number


def quantity_text(raw: object) -> str | None:
    """A YAML value as the quantity string to render (``1`` → ``"1"``), or None when it is
    not a non-negative quantity (booleans and negative values included)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    text = raw if isinstance(raw, str) else format(raw, "g") if isinstance(raw, float) else str(raw)
    value = parse_quantity(text)
    if value is None or value < 0:
        return None
    return text
