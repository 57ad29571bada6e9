"""Request bodies → validated feature columns, checked against the model's signature.

The rules (what a ``POST /predict`` record may hold):

* every feature of the signature, by name; a feature may be left out only when it is
  ``nullable`` (it is then missing, as ``null`` is);
* no other field, except the signature's target column (so evaluation rows can be
  posted as they are) and a canary's routing key field (``--canary-key field:NAME``):
  a typo in a nullable feature's name would otherwise turn into a silently missing
  value;
* ``integer`` features take integral numbers (``35`` or ``35.0``), ``number`` features
  any finite number, ``category`` features strings; in JSON a number must be a JSON
  number (``"35"`` is refused), in CSV every cell is text and is parsed; "finite" means
  a float64 holds it, so an integer like ``10**400`` is refused like ``1e400``;
* missing (``null``, an absent nullable field, an empty string, or in CSV one of
  pandas' default NA tokens) only where the feature is ``nullable``;
* values outside the training range and categories never seen in training are
  accepted: the model handles them (unseen categories become missing), and the server
  counts them per feature in ``/metrics``, which is where drift shows first.

Every violation of every record is collected, so one 422 response lists them all.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitml.serve.logbounds import truncate

if TYPE_CHECKING:
    import pandas as pd

    from gitml.signature import Feature, Signature

__all__ = [
    "BadRequest",
    "FieldError",
    "InvalidRecords",
    "ValidBatch",
    "build_frame",
    "parse_csv",
    "parse_json",
    "validate_records",
]

# pandas' default NA tokens (``keep_default_na=True``), which is how the example
# pipeline reads its CSV files: a cell the pipeline would have read as missing is
# missing here too.
CSV_MISSING = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
# float() of an int overflows from here on: 2**1024 - 2**970 lies halfway between the
# largest float64 and 2**1024, and rounds (half to even) up to 2**1024. Every int
# strictly inside (-_FLOAT_OVERFLOW, _FLOAT_OVERFLOW) becomes a finite float64.
_FLOAT_OVERFLOW = 2**1024 - 2**970
# A 422 body with a million entries helps nobody and costs memory; the first ones show
# the pattern.
MAX_REPORTED_ERRORS = 100
_MAX_VALUE_CHARS = 40


@dataclass(frozen=True)
class FieldError:
    """One problem: which record (0-based, None for the body), which field, what is wrong."""

    record: int | None
    field: str | None
    error: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form used in ``{"detail": [...]}``."""
        return {"record": self.record, "field": self.field, "error": self.error}


class BadRequest(Exception):
    """The body cannot be read as records at all (not JSON/CSV, wrong top-level shape)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRecords(Exception):
    """Records that violate the signature; ``errors`` lists each bad field."""

    def __init__(self, errors: list[FieldError], total: int):
        super().__init__(f"{total} invalid field(s)")
        self.errors = errors
        self.total = total

    def detail(self) -> list[dict[str, Any]]:
        """The ``detail`` list of the 422 body (capped, with a note when cut)."""
        out = [e.as_dict() for e in self.errors]
        if self.total > len(self.errors):
            more = self.total - len(self.errors)
            out.append(FieldError(None, None, f"... and {more} more").as_dict())
        return out


@dataclass
class ValidBatch:
    """Validated records, column by column in signature order, plus what was unusual.

    ``columns`` holds plain Python values: ``int``/``float`` for numeric features,
    ``str`` for categories, ``None`` for missing. ``out_of_range`` and ``unseen`` count
    values per feature outside the training range / category set.
    """

    count: int
    columns: dict[str, list[Any]]
    out_of_range: Counter[str] = field(default_factory=Counter)
    unseen: Counter[str] = field(default_factory=Counter)

    def record(self, index: int) -> dict[str, Any]:
        """The features of one record (what the prediction log writes)."""
        return {name: values[index] for name, values in self.columns.items()}


class LongInteger:
    """A JSON integer with more digits than Python converts from text (4300 by default,
    ``sys.get_int_max_str_digits``), kept as its text: far beyond float64, so validation
    refuses it as it refuses ``10**400``, naming the field."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _int_or_long(text: str) -> int | LongInteger:
    try:
        return int(text)
    except ValueError:
        return LongInteger(text)


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"invalid JSON: {exc}") from None
    except ValueError:
        # Well-formed JSON whose integer has too many digits for int(): parse again,
        # keeping such integers as text (only then, so the common case keeps json's
        # C fast path for integers). Nothing else raises a plain ValueError here.
        pass
    try:
        return json.loads(body, parse_int=_int_or_long)
    except ValueError as exc:
        raise BadRequest(f"invalid JSON: {exc}") from None


