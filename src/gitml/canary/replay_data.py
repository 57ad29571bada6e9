"""The rows a canary replay sends through the analysis: a prediction log or a batch.

* A prediction log of ``gitml serve`` (``.jsonl``/``.ndjson``, optionally ``.gz``): one
  object per line with a ``features`` object; ``id`` (the prediction id), ``label``
  (0/1) and ``ts`` (ISO 8601) are read when present, and the labels of the feedback log
  beside it (``predictions.feedback.jsonl``, ``{"id", "label"}`` lines written by
  ``POST /feedback``) are joined in by id. Lines of ``role`` ``shadow`` are left out: a
  shadow scored a request another line already holds. The logged ``score`` and
  ``version`` are not read: both versions score every row again.
* A batch (CSV or Parquet): one column per feature; a ``label`` column (else the
  signature's target column) holds 0/1 labels, empty where unknown; ``id`` and ``ts``
  columns are read when present.

A row without an id gets ``row-<n>``. Labels must be 0 or 1; anything else is a one-line
ConfigError naming the file and the line or row.
"""

from __future__ import annotations

import gzip
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from gitml.errors import ConfigError
from gitml.monitor.batchfile import batch_format, log_entry, read_batch
from gitml.monitor.columns import check_columns

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from gitml.signature import Signature

LABEL_COLUMN = "label"


@dataclass(frozen=True)
class ReplayRows:
    """The rows in order: their columns, prediction ids, labels (NaN: none) and times
    (Unix seconds; None when the data carries none)."""

    frame: pd.DataFrame
    ids: list[str]
    labels: np.ndarray
    times: np.ndarray | None
    kind: str  # "prediction log" | "batch"
    unknown_feedback: int = 0  # feedback-log labels for ids the log does not hold

    def __len__(self) -> int:
        return len(self.ids)


def _refuse(name: str, where: str, message: str) -> NoReturn:
    raise ConfigError(f"{name}: {where}: {message}", [(name, where, message)])


_CELL_LABELS = {"": math.nan, "0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0}


def _label(value: Any, name: str, where: str, cells: bool = False) -> float:
    """A 0/1 label, NaN for none; a CSV cell (``cells``) may spell one as text."""
    if cells and isinstance(value, str) and value.strip() in _CELL_LABELS:
        return _CELL_LABELS[value.strip()]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if value is True or value is False:
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return float(value)
    _refuse(name, where, f"label {value!r}: expected 0 or 1")


def _time(value: Any, name: str, where: str) -> float:
    if not isinstance(value, str):
        _refuse(name, where, f"ts {value!r}: expected an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _refuse(name, where, f"ts {value!r}: expected an ISO 8601 time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the server writes UTC
    return moment.timestamp()


def read_replay_rows(path: Path, signature: Signature) -> ReplayRows:
    """Read ``path`` (a prediction log or a batch) for a replay against ``signature``."""
    name = str(path)
    fmt, compressed = batch_format(path, name)
    if fmt == "jsonl":
        rows = _read_log(path, name, compressed)
    else:
        rows = _read_batch(path, name, signature)
    check_columns([str(c) for c in rows.frame.columns], len(rows), signature, name)
    return rows


def _read_log(path: Path, name: str, compressed: bool) -> ReplayRows:
    import pandas as pd

    raw = path.read_bytes()
    try:
        text = (gzip.decompress(raw) if compressed else raw).decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise ConfigError(f"{name}: cannot read: {exc}", [(name, "", str(exc))]) from None
    records: list[dict[str, Any]] = []
    ids: list[str] = []
    labels: list[float] = []
    times: list[float] = []
    for number, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        entry = log_entry(name, number, line)
        if entry.get("role") == "shadow":
            continue
        given = entry.get("id")
        if given is not None and (not isinstance(given, str) or not given):
            _refuse(name, where, f"id {given!r}: expected a non-empty string")
        records.append(entry["features"])
        ids.append(given or f"row-{len(ids) + 1}")
        labels.append(_label(entry.get("label"), name, where))
        if "ts" in entry:
            times.append(_time(entry["ts"], name, where))
    if not records:
        raise ConfigError(f"{name}: no rows", [(name, "", "no rows")])
    unknown = _join_feedback(path, ids, labels)
    has_times = len(times) == len(records)
    return ReplayRows(
        pd.DataFrame.from_records(records),
        ids,
        np.asarray(labels, dtype=float),
        np.asarray(times, dtype=float) if has_times else None,
        "prediction log",
        unknown,
    )


def _join_feedback(path: Path, ids: list[str], labels: list[float]) -> int:
    """Fill ``labels`` from the feedback log beside the prediction log (when there is
    one); returns how many of its labels name an id the log does not hold."""
    from gitml.serve.prediction_log import feedback_path

    feedback = feedback_path(path)
    if not feedback.is_file():
        return 0
    name = str(feedback)
    row_of = {prediction_id: i for i, prediction_id in enumerate(ids)}
    unknown = 0
    for number, line in enumerate(feedback.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            _refuse(name, f"line {number}", f"not valid JSON: {exc}")
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            _refuse(name, f"line {number}", 'expected an object with an "id" string')
        row = row_of.get(entry["id"])
        if row is None:
            unknown += 1
        else:
            labels[row] = _label(entry.get("label"), name, f"line {number}")
    return unknown


def _read_batch(path: Path, name: str, signature: Signature) -> ReplayRows:
    frame = read_batch(path)
    label_column = next((c for c in (LABEL_COLUMN, signature.target) if c in frame.columns), None)
    labels = np.full(len(frame), math.nan)
    if label_column is not None:
        values = frame[label_column].tolist()
        labels = np.asarray(
            [_label(v, name, f"row {i + 1}", cells=True) for i, v in enumerate(values)],
            dtype=float,
        )
    if "id" in frame.columns:
        ids = [
            f"row-{i + 1}" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            for i, v in enumerate(frame["id"].tolist())
        ]
    else:
        ids = [f"row-{i + 1}" for i in range(len(frame))]
    times = None
    if "ts" in frame.columns:
        times = np.asarray(
            [_time(v, name, f"row {i + 1}") for i, v in enumerate(frame["ts"].tolist())]
        )
    return ReplayRows(frame, ids, labels, times, "batch")
