"""The ``data`` gate: does the training data match its declared schema?

A broken data update (a column missing, a wrong type, values out of range, unknown
categories, too many missing values) fails the gate with the offending column named.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from gitml.documents import packaged_schema, parse_text, raise_for, schema_problems

MAX_EXAMPLES = 3


def load_data_schema(text: str, file: str) -> dict[str, Any]:
    """Parse and validate a declared data schema."""
    document: Any = parse_text(text, file)
    raise_for(schema_problems(document, packaged_schema("data_schema.schema.json"), file))
    schema: dict[str, Any] = document
    return schema


def check_csv(data: bytes, schema: dict[str, Any], name: str) -> list[str]:
    """Every way the CSV ``data`` breaks ``schema``, one readable line each.

    Plain ``csv`` and ``float``: the gate runs inside ``gitml report`` and ``gitml check``,
    whose start-up must not pay for importing pandas.
    """
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        return [f"{name}: not a readable CSV ({exc})"]
    if not rows:
        return [f"{name}: empty file"]
    header, body = rows[0], rows[1:]
    ragged = next((n for n, row in enumerate(body, 2) if len(row) != len(header)), None)
    if ragged is not None:
        return [f"{name}: line {ragged} has a different number of fields than the header"]
    problems: list[str] = []
    columns: dict[str, dict[str, Any]] = schema["columns"]
    if len(body) < schema.get("min_rows", 0):
        problems.append(f"{name}: {len(body)} rows, fewer than min_rows {schema['min_rows']}")
    for column in columns:
        if column not in header:
            problems.append(f"column {column!r}: missing from {name}")
    if not schema.get("allow_extra_columns", False):
        for column in header:
            if column not in columns:
                problems.append(f"column {column!r}: not declared in the data schema")
    for column, rule in columns.items():
        if column in header:
            at = header.index(column)
            problems += _check_column(column, [row[at] for row in body], rule)
    return problems


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check_column(column: str, raw: list[str], rule: dict[str, Any]) -> list[str]:
    problems = []
    present = [value for value in raw if value.strip()]
    rate = (len(raw) - len(present)) / len(raw) if raw else 0.0
    limit = rule.get("max_missing_rate")
    if limit is not None and rate > limit:
        problems.append(f"column {column!r}: missing rate {rate:.1%} above {limit:.1%}")
    kind = rule["type"]
    if kind in ("integer", "number", "label"):
        parsed = [(value, _number(value)) for value in present]
        bad = list(dict.fromkeys(value for value, number in parsed if number is None))
        if bad:
            count = sum(1 for _, number in parsed if number is None)
            examples = ", ".join(repr(v) for v in bad[:MAX_EXAMPLES])
            problems.append(f"column {column!r}: {count} non-numeric value(s), e.g. {examples}")
        numbers = [number for _, number in parsed if number is not None]
        if kind in ("integer", "label") and any(n != round(n) for n in numbers):
            problems.append(f"column {column!r}: expected integers, found fractions")
        if kind == "label" and any(n not in (0, 1) for n in numbers):
            problems.append(f"column {column!r}: labels must be 0 or 1")
        if "min" in rule and numbers and min(numbers) < rule["min"]:
            problems.append(
                f"column {column!r}: minimum {min(numbers):g} below the declared {rule['min']:g}"
            )
        if "max" in rule and numbers and max(numbers) > rule["max"]:
            problems.append(
                f"column {column!r}: maximum {max(numbers):g} above the declared {rule['max']:g}"
            )
    elif kind == "category" and "categories" in rule:
        unknown = sorted(set(present) - set(rule["categories"]))
        if unknown:
            examples = ", ".join(repr(v) for v in unknown[:MAX_EXAMPLES])
            problems.append(f"column {column!r}: unknown categor(ies) {examples}")
    return problems