def parse_json(body: bytes) -> list[Any]:
    """Records of a JSON body: one object, ``{"records": [...]}`` or a JSON array."""
    try:
        document = _loads(body)
    except RecursionError:  # "[[[[..." nested deeper than the parser's stack
        raise BadRequest("invalid JSON: nested too deeply") from None
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        records = document.get("records")
        if isinstance(records, list) and len(document) == 1:
            return records
        if "records" in document and len(document) == 1:
            raise BadRequest('"records" must be a JSON array of objects')
        return [document]
    raise BadRequest(
        f'expected a JSON object, an array of objects or {{"records": [...]}}, '
        f"got {type(document).__name__}"
    )


def parse_csv(body: bytes) -> list[dict[str, Any]]:
    """Rows of a CSV body with a header line, as ``{column: text}`` per row.

    A row with more cells than the header gets the extras under ``None`` (csv's own
    convention), which validation reports; a short row leaves columns absent.
    """
    try:
        text = body.decode("utf-8-sig")  # tolerate the BOM spreadsheet tools write
    except UnicodeDecodeError as exc:
        raise BadRequest(f"CSV is not UTF-8: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        rows: list[dict[str, Any]] = []
        for row in reader:
            if None in row:
                row["(extra cells)"] = row.pop(None)  # type: ignore[call-overload]
            # DictReader fills short rows with None; absent is what those cells are.
            rows.append({k: v for k, v in row.items() if v is not None})
    except csv.Error as exc:
        raise BadRequest(f"invalid CSV at line {reader.line_num}: {exc}") from None
    if reader.fieldnames is None:
        raise BadRequest("CSV body has no header line")
    return rows


def _show(value: Any) -> str:
    """A value as the error message quotes it, cut to a readable length."""
    text = repr(value) if isinstance(value, str | LongInteger) else json.dumps(value, default=repr)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _json_kind(value: Any) -> str:
    """A parsed JSON value as an error message shows it: ``'abc'``, ``true``, ``an object``."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return _show(value)


def _number(feature: Feature, value: Any, from_text: bool) -> tuple[Any, str | None]:
    """``(parsed value, error)`` of a numeric feature's non-missing value."""
    if from_text and isinstance(value, str):
        try:
            number: float | int = int(value) if feature.type == "integer" else float(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None, f"expected a number, got {_show(value)}"
    elif isinstance(value, LongInteger):
        return None, f"expected a finite number, got {_show(value)}"
    elif isinstance(value, bool) or not isinstance(value, int | float):
        # bool is an int in Python, but true/false is never a credit-line count.
        return None, f"expected a number, got {_json_kind(value)}"
    else:
        number = value
    if isinstance(number, int):
        # The model reads float64: an int it cannot hold would overflow in scoring.
        if not -_FLOAT_OVERFLOW < number < _FLOAT_OVERFLOW:
            return None, f"expected a finite number, got {_show(value)}"
    elif isinstance(number, float):
        if not math.isfinite(number):
            return None, f"expected a finite number, got {_show(value)}"
        if feature.type == "integer":
            if not number.is_integer():
                return None, f"expected an integer, got {_show(value)}"
            number = int(number)
    return number, None


def _check(feature: Feature, value: Any, from_text: bool) -> tuple[Any, str | None]:
    """``(parsed value, error)`` of one present field (None is a missing value)."""
    # An empty string is a missing category (as in feature_frame); in JSON it is not a
    # missing number but a wrong type, while in CSV every empty cell is missing.
    missing = (
        value is None
        or (from_text and value in CSV_MISSING)
        or (feature.type == "category" and value == "")
    )
    if missing:
        if feature.nullable:
            return None, None
        return None, "missing value: this feature is not nullable"
    if feature.type == "category":
        if not isinstance(value, str):
            return None, f"expected a string (category), got {_json_kind(value)}"
        return value, None
    return _number(feature, value, from_text)


_ABSENT = object()
# (record index, position of the field in the signature, error): unknown fields and
# non-object records sort before a record's features.
_Problem = tuple[int, int, FieldError]


def _column(
    feature: Feature,
    position: int,
    records: list[Any],
    from_text: bool,
    batch: ValidBatch,
    problems: list[_Problem],
) -> list[Any]:
    """Validate one feature across all records, column-wise.

    Well-typed JSON values (an int, a finite float, a non-empty string) take a fast
    path; everything else goes through :func:`_check`, which has the full rules.
    """
    name = feature.name
    is_category = feature.type == "category"
    is_integer = feature.type == "integer"
    categories = frozenset(feature.categories) if feature.categories is not None else None
    low, high = feature.min, feature.max
    fast = not from_text
    values: list[Any] = []
    append = values.append
    unusual = 0  # out of range, or an unseen category
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            append(None)  # already reported; the batch is rejected
            continue
        value = record.get(name, _ABSENT)
        kind = type(value)
        if fast and is_category and kind is str and value:
            parsed: Any = value
        elif (
            fast and not is_category and kind is int and -_FLOAT_OVERFLOW < value < _FLOAT_OVERFLOW
        ):
            parsed = value
        elif (
            fast
            and not is_category
            and kind is float
            and math.isfinite(value)
            and (not is_integer or value.is_integer())
        ):
            parsed = int(value) if is_integer else value
        elif value is _ABSENT:
            if not feature.nullable:
                problems.append((index, position, FieldError(index, name, "missing field")))
            append(None)
            continue
        else:
            parsed, error = _check(feature, value, from_text)
            if error is not None:
                problems.append((index, position, FieldError(index, name, error)))
        append(parsed)
        if parsed is None:
            continue
        if is_category:
            if categories is not None and parsed not in categories:
                unusual += 1
        elif (low is not None and parsed < low) or (high is not None and parsed > high):
            unusual += 1
    if unusual:
        counter = batch.unseen if is_category else batch.out_of_range
        counter[name] += unusual
    return values


def validate_records(
    signature: Signature,
    records: list[Any],
    *,
    from_text: bool = False,
    also_allowed: frozenset[str] = frozenset(),
) -> ValidBatch:
    """Check every record against ``signature``; raise InvalidRecords listing every problem.

    ``from_text`` says the values are CSV cells (strings to parse) rather than JSON values.
    ``also_allowed`` names fields besides the target that may be sent and are not read
    (a canary's routing key). Problems are listed by record, then in signature order
    (unknown fields first).
    """
    allowed = {f.name for f in signature.features} | {signature.target} | also_allowed
    problems: list[_Problem] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            error = FieldError(index, None, f"expected a JSON object, got {_json_kind(record)}")
            problems.append((index, -1, error))
        elif not allowed.issuperset(record):
            for name in record:
                if name not in allowed:
                    message = f"unknown field: not a feature of {signature.name}"
                    # The client's text, echoed in the 422 and a /metrics label: bounded.
                    shown = truncate(str(name))
                    problems.append((index, -1, FieldError(index, shown, message)))
    batch = ValidBatch(count=len(records), columns={})
    for position, feature in enumerate(signature.features):
        batch.columns[feature.name] = _column(
            feature, position, records, from_text, batch, problems
        )
    if problems:
        problems.sort(key=lambda problem: (problem[0], problem[1]))  # stable: keeps key order
        errors = [error for _, _, error in problems[:MAX_REPORTED_ERRORS]]
        raise InvalidRecords(errors, len(problems))
    return batch


def build_frame(signature: Signature, batch: ValidBatch) -> pd.DataFrame:
    """The model's input frame: numbers as float64, categories as strings, NaN = missing.

    The same dtypes :func:`gitml.signature.feature_frame` gives for training data, so
    a record scores exactly as the same row of a CSV file would.
    """
    import numpy as np
    import pandas as pd

    nan = float("nan")
    data: dict[str, Any] = {}
    for feature in signature.features:
        values = batch.columns[feature.name]
        if feature.type == "category":
            data[feature.name] = np.array([nan if v is None else v for v in values], dtype=object)
        else:
            data[feature.name] = np.array(
                [nan if v is None else v for v in values], dtype=np.float64
            )
    return pd.DataFrame(data, copy=False)
