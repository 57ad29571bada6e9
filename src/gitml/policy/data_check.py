"""The ``data`` gate: does the training data match its declared schema?

A broken data update (a column missing, a wrong type, values out of range, unknown
categories, too many missing values) fails the gate with the offending column named.
"""

from __future__ import annotations

import io
from typing import Any

from gitml.validation import packaged_schema, parse_text, raise_for, schema_problems

MAX_EXAMPLES = 3


def load_data_schema(text: str, file: str) -> dict[str, Any]:
    """Parse and validate a declared data schema."""
    document: Any = parse_text(text, file)
    raise_for(schema_problems(document, packaged_schema("data_schema.schema.json"), file))
    schema: dict[str, Any] = document
    return schema


def check_csv(data: bytes, schema: dict[str, Any], name: str) -> list[str]:
    """Every way the CSV ``data`` breaks ``schema``, one readable line each."""
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"{name}: not a readable CSV ({exc})"]
    problems: list[str] = []
    columns: dict[str, dict[str, Any]] = schema["columns"]
    if len(frame) < schema.get("min_rows", 0):
        problems.append(f"{name}: {len(frame)} rows, fewer than min_rows {schema['min_rows']}")
    for column in columns:
        if column not in frame.columns:
            problems.append(f"column {column!r}: missing from {name}")
    if not schema.get("allow_extra_columns", False):
        for column in frame.columns:
            if column not in columns:
                problems.append(f"column {column!r}: not declared in the data schema")
    for column, rule in columns.items():
        if column in frame.columns:
            problems += _check_column(column, frame[column], rule)
    return problems


def _check_column(column: str, raw: Any, rule: dict[str, Any]) -> list[str]:
    import pandas as pd

    problems = []
    missing = raw.str.strip() == ""
    rate = float(missing.mean()) if len(raw) else 0.0
    limit = rule.get("max_missing_rate")
    if limit is not None and rate > limit:
        problems.append(f"column {column!r}: missing rate {rate:.1%} above {limit:.1%}")
    present = raw[~missing]
    kind = rule["type"]
    if kind in ("integer", "number", "label"):
        numbers = pd.to_numeric(present, errors="coerce")
        bad = present[numbers.isna()]
        if len(bad):
            examples = ", ".join(repr(v) for v in bad.unique()[:MAX_EXAMPLES])
            problems.append(f"column {column!r}: {len(bad)} non-numeric value(s), e.g. {examples}")
        numbers = numbers.dropna()
        if kind in ("integer", "label") and len(numbers) and not (numbers == numbers.round()).all():
            problems.append(f"column {column!r}: expected integers, found fractions")
        if kind == "label" and len(numbers) and not numbers.isin([0, 1]).all():
            problems.append(f"column {column!r}: labels must be 0 or 1")
        if "min" in rule and len(numbers) and numbers.min() < rule["min"]:
            problems.append(
                f"column {column!r}: minimum {numbers.min():g} below the declared {rule['min']:g}"
            )
        if "max" in rule and len(numbers) and numbers.max() > rule["max"]:
            problems.append(
                f"column {column!r}: maximum {numbers.max():g} above the declared {rule['max']:g}"
            )
    elif kind == "category" and "categories" in rule:
        unknown = sorted(set(present.unique()) - set(rule["categories"]))
        if unknown:
            examples = ", ".join(repr(v) for v in unknown[:MAX_EXAMPLES])
            problems.append(f"column {column!r}: unknown categor(ies) {examples}")
    return problems
