"""Plot data files as records, the way DVC reads them: JSON, YAML, CSV and TSV.

A data series is a list of records (``[{"fpr": 0.1, "tpr": 0.4}, ...]``). JSON and YAML
files hold one directly or inside a mapping (DVCLive writes ``{"roc": [...]}``); as in
DVC, the record lists found in a mapping's values (nested mappings included) are merged
record by record. CSV and TSV files are a header row of field names, then one record a
row (``header: false`` in dvc.yaml names the columns ``0``, ``1``, ...).

The files come from the pull request, so reading is bounded: at most :data:`MAX_BYTES`
of text and :data:`MAX_POINTS` records a file, and JSON at most :data:`MAX_JSON_VALUES`
values, each checked before anything is built. A file is kept as a :class:`Table` of
only the columns its plots use, not as records (a record costs ~250 bytes, a cell in a
column 8 plus its value). What cannot be read raises :class:`PlotDataError`, whose
message the report shows as a note on the plot.
"""

from __future__ import annotations

import csv
import io
import json
import math
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.documents import MAX_JSON_CHARS, parse_text
from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

# A DVCLive precision-recall file has up to one point per evaluated row, and a confusion
# file one record per row: 200,000 records cover a test set of that size.
MAX_POINTS = 200_000
# DVCLive writes JSON indented by 4: 200,000 three-field records take ~28 MB.
MAX_BYTES = 2 * MAX_JSON_CHARS
# 200,000 records of five fields; every value but the first follows a comma, so the
# comma count bounds the values before the parser builds any of them.
MAX_JSON_VALUES = 1_000_000
# Mappings nested deeper than this hold no plot data DVC would find useful.
MAX_NESTING = 8


class PlotDataError(Exception):
    """A plot data file that cannot be read; ``str()`` is one line for a note."""


@dataclass(frozen=True)
class Table:
    """A data file's records as columns: ``columns[field][i]`` is record i's value (None
    where the record lacks the field). ``fields`` are the first record's fields, in order
    (DVC takes a plot's default y from the last)."""

    fields: tuple[str, ...]
    columns: dict[str, list[Any]]
    rows: int


def number(value: Any) -> float | None:
    """A finite number from a JSON/YAML number or a CSV cell; None when there is none."""
    kind = type(value)  # exact types: a bool is no number here, and this runs per point
    if kind is float or kind is int:
        result = float(value)
    elif kind is str:
        try:
            result = float(value)
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def category(value: Any) -> str:
    """A confusion-matrix class as text: DVCLive writes strings, other writers numbers."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _too_many() -> PlotDataError:
    return PlotDataError(f"more than {MAX_POINTS:,} records (gitml reads at most that many)")


def _delimited(text: str, delimiter: str, header: bool, wanted: Collection[str]) -> Table:
    """CSV/TSV straight into columns: no record is ever built."""
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        first = next(rows, None)
        if first is None:
            return Table((), {}, 0)
        names = tuple(first) if header else tuple(str(i) for i in range(len(first)))
        keep = {name: index for index, name in enumerate(names) if name in wanted}
        if names:
            keep.setdefault(names[-1], len(names) - 1)
        columns: dict[str, list[Any]] = {name: [] for name in keep}
        count = 0
        for row in rows if header else _prepend(first, rows):
            if not row:
                continue  # a blank line, as csv.DictReader skips it
            if count == MAX_POINTS:
                raise _too_many()
            count += 1
            for name, index in keep.items():
                columns[name].append(row[index] if index < len(row) else None)
    except csv.Error as exc:
        raise PlotDataError(f"not valid CSV/TSV: {exc}") from None
    return Table(names, columns, count)


def _prepend(first: list[str], rows: Iterable[list[str]]) -> Iterable[list[str]]:
    yield first
    yield from rows


def _json(text: str) -> Any:
    if text.count(",") > MAX_JSON_VALUES:
        raise PlotDataError(f"more than {MAX_JSON_VALUES:,} values")
    if text.count("{") + text.count("[") > MAX_POINTS + MAX_NESTING:
        raise _too_many()
    try:
        return json.loads(text)
    except RecursionError:
        raise PlotDataError("nested too deeply") from None
    except ValueError as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise PlotDataError(f"not valid JSON{where}") from None


def _record_lists(document: dict[str, Any], depth: int = 0) -> list[list[dict[str, Any]]]:
    """The lists of records among a mapping's values, nested mappings included."""
    found = []
    for value in document.values():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            found.append(value)
        elif isinstance(value, dict) and depth < MAX_NESTING:
            found += _record_lists(value, depth + 1)
    return found


def _records_of(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, list):
        if not all(isinstance(item, dict) for item in document):
            raise PlotDataError("expected a list of records (mappings of field to value)")
        return document
    if not isinstance(document, dict):
        raise PlotDataError("expected a list of records, or a mapping holding one")
    lists = _record_lists(document)
    if not lists:
        raise PlotDataError("no list of records in it")
    if len(lists) == 1:
        return lists[0]
    merged: list[dict[str, Any]] = []
    for records in lists:  # as DVC: the i-th records of every list form one record
        for index, record in enumerate(records):
            if index == len(merged):
                merged.append({})
            merged[index].update(record)
    return merged


def _table(found: list[dict[str, Any]], wanted: Collection[str]) -> Table:
    fields = tuple(str(name) for name in found[0]) if found else ()
    keep = set(wanted) | ({fields[-1]} if fields else set())
    columns = {name: [record.get(name) for record in found] for name in keep}
    return Table(fields, columns, len(found))


def read_table(data: bytes, file: str, header: bool, wanted: Collection[str]) -> Table:
    """The ``wanted`` columns (and the last field's) of the plot data file ``file``, whose
    suffix says its format; ``header`` is false for a CSV/TSV without a header row."""
    if len(data) > MAX_BYTES:
        raise PlotDataError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PlotDataError("not UTF-8 text") from None
    suffix = posixpath.splitext(file)[1].lower()
    if suffix in (".csv", ".tsv"):
        return _delimited(text, "\t" if suffix == ".tsv" else ",", header, wanted)
    if suffix == ".json":
        document = _json(text)
    else:
        try:
            document = parse_text(text, file)
        except ConfigError as exc:
            # The message starts with the file name, which the note shows already.
            raise PlotDataError(str(exc).removeprefix(f"{file}: ")) from None
    found = _records_of(document)
    if len(found) > MAX_POINTS:
        raise _too_many()
    return _table(found, wanted)
